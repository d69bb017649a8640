import { readFileSync } from 'node:fs';
import type { ConfigService } from '@nestjs/config';
import type { DaprJwtOptions } from 'nestjs-dapr-auth';

/**
 * The example's JWT mode, from the environment: set `JWT_ALGORITHMS` (e.g. `ES256`) and one of
 * `JWT_PUBLIC_KEY_FILE`, `JWT_SECRET_FILE` or `JWT_JWKS_URI`; optionally `JWT_ISSUER` and
 * `JWT_AUDIENCE`. Without `JWT_ALGORITHMS`, no JWT checks.
 */
export function jwtFromEnvironment(config: ConfigService): DaprJwtOptions | undefined {
  const algorithms = config.get<string>('JWT_ALGORITHMS');
  if (!algorithms) return undefined;
  const file = (name: string) => {
    const path = config.get<string>(name);
    return path ? readFileSync(path, 'utf8').trim() : undefined;
  };
  const jwt: DaprJwtOptions = {
    algorithms: algorithms.split(',').map((alg) => alg.trim()),
    secret: file('JWT_SECRET_FILE'),
    publicKey: file('JWT_PUBLIC_KEY_FILE'),
    jwksUri: config.get<string>('JWT_JWKS_URI') || undefined,
    issuer: config.get<string>('JWT_ISSUER') || undefined,
    audience: config.get<string>('JWT_AUDIENCE') || undefined,
  };
  for (const key of Object.keys(jwt) as Array<keyof DaprJwtOptions>) if (jwt[key] === undefined) delete jwt[key];
  return jwt;
}
