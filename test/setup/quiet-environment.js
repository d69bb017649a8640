// The test environment of every suite: Node's, plus this. What a test prints (Nest's start-up and
// rejection logs, above all) is captured by test/setup/no-token-leaks.ts instead of shown, and
// shown here only for a test that failed, so `npm test` stays short. TEST_LOGS=1 shows everything
// as it happens.
import { TestEnvironment } from 'jest-environment-node';

/** Shortest slice of a secret that counts as a leak (test/support/secrets.ts). */
const LEAK_SLICE_LENGTH = 8;

function containsSecret(text, secrets) {
  for (const secret of secrets) {
    if (
      secret.length < LEAK_SLICE_LENGTH
        ? text.includes(secret)
        : [...Array(secret.length - LEAK_SLICE_LENGTH + 1).keys()].some((i) => text.includes(secret.slice(i, i + LEAK_SLICE_LENGTH)))
    ) {
      return true;
    }
  }
  return false;
}

export default class QuietEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    // Taken now, before this file's setup replaces process.stderr.write with the capturing one.
    this.print = process.stderr.write.bind(process.stderr);
  }

  async handleTestEvent(event, state) {
    await super.handleTestEvent?.(event, state);
    if (event.name !== 'test_done' || event.test.errors.length === 0 || process.env.TEST_LOGS === '1') return;
    const output = (this.global.__daprAuthOutput ?? []).join('');
    if (output.trim() === '') return;
    const name = [];
    for (let block = event.test; block && block.name !== 'ROOT_DESCRIBE_BLOCK'; block = block.parent) name.unshift(block.name);
    const secrets = this.global.__daprAuthSecrets ?? new Set();
    const body = containsSecret(output, secrets) ? '(withheld: it contains a token; the test reports where)\n' : output;
    this.print(`\n---- output of the failed test "${name.join(' › ')}" ----\n${body}---- end of output ----\n`);
  }
}
