import {
  DAPR_API_TOKEN_HEADER,
  DAPR_CALLER_APP_ID_HEADER,
  DAPR_CALLER_NAMESPACE_HEADER,
  DAPR_TOKENLESS_GRPC_METHODS,
  FORBIDDEN_MESSAGE,
  GRPC_STATUS_PERMISSION_DENIED,
  GRPC_STATUS_UNAUTHENTICATED,
  REJECTION_MESSAGE,
} from '../dapr-auth.constants.js';
import type { PresentedCaller, PresentedToken, RejectionKind } from '../pipeline.types.js';

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

export function readTokenMetadata(metadata: GrpcMetadataLike, header: string = DAPR_API_TOKEN_HEADER): PresentedToken {
  const values = metadata.get(header);
  if (values.length === 0) return undefined;
  // A binary value is never a token: hand it on as a non-string so the format check rejects it.
  return values.map((value) => (typeof value === 'string' ? value : '\u0000'));
}

function stringValues(metadata: GrpcMetadataLike, key: string): PresentedToken {
  const values = metadata.get(key);
  if (values.length === 0) return undefined;
  return values.map((value) => (typeof value === 'string' ? value : '\u0000'));
}

/**
 * The caller identity in gRPC metadata. The namespace is never trusted over gRPC: daprd's gRPC
 * proxy adds none and forwards the caller's own, alone, and the caller chooses the method path it
 * proxies to, `AppCallback/OnInvoke` included, so no path tells a proxied call apart (measured:
 * docs/caller-identity.md).
 */
export function readCallerMetadata(metadata: GrpcMetadataLike): PresentedCaller {
  return {
    appId: stringValues(metadata, DAPR_CALLER_APP_ID_HEADER),
    namespace: stringValues(metadata, DAPR_CALLER_NAMESPACE_HEADER),
    namespaceTrusted: false,
  };
}

/** The gRPC status code and generic message of each kind of rejection. */
export const GRPC_REJECTION: Record<RejectionKind, { code: number; message: string }> = {
  unauthenticated: { code: GRPC_STATUS_UNAUTHENTICATED, message: REJECTION_MESSAGE },
  forbidden: { code: GRPC_STATUS_PERMISSION_DENIED, message: FORBIDDEN_MESSAGE },
};

/** The status object grpc-js sends for a rejection: 16 UNAUTHENTICATED or 7 PERMISSION_DENIED, with the generic message. */
export function rejectionStatus(kind: RejectionKind): Error & { code: number; details: string } {
  const { code, message } = GRPC_REJECTION[kind];
  return Object.assign(new Error(message), { code, details: message });
}
