import { Controller, Get, type DynamicModule, Module } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { DaprAuthModule, DaprClaims, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { registerSecret } from './secrets.js';

export const ISSUER = 'https://issuer.example';
export const AUDIENCE = 'orders';

/** One signing key and what the module is configured with to verify it. */
export interface SigningKey {
  alg: string;
  /** Signs a token with this key (claims default to a valid iss/aud/sub/exp). */
  sign(claims?: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** The `jwt` key source for the module (secret, or public key as PEM). */
  keySource: { secret: string } | { publicKey: string };
  publicJwk?: JWK;
}

/** A key pair (or HMAC secret) for `alg`, with `kid`. Generated per test run: nothing is committed. */
export async function signingKey(alg: 'HS256' | 'RS256' | 'ES256' | 'EdDSA', kid = `${alg}-key`): Promise<SigningKey> {
  if (alg === 'HS256') {
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    registerSecret(secret);
    const key = new TextEncoder().encode(secret);
    return { alg, keySource: { secret }, sign: (claims, header) => sign(alg, key, kid, claims, header) };
  }
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg };
  return { alg, keySource: { publicKey: await exportSPKI(publicKey) }, publicJwk, sign: (claims, header) => sign(alg, privateKey, kid, claims, header) };
}

async function sign(
  alg: string,
  key: Parameters<SignJWT['sign']>[0],
  kid: string,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'checkout', iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg, kid, typ: 'JWT', ...header })
    .sign(key);
  registerSecret(token);
  return token;
}

/** An unsigned token (`alg: none`), which jose cannot produce on purpose. */
export function unsignedToken(claims: JWTPayload = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: ISSUER, aud: AUDIENCE, sub: 'checkout', exp: now + 300, ...claims })}.`;
  registerSecret(token);
  return token;
}

/** HTTP routes that echo the verified claims. */
@Controller('claims')
export class ClaimsController {
  @Get()
  all(@DaprClaims() claims: JWTPayload | undefined) {
    return { claims };
  }

  @Get('sub')
  subject(@DaprClaims('sub') sub: string | undefined) {
    return { sub };
  }
}

/** gRPC OnInvoke that answers with the caller's `sub`. */
@Controller()
export class ClaimsGrpcController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  onInvoke(@Payload() request: { method: string }, @DaprClaims('sub') sub?: string) {
    return { data: { typeUrl: '', value: Buffer.from(`${request.method} sub=${sub}`) }, contentType: 'text/plain' };
  }
}

/** A module with the claims controllers behind a global guard configured with `options`. */
export function jwtTestModule(options: DaprAuthModuleOptions): DynamicModule {
  @Module({})
  class JwtTestModule {}
  return {
    module: JwtTestModule,
    imports: [DaprAuthModule.forRoot({ rejectionLogLimit: false, ...options, global: true })],
    controllers: [ClaimsController, ClaimsGrpcController],
  };
}
