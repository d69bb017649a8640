import { compareWiring, readDaprdWiring, type ServedApp } from './compare-wiring.js';

/** daprd 1.18.2's answer, as measured (test/dapr/sidecar-wiring.dapr-spec.ts reads a live one). */
const METADATA = {
  id: 'orders',
  subscriptions: [
    {
      pubsubname: 'pubsub',
      topic: 'declared',
      rules: [{ match: 'event.type == "x"', path: '/declared/x' }, { path: '/declared' }],
      deadLetterTopic: '',
      type: 'DECLARATIVE',
    },
    { pubsubname: 'pubsub', topic: 'orders', rules: [{ path: '/orders' }], deadLetterTopic: '', type: 'PROGRAMMATIC' },
  ],
  appConnectionProperties: { port: 3000, protocol: 'http', channelAddress: '127.0.0.1', health: { healthCheckPath: '/healthz', healthProbeInterval: '5s' } },
};

const route = (method: string, path: string, isPublic = false) => ({ method, path, public: isPublic, target: `${method} ${path}` });

function app(overrides: Partial<ServedApp> = {}): ServedApp {
  return {
    httpPort: 3000,
    httpServer: true,
    appCallback: false,
    routes: [route('GET', '/healthz'), route('POST', '/orders'), route('POST', '/declared'), route('POST', '/declared/:kind')],
    healthCheckPath: '/healthz',
    ...overrides,
  };
}

describe('readDaprdWiring', () => {
  it("reads port, protocol, health path and every subscription's rule paths", () => {
    expect(readDaprdWiring(METADATA)).toEqual({
      recognised: true,
      appPort: 3000,
      protocol: 'http',
      healthCheckPath: '/healthz',
      subscriptions: [
        { pubsub: 'pubsub', topic: 'declared', type: 'DECLARATIVE', paths: ['/declared/x', '/declared'] },
        { pubsub: 'pubsub', topic: 'orders', type: 'PROGRAMMATIC', paths: ['/orders'] },
      ],
      omittedSubscriptions: 0,
      omittedPaths: 0,
    });
  });

  it.each([null, 'text', [], { appConnectionProperties: 'x', subscriptions: {} }, { subscriptions: [null, { rules: 'x' }] }])(
    'leaves out what is missing or of another shape (%j), never throws',
    (body) => {
      const wiring = readDaprdWiring(body);
      expect(wiring.appPort).toBeUndefined();
      expect(wiring.subscriptions.every((subscription) => subscription.paths.length === 0)).toBe(true);
    },
  );
});

describe('compareWiring', () => {
  it('finds nothing when daprd calls what the app serves', () => {
    expect(compareWiring(readDaprdWiring(METADATA), app())).toEqual([]);
  });

  it('a subscription route a @DaprPublic() handler serves is an error, listed first', () => {
    const findings = compareWiring(
      readDaprdWiring(METADATA),
      app({ routes: [route('POST', '/orders', true), route('POST', '/declared/:kind'), route('POST', '/declared')] }),
    );
    expect(findings).toEqual([expect.objectContaining({ level: 'error', kind: 'subscription-public' })]);
    expect(findings[0].message).toContain('topic "orders" of pubsub (programmatic) by POST /orders, and @DaprPublic() POST /orders serves it');
  });

  it('a subscription route nothing serves is a warning (a GET route does not serve a delivery)', () => {
    const findings = compareWiring(
      readDaprdWiring(METADATA),
      app({ routes: [route('GET', '/orders'), route('POST', '/declared'), route('ALL', '/declared/*path')] }),
    );
    expect(findings).toEqual([
      expect.objectContaining({ level: 'warn', kind: 'subscription-unserved', message: expect.stringContaining('POST /orders, which no route') }),
    ]);
  });

  it("matches Nest's route patterns: params, wildcards, a trailing slash, a route without a leading slash", () => {
    const wiring = readDaprdWiring({
      subscriptions: [{ pubsubname: 'p', topic: 't', type: 'PROGRAMMATIC', rules: [{ path: 'events/created/' }, { path: '/v1/orders/42' }] }],
    });
    expect(compareWiring(wiring, app({ routes: [route('POST', '/events/:kind'), route('POST', '/v1/{*rest}')] }))).toEqual([]);
    expect(compareWiring(wiring, app({ routes: [route('POST', '/events/:kind/x')] })).map((finding) => finding.kind)).toEqual([
      'subscription-unserved',
      'subscription-unserved',
    ]);
  });

  it.each([
    ['another letter case (Express matches in any case)', '/Orders', '/orders'],
    ['percent-escapes (the server decodes them)', '/ord%65rs', '/orders'],
    ['an optional group', '/orders/42', '/orders{/:id}'],
    ['an optional group left out', '/orders', '/orders{/:id}'],
    ['a Fastify regex parameter', '/orders/42', '/orders/:id(^\\d+)'],
    ['under a global prefix, another case', '/API/Orders', '/api/orders'],
  ])('a @DaprPublic() route that serves the subscription in %s is found (an error, never an all-clear)', (_name, delivered, served) => {
    const wiring = readDaprdWiring({ id: 'x', subscriptions: [{ pubsubname: 'p', topic: 't', type: 'DECLARATIVE', rules: [{ path: delivered }] }] });
    expect(compareWiring(wiring, app({ routes: [route('POST', served, true)] })).map((finding) => finding.kind)).toEqual(['subscription-public']);
  });

  it('a path of 150,000 slashes (a quadratic regular expression took 16 s on it) is cut before anything reads it', () => {
    const wiring = readDaprdWiring({
      id: 'x',
      subscriptions: [{ pubsubname: 'p', topic: 't', type: 'PROGRAMMATIC', rules: [{ path: `${'/'.repeat(150_000)}a` }] }],
    });
    expect(wiring.subscriptions[0].paths[0]).toBe('/'.repeat(4096));
    const [finding] = compareWiring(wiring, app());
    expect(finding.kind).toBe('subscription-unserved');
    expect(finding.message).toContain('POST /, which'); // the 4,096 slashes kept, normalised as daprd's own paths are
  });

  it('hostile paths against a route of several parameters in one segment are compared without backtracking (third outside review)', () => {
    // Like the outside review's metadata (it froze the app for 17 s): a backtracking regular expression took 32 s on these; the
    // work is bounded by route-matcher.spec.ts's step counts.
    const paths = Array.from({ length: 5 }, (_, index) => ({ path: `/reports/${'1.'.repeat(2000)}${index}/q` }));
    const wiring = readDaprdWiring({ id: 'x', subscriptions: [{ pubsubname: 'p', topic: 't', type: 'PROGRAMMATIC', rules: paths }] });
    const findings = compareWiring(wiring, app({ routes: [route('POST', '/reports/:y.:m.:d', true)] }));
    expect(findings.map((finding) => finding.kind)).toEqual(Array(5).fill('subscription-unserved'));
  });

  it('rule paths past 2,000 over all subscriptions are a finding, never an all-clear', () => {
    const rules = Array.from({ length: 30 }, (_, index) => ({ path: `/r${index}` }));
    const subscriptions = Array.from({ length: 100 }, (_, index) => ({ pubsubname: 'p', topic: `t${index}`, type: 'PROGRAMMATIC', rules }));
    const wiring = readDaprdWiring({ id: 'x', subscriptions });
    expect(wiring.subscriptions.reduce((sum, subscription) => sum + subscription.paths.length, 0)).toBe(2000);
    expect(wiring.omittedPaths).toBe(1000);
    const findings = compareWiring(wiring, app({ routes: [route('POST', '/r:n')] }));
    expect(findings.map((finding) => finding.message)).toEqual([
      "daprd's subscriptions list 3000 rule paths; only the first 2000 were compared with this app's routes.",
    ]);
  });

  it("the comparison's work is bounded (it runs on the app's event loop): past it, a finding says how much was compared", () => {
    const rules = Array.from({ length: 20 }, (_, index) => ({ path: `/api/v1/res${index}/1/${'x/'.repeat(2030)}` }));
    const subscriptions = Array.from({ length: 100 }, (_, index) => ({ pubsubname: 'p', topic: `t${index}`, type: 'PROGRAMMATIC', rules }));
    const routes = Array.from({ length: 50 }, (_, index) => route('POST', `/api/v1/res${index}/:id/{*rest}`));
    const findings = compareWiring(readDaprdWiring({ id: 'x', subscriptions }), app({ routes }));
    const stopped = findings.find((finding) => finding.kind === 'subscriptions-omitted')!;
    expect(stopped.message).toMatch(/^the comparison stopped after \d+ of 2000 subscription paths/);
    expect(findings).toHaveLength(1); // every path compared before the bound is served
  });

  it.each([
    ['an escaped colon (a literal)', '/ev2:publish', 'ev2\\:publish'],
    ['a parameter named with a $', '/ev3/x', 'ev3/:$id'],
    ['an optional parameter left out, with its slash (Fastify, Express 4)', '/ev1', 'ev1/:id?'],
    ['a fragment (daprd drops it)', '/ev4#frag', 'ev4'],
  ])('a @DaprPublic() route that serves the subscription through %s is found (second re-check)', (_name, delivered, served) => {
    const wiring = readDaprdWiring({ id: 'x', subscriptions: [{ pubsubname: 'p', topic: 't', type: 'DECLARATIVE', rules: [{ path: delivered }] }] });
    expect(compareWiring(wiring, app({ routes: [route('POST', served, true)] })).map((finding) => finding.kind)).toEqual(['subscription-public']);
  });

  it('a path of other characters than visible ASCII is matched as daprd sent it (a @DaprPublic() route serving it is found), and shown as ASCII', () => {
    const wiring = readDaprdWiring({ id: 'x', subscriptions: [{ pubsubname: 'p', topic: 't', type: 'PROGRAMMATIC', rules: [{ path: '/événements\n' }] }] });
    const [finding, ...rest] = compareWiring(wiring, app({ routes: [route('POST', '/événements\n', true)] }));
    expect(rest).toEqual([]);
    expect(finding.kind).toBe('subscription-public');
    expect(finding.message).toContain('POST /?v?nements?, and');
  });

  it('a path longer than a log line shows is still matched whole: a @DaprPublic() route serving it is found', () => {
    const long = `/hooks/${'a'.repeat(210)}`;
    const wiring = readDaprdWiring({ id: 'x', subscriptions: [{ pubsubname: 'p', topic: 't', type: 'PROGRAMMATIC', rules: [{ path: long }] }] });
    expect(compareWiring(wiring, app({ routes: [route('POST', long, true)] })).map((finding) => finding.kind)).toEqual(['subscription-public']);
  });

  it('subscriptions past the bound are a finding, never an all-clear', () => {
    const subscriptions = Array.from({ length: 2001 }, (_, i) => ({ pubsubname: 'p', topic: `t${i}`, type: 'PROGRAMMATIC', rules: [{ path: '/orders' }] }));
    const wiring = readDaprdWiring({ id: 'x', subscriptions });
    expect(wiring.omittedSubscriptions).toBe(1);
    expect(compareWiring(wiring, app()).map((finding) => finding.kind)).toEqual(['subscriptions-omitted']);
  });

  it("decides on daprd's values and only shows them redacted (a redacted name changes no finding)", () => {
    const redactAll = () => '[redacted]';
    const grpcWiring = readDaprdWiring({ ...METADATA, appConnectionProperties: { ...METADATA.appConnectionProperties, protocol: 'grpc' } });
    const [finding, ...rest] = compareWiring(grpcWiring, app(), redactAll);
    expect(rest).toEqual([]);
    expect(finding.kind).toBe('app-protocol');
    expect(finding.message).toContain('(--app-protocol [redacted])');
    const streaming = readDaprdWiring({ id: 'x', subscriptions: [{ pubsubname: 'p', topic: 't', type: 'STREAMING', rules: [{ path: '/nowhere' }] }] });
    expect(compareWiring(readDaprdWiring(METADATA), app(), redactAll)).toEqual([]); // the probe path and the routes compared as daprd sent them
    expect(compareWiring(streaming, app(), redactAll)).toEqual([]);
  });

  it('a streaming subscription is not a route', () => {
    const wiring = readDaprdWiring({ subscriptions: [{ pubsubname: 'p', topic: 't', type: 'STREAMING', rules: [{ path: '/nowhere' }] }] });
    expect(compareWiring(wiring, app())).toEqual([]);
  });

  it('daprd calling another port than the Nest app listens on (a DaprServer set-up) is a warning that names both', () => {
    const findings = compareWiring(readDaprdWiring(METADATA), app({ httpPort: 3001 }));
    expect(findings.map((finding) => finding.kind)).toEqual(['app-port']);
    expect(findings[0].message).toMatch(/port 3000 .*listens on 3001/);
  });

  it('daprd over gRPC without an AppCallback handler, or over HTTP to an app without an HTTP server, is a warning', () => {
    const grpc = readDaprdWiring({ ...METADATA, appConnectionProperties: { port: 50001, protocol: 'grpc' } });
    expect(compareWiring(grpc, app()).map((finding) => finding.kind)).toEqual(['app-protocol']);
    expect(compareWiring(grpc, app({ appCallback: true }))).toEqual([]);
    expect(compareWiring(readDaprdWiring(METADATA), app({ httpServer: false, httpPort: undefined, routes: [] })).map((finding) => finding.kind)).toEqual(
      expect.arrayContaining(['app-protocol']),
    );
  });

  it('a probe path the module does not exempt is a warning with the option to set', () => {
    const findings = compareWiring(readDaprdWiring(METADATA), app({ healthCheckPath: '/api/healthz' }));
    expect(findings.map((finding) => finding.kind)).toEqual(['health-path']);
    expect(findings[0].message).toContain("healthCheckPath: '/healthz'");
  });
});
