import type { INestApplication, INestMicroservice } from '@nestjs/common';
import fc from 'fast-check';
import { callUnary, grpcClient, grpc, tokenMetadata } from './support/grpc.js';
import { startGrpcApp } from './support/grpc-test-app.js';
import { CONNECTION_RESET, HTTP_PLATFORMS, send, sendRaw, startHttpApp } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { TOKEN } from './support/tokens.js';

/**
 * Property-based tests of the guard as a boundary: generated `dapr-api-token` values (ASCII,
 * latin1, any Unicode, control characters, commas, surrounding whitespace, very long values,
 * near-misses of the token), zero to three occurrences, the header name in any letter case.
 *
 * Oracle: accepted if and only if exactly one value reaches the app and it equals the token;
 * otherwise a rejection (HTTP 401, or the 4xx Node's HTTP parser gives a header no request may
 * hold: 400 for control characters, 431 past 16 KiB; gRPC 16). "Reaches the app" is the
 * transports' own rule: HTTP/1.1 strips spaces and tabs around a value (RFC 9110 §5.5), and
 * HTTP/2 drops a field whose value starts or ends with one (RFC 9113 §8.2.1: Node's nghttp2 ignores
 * it), so `[token, " token "]` over gRPC arrives as one token.
 * Never a 5xx or another gRPC status, never a hang, and the server still answers afterwards.
 * fast-check shrinks a failure to the smallest input and prints its seed.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
/**
 * The seed of this run, in every failure message (fast-check's own, and the coverage checks
 * below): `PROPERTY_SEED=<seed> npm test -- test/property` replays it.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Node's HTTP parser refuses a head longer than this (--max-http-header-size): 431, or a reset. */
const NODE_MAX_HEADER_SIZE = 16 * 1024;

/** Near-misses of the token: one character changed, a prefix, a suffix, padded, repeated, joined. */
const nearMiss = fc.oneof(
  fc.tuple(fc.nat({ max: TOKEN.length - 1 }), fc.integer({ min: 0x21, max: 0x7e })).map(([i, code]) => {
    const changed = TOKEN.slice(0, i) + String.fromCharCode(code) + TOKEN.slice(i + 1);
    return changed;
  }),
  fc.nat({ max: TOKEN.length - 1 }).map((n) => TOKEN.slice(0, n)),
  fc.nat({ max: TOKEN.length - 1 }).map((n) => TOKEN.slice(n + 1)),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 3 }).map((pad) => TOKEN + pad),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 3 }).map((pad) => pad + TOKEN),
  fc.constantFrom(`${TOKEN},${TOKEN}`, `${TOKEN}, ${TOKEN}`, `${TOKEN},`, `,${TOKEN}`, TOKEN.toUpperCase(), `Bearer ${TOKEN}`),
);
const whitespace = fc.constantFrom(' ', '\t', '  ', ' \t ');
const latin1 = fc.array(fc.integer({ min: 0, max: 0xff }), { maxLength: 20 }).map((codes) => String.fromCharCode(...codes));

/** Any value, weighted towards the interesting ones. */
const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.constant(TOKEN) },
  { weight: 4, arbitrary: nearMiss },
  { weight: 2, arbitrary: fc.tuple(whitespace, whitespace).map(([a, b]) => `${a}${TOKEN}${b}`) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }) },
  { weight: 1, arbitrary: latin1 },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', ',', ', ') },
  // Around maxTokenLength (4096), and past Node's 16 KiB header limit (431).
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 18000 }).map((n) => TOKEN.repeat(Math.ceil(n / TOKEN.length)).slice(0, n)) },
);
/** `dapr-api-token` in any letter case. */
const headerName = fc
  .array(fc.boolean(), { minLength: 14, maxLength: 14 })
  .map((upper) => [...'dapr-api-token'].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join(''));

const HTTP_WHITESPACE = /^[ \t]+|[ \t]+$/g;

/**
 * Inputs every run starts with, so that both outcomes are always exercised: random inputs alone
 * left the accepted count below the old threshold (RUNS / 20) in about 1 run in 75 (simulated),
 * a failure that printed neither seed nor counterexample.
 */
const ACCEPTED_EXAMPLES = 4;
const HTTP_EXAMPLES: Array<[string, string[]]> = [
  ['dapr-api-token', [TOKEN]],
  ['Dapr-Api-Token', [TOKEN]],
  ['DAPR-API-TOKEN', [` ${TOKEN}\t`]],
  ['dapr-api-token', [`\t${TOKEN}`]],
  ['dapr-api-token', []],
  ['dapr-api-token', [TOKEN, TOKEN]],
  ['dapr-api-token', [TOKEN.slice(1)]],
];
const GRPC_EXAMPLES: Array<[string, string[]]> = [
  ['dapr-api-token', [TOKEN]],
  ['Dapr-Api-Token', [TOKEN]],
  ['DAPR-API-TOKEN', [TOKEN, ` ${TOKEN} `]],
  ['dapr-api-token', [TOKEN]],
  ['dapr-api-token', []],
  ['dapr-api-token', [TOKEN, TOKEN]],
];

describe.each(HTTP_PLATFORMS)('property: HTTP header values on %s', (_name, platform) => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: TOKEN, global: true, logRejections: false }), platform));
  });
  afterAll(() => app.close());

  it('accepts exactly one occurrence equal to the token (HTTP strips surrounding spaces and tabs), rejects everything else with 4xx', async () => {
    const seen = { seed: SEED, accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(
        headerName,
        fc.array(
          anyValue.filter((value) => !/[\r\n]/.test(value)),
          { maxLength: 3 },
        ),
        async (name, values) => {
          // Raw bytes, so that no client library cleans the value up first. CR and LF would end the
          // header line and start another: they cannot be part of a value on the wire.
          const head = Buffer.concat([
            Buffer.from('GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n', 'latin1'),
            ...values.map((value) => Buffer.concat([Buffer.from(`${name}: `, 'latin1'), Buffer.from(value, 'utf8'), Buffer.from('\r\n', 'latin1')])),
            Buffer.from('\r\n', 'latin1'),
          ]);
          const status = await sendRaw(baseUrl, head);
          const accepted = values.length === 1 && values[0].replace(HTTP_WHITESPACE, '') === TOKEN;
          seen[accepted ? 'accepted' : 'rejected']++;
          if (accepted) expect(status).toBe(200);
          else if (status === CONNECTION_RESET && head.length > NODE_MAX_HEADER_SIZE)
            return; // Node's own refusal of an oversized head
          else expect(status >= 400 && status < 500 ? 'a 4xx rejection' : status).toBe('a 4xx rejection');
        },
      ),
      { numRuns: RUNS, seed: SEED, examples: HTTP_EXAMPLES },
    );
    // Not vacuous: both outcomes were exercised (the examples guarantee it; the seed is in the message).
    expect(seen.accepted >= ACCEPTED_EXAMPLES && seen.rejected >= RUNS / 3 ? 'both outcomes exercised' : seen).toBe('both outcomes exercised');
    // Still serving.
    expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
  });
});

describe('property: gRPC metadata values', () => {
  let app: INestMicroservice;
  let client: ReturnType<typeof grpcClient>;

  beforeAll(async () => {
    let address: string;
    ({ app, address } = await startGrpcApp({ token: TOKEN, logRejections: false }));
    client = grpcClient('AppCallback', address);
  });
  afterAll(async () => {
    client.close();
    await app.close();
  });

  it('accepts exactly one occurrence equal to the token, rejects everything else with 16 UNAUTHENTICATED', async () => {
    const seen = { seed: SEED, accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(headerName, fc.array(anyValue, { maxLength: 3 }), async (name, values) => {
        const metadata = new grpc.Metadata();
        try {
          for (const value of values) metadata.add(name, value);
        } catch {
          // grpc-js refuses to SEND a value outside printable ASCII (and so does every gRPC client);
          // such values are covered by the raw HTTP/2 test in test/grpc-leaks.e2e-spec.ts.
          fc.pre(false);
        }
        const { code } = await callUnary(client, 'OnInvoke', { method: 'property' }, metadata);
        const arriving = values.filter((value) => !/^[ \t]|[ \t]$/.test(value));
        const accepted = arriving.length === 1 && arriving[0] === TOKEN;
        seen[accepted ? 'accepted' : 'rejected']++;
        expect(code).toBe(accepted ? grpc.status.OK : grpc.status.UNAUTHENTICATED);
      }),
      { numRuns: RUNS, seed: SEED, examples: GRPC_EXAMPLES },
    );
    expect(seen.accepted >= ACCEPTED_EXAMPLES && seen.rejected >= RUNS / 4 ? 'both outcomes exercised' : seen).toBe('both outcomes exercised');
    expect((await callUnary(client, 'OnInvoke', { method: 'after' }, tokenMetadata(TOKEN))).code).toBe(grpc.status.OK);
  });
});
