import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIDECAR_API_CHECK_TIMING, SidecarApiCheck, type SidecarApiState } from './sidecar-api-check.js';

/**
 * The sidecar check's state machine against fake "daprd" HTTP servers on loopback, with its
 * timings shortened: what it proves, what it refuses to take as proof, and when it asks again.
 */
const DAPR_API_TOKEN = 'Wm3kT8vB1nQ6zR4yH9cL2pF7jD0sX5gAu8Ne';
const APP_API_TOKEN = 'Jc5hY2wE9rK4mP7tV0bN3xG6qS1fL8dZa4Uo';

type Answer = (headers: IncomingHttpHeaders, res: ServerResponse) => void;
const answers = {
  /** daprd run with DAPR_API_TOKEN: 401 "invalid api token" unless it is sent. */
  daprd: ((headers, res) =>
    headers['dapr-api-token'] === DAPR_API_TOKEN ? res.writeHead(200).end('{}') : res.writeHead(401).end('invalid api token')) as Answer,
  open: ((_headers, res) => res.writeHead(200).end('{}')) as Answer,
  always401: ((_headers, res) => res.writeHead(401).end('unauthorized')) as Answer,
  unavailable: ((_headers, res) => res.writeHead(503).end()) as Answer,
  redirectTo:
    (url: string): Answer =>
    (_headers, res) =>
      res.writeHead(302, { location: url }).end(),
};

class FakeDaprd {
  requests: IncomingHttpHeaders[] = [];
  private readonly server: Server;
  constructor(public answer: Answer) {
    this.server = createServer((request, res) => {
      this.requests.push(request.headers);
      this.answer(request.headers, res);
    });
  }
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(probe: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function closedPort(): Promise<number> {
  const server = new FakeDaprd(answers.open);
  const port = await server.listen();
  await server.close();
  return port;
}

describe('SidecarApiCheck', () => {
  const saved = { ...SIDECAR_API_CHECK_TIMING };
  const servers: FakeDaprd[] = [];
  const checks: SidecarApiCheck[] = [];
  let lines: Array<[level: string, line: string]>;
  const logger = {
    log: (line: string) => lines.push(['log', line]),
    warn: (line: string) => lines.push(['warn', line]),
    error: (line: string) => lines.push(['error', line]),
  };

  beforeEach(() => {
    lines = [];
    Object.assign(SIDECAR_API_CHECK_TIMING, { firstRetryMs: 20, maxRetryMs: 50, requestTimeoutMs: 300, unreachableAfterMs: 1000, recheckMs: 100_000 });
  });
  afterEach(async () => {
    for (const check of checks.splice(0)) check.stop();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    Object.assign(SIDECAR_API_CHECK_TIMING, saved);
  });

  async function daprdAnswering(answer: Answer): Promise<{ server: FakeDaprd; port: number }> {
    const server = new FakeDaprd(answer);
    servers.push(server);
    return { server, port: await server.listen() };
  }

  function check(port: number, env: NodeJS.ProcessEnv = { DAPR_API_TOKEN }, options: { allowForgeableCallers?: boolean; rules?: string[] } = {}) {
    const built = new SidecarApiCheck({ DAPR_HTTP_PORT: String(port), APP_API_TOKEN, ...env }, true, logger, options.allowForgeableCallers ?? false);
    built.callerRuleSites = options.rules ?? ['POST /orders'];
    checks.push(built);
    built.start();
    return built;
  }

  const settled = (subject: SidecarApiCheck, state: SidecarApiState) => until(() => subject.status().state === state, `state ${state}`);
  const logged = () => lines.map(([, line]) => line).join('\n');

  it('proves a daprd that requires DAPR_API_TOKEN: 401 without it, 200 with it; caller rules then pass', async () => {
    const { server, port } = await daprdAnswering(answers.daprd);
    const subject = check(port);
    expect(subject.refusesCallers).toBe(true);
    expect(subject.status().state).toBe('checking');
    await settled(subject, 'requires-token');
    expect(subject.status()).toEqual({ state: 'requires-token', address: `http://127.0.0.1:${port}`, statusCode: 401 });
    expect(subject.refusesCallers).toBe(false);
    // First with no token of any kind, then with the app's own DAPR_API_TOKEN; never APP_API_TOKEN.
    expect(server.requests[0]['dapr-api-token']).toBeUndefined();
    expect(server.requests[1]['dapr-api-token']).toBe(DAPR_API_TOKEN);
    expect(server.requests.some((headers) => JSON.stringify(headers).includes(APP_API_TOKEN))).toBe(false);
    expect(lines).toEqual([['log', expect.stringMatching(/^daprd's API at http:\/\/127\.0\.0\.1:\d+ requires DAPR_API_TOKEN .*Caller rules are enforced\.$/)]]);
  });

  it('an open API: open, caller rules refused, an error line that names the fix', async () => {
    const { port } = await daprdAnswering(answers.open);
    const subject = check(port);
    await settled(subject, 'open');
    expect(subject.refusesCallers).toBe(true);
    expect(subject.refusingCallerRules).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0][0]).toBe('error');
    expect(lines[0][1]).toMatch(/answers without DAPR_API_TOKEN .*dapr\.io\/api-token-secret.*caller rules \(POST \/orders\) refuse every call/);
  });

  it("401 with and without the app's DAPR_API_TOKEN: token-refused (not proven), and says so", async () => {
    const { server, port } = await daprdAnswering(answers.always401);
    const subject = check(port);
    await settled(subject, 'token-refused');
    expect(subject.status().statusCode).toBe(401);
    expect(subject.refusesCallers).toBe(true);
    expect(server.requests.map((headers) => headers['dapr-api-token'])).toEqual([undefined, DAPR_API_TOKEN]);
    expect(lines).toEqual([['error', expect.stringMatching(/401 without a token AND with this app's own DAPR_API_TOKEN: not proven/)]]);
  });

  it('401 and no DAPR_API_TOKEN in the app: unproven, nothing more sent', async () => {
    const { server, port } = await daprdAnswering(answers.daprd);
    const subject = check(port, {});
    await settled(subject, 'unproven');
    expect(server.requests).toHaveLength(1);
    expect(logged()).toMatch(/this app has no DAPR_API_TOKEN to prove/);
  });

  it('a DAPR_API_TOKEN no header can carry: unproven, and the value is never logged', async () => {
    const { server, port } = await daprdAnswering(answers.daprd);
    const subject = check(port, { DAPR_API_TOKEN: `${DAPR_API_TOKEN}\n` });
    await settled(subject, 'unproven');
    expect(server.requests).toHaveLength(1);
    expect(logged()).toMatch(/has a DAPR_API_TOKEN that cannot be sent as a header value/);
    expect(logged()).not.toContain(DAPR_API_TOKEN.slice(0, 12));
  });

  it('a redirect is not followed and is not daprd: unexpected, even to a listener that would prove it', async () => {
    const target = await daprdAnswering(answers.daprd);
    const { port } = await daprdAnswering(answers.redirectTo(`http://127.0.0.1:${target.port}/v1.0/metadata`));
    const subject = check(port);
    await settled(subject, 'unexpected');
    expect(subject.status().statusCode).toBe(302);
    expect(subject.refusesCallers).toBe(true);
    expect(target.server.requests).toEqual([]);
    expect(logged()).toMatch(/with a redirect \(302\), not followed: daprd never redirects/);
  });

  it('a redirect answered to the request with the token is not proof either', async () => {
    const target = await daprdAnswering(answers.open);
    const { port } = await daprdAnswering((headers, res) =>
      headers['dapr-api-token'] === undefined ? answers.always401(headers, res) : answers.redirectTo(`http://127.0.0.1:${target.port}/`)(headers, res),
    );
    const subject = check(port);
    await settled(subject, 'unexpected');
    expect(subject.status().statusCode).toBe(302);
    expect(target.server.requests).toEqual([]);
  });

  it('5xx is transient: retried until daprd answers, then requires-token (never settled as unexpected)', async () => {
    let unavailable = 2;
    const { server, port } = await daprdAnswering((headers, res) => (unavailable-- > 0 ? answers.unavailable(headers, res) : answers.daprd(headers, res)));
    const subject = check(port);
    const seen = new Set<SidecarApiState>();
    await until(() => (seen.add(subject.status().state), subject.status().state === 'requires-token'), 'requires-token');
    expect([...seen].filter((state) => state !== 'checking' && state !== 'requires-token')).toEqual([]);
    expect(server.requests.length).toBe(4);
    expect(lines.map(([level]) => level)).toEqual(['log']);
  });

  it('a 5xx to the request with the token is transient too', async () => {
    let unavailable = 1;
    const { port } = await daprdAnswering((headers, res) =>
      headers['dapr-api-token'] !== undefined && unavailable-- > 0 ? answers.unavailable(headers, res) : answers.daprd(headers, res),
    );
    await settled(check(port), 'requires-token');
  });

  it('nothing listening: checking, then unreachable after the bound with one line; still asking, so a daprd that comes up is proven', async () => {
    const port = await closedPort();
    const subject = check(port);
    await sleep(200);
    expect(subject.status().state).toBe('checking');
    expect(lines).toEqual([]);
    await settled(subject, 'unreachable');
    expect(subject.refusesCallers).toBe(true);
    await sleep(300); // more failed attempts: still one line
    expect(lines).toEqual([
      ['error', expect.stringMatching(/did not answer GET \/v1\.0\/metadata conclusively within 1 s \(last: connection refused\).*Still asking/)],
    ]);
    const server = new FakeDaprd(answers.daprd);
    servers.push(server);
    await server.listen(port);
    await settled(subject, 'requires-token');
    expect(subject.refusesCallers).toBe(false);
  });

  it('a server that never answers: each request times out, and the bound still holds', async () => {
    const { port } = await daprdAnswering(() => undefined);
    const subject = check(port);
    await settled(subject, 'unreachable');
    expect(logged()).toMatch(/last: no answer within 300 ms/);
  });

  it('asks again after settling: an API that becomes open closes the caller rules, and one that closes again opens them', async () => {
    SIDECAR_API_CHECK_TIMING.recheckMs = 100;
    const { server, port } = await daprdAnswering(answers.daprd);
    const subject = check(port);
    await settled(subject, 'requires-token');
    server.answer = answers.open;
    await settled(subject, 'open');
    expect(subject.refusesCallers).toBe(true);
    server.answer = answers.daprd;
    await settled(subject, 'requires-token');
    expect(subject.refusesCallers).toBe(false);
    // A line per change, none for a re-check that finds the same.
    await sleep(250);
    expect(lines.map(([level]) => level)).toEqual(['log', 'error', 'log']);
  });

  it('a re-check that cannot reach daprd keeps what was proven until the bound, then unreachable', async () => {
    SIDECAR_API_CHECK_TIMING.recheckMs = 50;
    const { server, port } = await daprdAnswering(answers.daprd);
    const subject = check(port);
    await settled(subject, 'requires-token');
    server.answer = answers.unavailable;
    await sleep(250); // re-checks answered 503, within the bound
    expect(subject.status().state).toBe('requires-token');
    await settled(subject, 'unreachable');
    expect(subject.status().statusCode).toBe(503);
    expect(subject.refusesCallers).toBe(true);
    expect(logged()).toMatch(/last: HTTP 503/);
  });

  it('allowForgeableCallers: never refuses, still logs', async () => {
    const { port } = await daprdAnswering(answers.open);
    const subject = check(port, { DAPR_API_TOKEN }, { allowForgeableCallers: true });
    expect(subject.refusesCallers).toBe(false);
    await settled(subject, 'open');
    expect(subject.refusesCallers).toBe(false);
    expect(lines).toEqual([['error', expect.stringMatching(/allowForgeableCallers is on: the caller rules \(POST \/orders\) still let calls through/)]]);
  });

  it('without caller rules: the same states, lines without the rules (warnings but for an open API)', async () => {
    const { port } = await daprdAnswering(answers.always401);
    const subject = check(port, { DAPR_API_TOKEN }, { rules: [] });
    await settled(subject, 'token-refused');
    expect(lines).toEqual([['warn', expect.not.stringMatching(/caller rules/)]]);
    // What the guard reads stays shut (a rule start-up did not list is held too); the status says no rule is refused.
    expect(subject.refusesCallers).toBe(true);
    expect(subject.refusingCallerRules).toBe(false);
  });

  it('not checked without DAPR_HTTP_PORT or when off: never refuses, never asks', () => {
    const without = new SidecarApiCheck({ DAPR_API_TOKEN }, true, logger);
    const off = new SidecarApiCheck({ DAPR_HTTP_PORT: '3500', DAPR_API_TOKEN }, false, logger);
    for (const subject of [without, off]) {
      subject.start();
      expect(subject.status()).toEqual({ state: 'not-checked', address: undefined });
      expect(subject.refusesCallers).toBe(false);
      subject.stop();
    }
  });

  it('DAPR_HOST names the host asked (an IPv6 address in brackets)', () => {
    expect(new SidecarApiCheck({ DAPR_HTTP_PORT: '3500', DAPR_HOST: '::1' }, true, logger).status().address).toBe('http://[::1]:3500');
    expect(new SidecarApiCheck({ DAPR_HTTP_PORT: '3500', DAPR_HOST: 'daprd.local' }, true, logger).status().address).toBe('http://daprd.local:3500');
  });

  it('never logs a token', async () => {
    const { port } = await daprdAnswering(answers.always401);
    await settled(check(port), 'token-refused');
    expect(logged()).not.toContain(DAPR_API_TOKEN);
    expect(logged()).not.toContain(APP_API_TOKEN);
  });
});
