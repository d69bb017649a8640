import { findLeak, registerSecret } from '../support/secrets.js';

// The leak check must be able to fail, or the suites that rely on it prove nothing.
describe('the token leak detector', () => {
  const secret = 'leak-detector-secret-0123456789';
  beforeAll(() => registerSecret(secret));

  it('finds a whole token', () => {
    expect(findLeak(`log line ${secret} end`)).toBe(secret);
  });

  it('finds an 8-character slice of a token', () => {
    expect(findLeak(`prefix ${secret.slice(10, 18)} suffix`)).toBe(secret);
  });

  it('ignores text without one', () => {
    expect(findLeak('Rejected HTTP GET /plain: token mismatch')).toBeUndefined();
  });
});
