import { registerSecret } from './secrets.js';

/** The token the test apps accept (43 characters, like a generated one). */
export const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuv';
/** A second accepted token, as during a rotation. */
export const PREVIOUS_TOKEN = 'previous-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ01';
/** Well-formed but not accepted. */
export const WRONG_TOKEN = 'wrong-token-zyxwvutsrqponmlkjihgfedcba98765';

registerSecret(TOKEN, PREVIOUS_TOKEN, WRONG_TOKEN);
