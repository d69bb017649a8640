import { DAPR_API_TOKEN_HEADER, DAPR_TOKENLESS_GRPC_METHODS, GRPC_STATUS_UNAUTHENTICATED, REJECTION_MESSAGE } from '../dapr-auth.constants.js';
import type { PresentedToken } from '../pipeline.types.js';

/** The parts of grpc-js `Metadata` read here (duck-typed: `@grpc/grpc-js` is not a dependency). */
export interface GrpcMetadataLike {
  get(key: string): Array<string | Uint8Array>;
  getMap(): Record<string, unknown>;
}

/** The parts of a grpc-js server call read here. */
export interface GrpcCallLike {
  metadata?: unknown;
  getPath?(): string;
  emit?(event: 'error', error: unknown): boolean;
}

export function isGrpcMetadata(value: unknown): value is GrpcMetadataLike {
  return typeof (value as GrpcMetadataLike | undefined)?.getMap === 'function' && typeof (value as GrpcMetadataLike).get === 'function';
}

export function isGrpcCall(value: unknown): value is GrpcCallLike & { metadata: GrpcMetadataLike } {
  return typeof (value as GrpcCallLike | undefined)?.getPath === 'function' && isGrpcMetadata((value as GrpcCallLike).metadata);
}

/** `/package.Service/Method`, as grpc-js reports it. */
export function grpcMethodPath(call: unknown): string {
  return typeof (call as GrpcCallLike | undefined)?.getPath === 'function' ? (call as Required<GrpcCallLike>).getPath() : '(unknown gRPC method)';
}

export function isTokenlessDaprGrpcCall(call: unknown): boolean {
  return DAPR_TOKENLESS_GRPC_METHODS.has(grpcMethodPath(call));
}

export function readTokenMetadata(metadata: GrpcMetadataLike): PresentedToken {
  const values = metadata.get(DAPR_API_TOKEN_HEADER);
  if (values.length === 0) return undefined;
  // A binary value is never a token: hand it on as a non-string so the format check rejects it.
  return values.map((value) => (typeof value === 'string' ? value : '\u0000'));
}

/** The status object grpc-js sends as 16 UNAUTHENTICATED with the generic message. */
export function unauthenticatedStatus(): Error & { code: number; details: string } {
  return Object.assign(new Error(REJECTION_MESSAGE), { code: GRPC_STATUS_UNAUTHENTICATED, details: REJECTION_MESSAGE });
}
