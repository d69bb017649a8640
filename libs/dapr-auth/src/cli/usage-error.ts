/**
 * A usage or input error of the token tool: printed as one line on stderr, exit code 2. Its
 * message never holds an argument the tool did not expect, nor any part of a token.
 */
export class UsageError extends Error {}
