/** A start-up error in the module's configuration. Its message never contains a token. */
export class DaprAuthConfigError extends Error {
  constructor(problem: string) {
    super(`DaprAuthModule: ${problem}`);
    this.name = 'DaprAuthConfigError';
  }
}
