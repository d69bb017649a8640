/** Why a JWT was refused: logged (never the token), never sent to the caller. */
export type JwtFailure =
  | 'malformed'
  | 'algorithm-not-allowed'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'too-old'
  | 'issued-in-future'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'missing-claim'
  | 'invalid-claim'
  | 'unknown-key'
  | 'key-mismatch'
  | 'jwks-unavailable'
  | 'error';

/** A refusal with its reason, thrown inside the JWT verification path. */
export class JwtRejection extends Error {
  constructor(readonly failure: JwtFailure) {
    super(`JWT rejected: ${failure}`);
    this.name = 'JwtRejection';
  }
}
