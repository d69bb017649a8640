/**
 * What to say about arguments `util.parseArgs` refused. Node's own messages quote the argument,
 * and an unexpected one may be a token typed as `--<token>` or pasted as a positional argument:
 * only the names of the command's own options (and of the secret-looking options below) are ever
 * printed, never the argument itself.
 */

/** Options people try for a secret: named in the answer, since they are ours, not the argument. */
const SECRET_ARGUMENTS: readonly string[] = ['--secret', '--key', '--token', '--public-key'];

/**
 * One line about a `parseArgs` error.
 *
 * @param error what `parseArgs` threw
 * @param known the command's own option names, without `--`
 */
export function describeArgumentError(error: unknown, known: readonly string[]): string {
  const { code, message } = error as { code?: string; message?: string };
  const quoted = /^(?:Unknown option|Option) '(-[^' ]*)/.exec(message ?? '')?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return 'this command takes no positional arguments: a token, key or secret is given with a -file or -env option (or a token on standard input), never as an argument.';
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const secretLike = SECRET_ARGUMENTS.find((name) => name === quoted);
      if (secretLike !== undefined) {
        return `${secretLike} is not an option: secrets, keys and tokens are never taken as arguments (they would land in shell history): use the -file or -env form.`;
      }
      return 'unknown option (not shown: an argument the command does not expect is never printed, it may be a token). See --help for the options.';
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = known.find((name) => `--${name}` === quoted);
      if (option === undefined) break;
      if (/argument missing/.test(message ?? '')) return `--${option} needs a value.`;
      if (/does not take an argument/.test(message ?? '')) return `--${option} takes no value.`;
      return `--${option} is followed by another option instead of its value (write a value that starts with '-' as --${option}=-value).`;
    }
  }
  return 'invalid arguments (not shown). See --help for the options.';
}
