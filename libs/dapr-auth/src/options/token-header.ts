import { DAPR_API_TOKEN_HEADER } from '../dapr-auth.constants.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { OptionChecks } from '../option-checks.js';

/**
 * What option `tokenHeader` may name. The token must travel in a header that nothing else reads,
 * sets, strips, merges or forwards: otherwise a request can carry it for another reason, lose it
 * on the way, or carry a second one the guard cannot see (its "several values" check relies on
 * Node joining a repeated header as `a, b`).
 */

/** Lower case (Node delivers header names so), at most 64 characters, no `:` (HTTP/2 pseudo-headers). */
const HEADER_NAME_SHAPE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/**
 * A header name is words joined by '-': a part of more than 20 characters is more likely a token
 * typed in the wrong place (a hex token is a valid header name), and the name is logged.
 */
const LOOKS_LIKE_A_SECRET = /[a-z0-9_.]{21,}/;

/** A group of names the token must not travel in, and why: the reason goes into the start-up error. */
interface ReservedHeaders {
  readonly why: string;
  /** Exact names. */
  readonly names?: readonly string[];
  /** Name prefixes, e.g. `grpc-`. */
  readonly prefixes?: readonly string[];
  /** Name suffixes, e.g. `-bin`. */
  readonly suffixes?: readonly string[];
}

/**
 * Every header name `tokenHeader` refuses, in one list. A name in it is refused even when it is
 * also in another group: the first group that lists it gives the reason.
 */
export const RESERVED_TOKEN_HEADERS: readonly ReservedHeaders[] = [
  {
    // Node's IncomingMessage keeps the first value of these and drops the rest (Node 20 docs,
    // `message.headers`; lib/_http_incoming.js, matchKnownFields): a second token never shows.
    why: 'Node keeps only the first of its values and drops the others, so a second token would go unnoticed',
    names: [
      'age',
      'authorization',
      'content-length',
      'content-type',
      'etag',
      'expires',
      'from',
      'host',
      'if-modified-since',
      'if-unmodified-since',
      'last-modified',
      'location',
      'max-forwards',
      'proxy-authorization',
      'referer',
      'retry-after',
      'server',
      'user-agent',
    ],
  },
  {
    // Node's HTTP/2 (gRPC, Fastify with http2) keeps one value of these (lib/internal/http2/util.js,
    // kSingleValueHeaders); the rest of that list is refused above or by a prefix below.
    why: "Node's HTTP/2 keeps only one of its values (gRPC, HTTP/2 servers), so a second token would go unnoticed",
    names: ['date', 'dnt', 'tk', 'upgrade-insecure-requests', 'x-content-type-options'],
  },
  {
    // Node joins `cookie` with "; " and keeps `set-cookie` as a list, not as "a, b".
    why: 'Node joins its values in a way of its own, not as "a, b", so a second token would not be seen as one',
    names: ['cookie', 'set-cookie'],
  },
  {
    // RFC 9110 section 7.6.1, and HTTP/2's upgrade header: proxies and Node itself consume them.
    why: 'it is a hop-by-hop header: proxies and Node consume or drop it',
    names: ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings'],
  },
  {
    // What HTTP or Node act on: framing and `Expect` (Node answers 417 itself), credentials,
    // caching, content negotiation, CORS and the browser's own `Sec-` headers.
    why: 'HTTP gives it a meaning of its own (credentials, caching, content negotiation, CORS or the request itself)',
    names: [
      'expect',
      'date',
      'origin',
      'range',
      'cache-control',
      'pragma',
      'accept',
      'vary',
      'via',
      'priority',
      'prefer',
      'www-authenticate',
      'proxy-authenticate',
    ],
    prefixes: ['accept-', 'content-', 'if-', 'access-control-', 'sec-', 'proxy-'],
  },
  {
    // Set or rewritten by proxies, ingresses and service meshes in front of the app.
    why: 'proxies and service meshes set or rewrite it',
    names: ['forwarded', 'x-real-ip', 'x-request-id'],
    prefixes: ['x-forwarded-', 'x-envoy-'],
  },
  {
    // gRPC reserves these (grpc/doc/PROTOCOL-HTTP2.md; te, content-type and user-agent too, listed
    // above): grpc-js sets or strips grpc- keys, and a -bin key carries a binary value, never text.
    why: 'gRPC reserves it (grpc- keys are its own, -bin keys carry binary values)',
    prefixes: ['grpc-'],
    suffixes: ['-bin'],
  },
  {
    // W3C Trace Context and Baggage (what daprd propagates), B3, Jaeger and the clouds' own.
    why: 'tracing propagates it from call to call',
    names: ['traceparent', 'tracestate', 'baggage', 'b3', 'uber-trace-id', 'x-cloud-trace-context', 'x-amzn-trace-id'],
    prefixes: ['x-b3-', 'uberctx-', 'x-datadog-'],
  },
  {
    // daprd reads, stamps, strips or forwards its own `dapr-` metadata: dapr-app-id routes a call,
    // dapr-caller-app-id / dapr-caller-namespace / dapr-callee-app-id name the apps (the guard
    // reads them as the caller's identity). dapr-api-token itself is the default, and allowed.
    why: 'daprd uses dapr- headers for itself (dapr-app-id, dapr-caller-app-id, dapr-caller-namespace, dapr-callee-app-id...)',
    prefixes: ['dapr-'],
  },
  {
    // Node's header object is a plain object: a name it inherits reads as a function when absent.
    why: 'Node reads it from every header object (an inherited property), present or not',
    names: ['constructor'],
  },
];

/** Which reserved group `name` falls in, and how to show it: the listed name or prefix, never more. */
function reservation(name: string): { shown: string; why: string } | undefined {
  if (name === DAPR_API_TOKEN_HEADER) return undefined;
  for (const group of RESERVED_TOKEN_HEADERS) {
    if (group.names?.includes(name)) return { shown: `\`${name}\``, why: group.why };
    const prefix = group.prefixes?.find((candidate) => name.startsWith(candidate));
    if (prefix !== undefined) return { shown: `a \`${prefix}\` name`, why: group.why };
    const suffix = group.suffixes?.find((candidate) => name.endsWith(candidate));
    if (suffix !== undefined) return { shown: `a \`${suffix}\` name`, why: group.why };
  }
  return undefined;
}

const FIX = 'Use a name of your own, e.g. x-app-token, the same one your daprd sends the token in; the default is dapr-api-token.';

/**
 * Validates option `tokenHeader` and applies its default.
 *
 * @throws DaprAuthConfigError when it is not a lower-case header name, or names a header another
 * layer gives a meaning to ({@link RESERVED_TOKEN_HEADERS}). The message shows the value only as
 * the listed name or prefix it matched, never as given.
 */
export function resolveTokenHeader(value: unknown): string {
  const tokenHeader = value ?? DAPR_API_TOKEN_HEADER;
  if (typeof tokenHeader !== 'string' || !HEADER_NAME_SHAPE.test(tokenHeader)) {
    return new OptionChecks().fail('tokenHeader', tokenHeader, "a header name: lower case letters, digits, '-', '_', '.' (at most 64)", FIX);
  }
  const reserved = reservation(tokenHeader);
  if (reserved !== undefined) {
    throw new DaprAuthConfigError(
      `option \`tokenHeader\` must be a header name nothing else gives a meaning to, got ${reserved.shown}: ${reserved.why}. ${FIX}`,
    );
  }
  if (LOOKS_LIKE_A_SECRET.test(tokenHeader)) {
    throw new DaprAuthConfigError(
      `option \`tokenHeader\` has a part of more than 20 characters between '-' (not shown: it looks like a token, and the header name is logged). ${FIX}`,
    );
  }
  return tokenHeader;
}
