import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { CommunicationProtocolEnum, DaprClient, HttpMethod } from '@dapr/dapr';
import { DaprAuthStatus } from 'nestjs-dapr-auth';
import type { Daprd, DaprdOptions } from '../../scripts/dapr/daprd-process.mjs';
import { DAPR_VERSION, isAtLeast, MIN_DAPR_VERSION } from '../../scripts/dapr/install-daprd.mjs';
import { startExampleApp } from '../../src/bootstrap.js';
import { OrdersService } from '../../src/orders.service.js';
import { startGrpcApp } from '../support/grpc-test-app.js';
import { HTTP_PLATFORMS, startHttpApp, testLogger } from '../support/http.js';
import { httpTestModuleWith } from '../support/http-test-app.js';
import { freePort } from '../support/ports.js';
import { findLeak } from '../support/secrets.js';
import { TOKEN, WRONG_TOKEN } from '../support/tokens.js';
import { DaprFleet, eventually, recordRequests, type SeenRequest } from './harness.js';
import { startRecordingGrpcApp } from './recording-app.js';

/**
 * The example app (src/) behind a real daprd built from github.com/dapr/dapr (see
 * scripts/dapr/install-daprd.mjs), called through daprd's own HTTP and gRPC APIs. Every daprd here
 * runs in self-hosted mode on 127.0.0.1, with free ports, and is stopped in afterAll.
 */

const fleet = new DaprFleet();
const daprd = (options: Omit<DaprdOptions, 'daprdPath'>) => fleet.daprd(options);
const stopAll = () => fleet.stopAll();
const withDaprdLogs = (body: () => Promise<void>) => fleet.withLogs(body);

function invokeOverHttp(sidecar: Daprd, appId: string, body: object) {
  return fetch(`${sidecar.httpUrl}/v1.0/invoke/${appId}/method/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
}

async function invokeOverGrpc(sidecar: Daprd, appId: string, body: object): Promise<unknown> {
  const client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(sidecar.grpcPort),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    logger: { level: 0 },
  });
  try {
    return await client.invoker.invoke(appId, 'orders', HttpMethod.POST, body);
  } finally {
    await client.stop();
  }
}

const originalToken = process.env.APP_API_TOKEN;

describe.each(['http', 'grpc'] as const)('the example app behind a real daprd (--app-protocol %s)', (appProtocol) => {
  let app: INestApplication;
  let orders: OrdersService;
  let sidecar: Daprd;
  let appPort: number;
  let seen: SeenRequest[];
  const delivered = (kind: string, marker: string) =>
    orders.recorded().filter((event) => event.kind === kind && JSON.stringify(event.payload).includes(marker));

  beforeAll(async () => {
    process.env.APP_API_TOKEN = TOKEN;
    // Not what this suite is about: the example's @DaprCallers route starts without DAPR_API_TOKEN (callers.dapr-spec has it).
    process.env.DAPR_AUTH_ALLOW_FORGEABLE_CALLERS = 'true';
    const [httpPort, grpcPort] = await Promise.all([freePort(), freePort()]);
    ({ app } = await startExampleApp({ httpPort, grpcPort, metricsPort: false, logger: testLogger() }));
    orders = app.get(OrdersService);
    seen = recordRequests(app, TOKEN);
    appPort = appProtocol === 'http' ? httpPort : grpcPort;
    sidecar = await daprd({ appId: 'orders', appPort, appProtocol, token: TOKEN });
  });

  afterAll(async () => {
    await stopAll();
    await app?.close();
    if (originalToken === undefined) delete process.env.APP_API_TOKEN;
    else process.env.APP_API_TOKEN = originalToken;
  });

  it(
    "accepts service invocation through daprd's HTTP API",
    withDaprdLogs(async () => {
      const response = await invokeOverHttp(sidecar, 'orders', { item: 'tea', quantity: 2 });
      const body = await response.text();
      expect({ status: response.status, body }).toMatchObject({ status: appProtocol === 'http' ? 201 : 200 });
      expect(JSON.parse(body)).toMatchObject({ item: 'tea', quantity: 2, source: appProtocol === 'http' ? 'invoke' : 'grpc' });
    }),
  );

  it(
    "accepts service invocation through daprd's gRPC API (the @dapr/dapr DaprClient)",
    withDaprdLogs(async () => {
      await expect(invokeOverGrpc(sidecar, 'orders', { item: 'coffee' })).resolves.toMatchObject({ item: 'coffee' });
    }),
  );

  it(
    'is reported healthy by daprd, whose probe carries no token',
    withDaprdLogs(async () => {
      await eventually(() => sidecar.logs().includes('App entered healthy status'), 'daprd to report the app healthy');
      expect(sidecar.logs()).not.toContain('App entered un-healthy status');
      if (appProtocol === 'http') {
        const probes = seen.filter((request) => request.path === '/healthz');
        expect(probes.length).toBeGreaterThan(0);
        expect(probes.every((probe) => probe.status === 200 && !probe.withToken)).toBe(true);
      }
    }),
  );

  it(
    "answers daprd's start-up calls: the subscription is registered",
    withDaprdLogs(async () => {
      const metadata = (await (await fetch(`${sidecar.httpUrl}/v1.0/metadata`)).json()) as { subscriptions?: Array<{ pubsubname: string; topic: string }> };
      expect(metadata.subscriptions).toEqual(expect.arrayContaining([expect.objectContaining({ pubsubname: 'pubsub', topic: 'orders' })]));
      if (appProtocol === 'http') {
        // Over HTTP these calls carry the token, and the guard lets them through.
        for (const path of ['/dapr/config', '/dapr/subscribe']) {
          expect(seen.filter((request) => request.path === path)).toEqual(
            expect.arrayContaining([expect.objectContaining({ method: 'GET', status: 200, withToken: true })]),
          );
        }
      }
    }),
  );

  it(
    'receives a pub/sub message daprd delivers to the protected handler',
    withDaprdLogs(async () => {
      const marker = `pubsub-${appProtocol}-${Date.now()}`;
      const published = await fetch(`${sidecar.httpUrl}/v1.0/publish/pubsub/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: marker, quantity: 1 }),
      });
      expect(published.status).toBe(204);
      await eventually(() => delivered('pubsub', marker).length > 0, 'the message to reach the app');
      if (appProtocol === 'http') {
        expect(seen).toEqual(expect.arrayContaining([{ method: 'POST', path: '/events/orders', status: 200, withToken: true }]));
      }
    }),
  );

  it(
    "receives the cron input binding's events on the protected handler",
    withDaprdLogs(async () => {
      await eventually(() => orders.recorded().some((event) => event.kind === 'binding'), 'a cron binding event');
      if (appProtocol === 'http') {
        expect(seen).toEqual(expect.arrayContaining([{ method: 'POST', path: '/cron', status: 200, withToken: true }]));
      }
    }),
  );

  describe('a daprd with a different token', () => {
    let impostor: Daprd;

    beforeAll(async () => {
      // (An app id that shares no 8 characters with a test token: the leak check reads daprd's logs too.)
      impostor = await daprd({ appId: 'impostor', appPort, appProtocol, token: WRONG_TOKEN });
    });

    it(
      "is rejected by the app, and daprd's HTTP API returns 401 to the caller",
      withDaprdLogs(async () => {
        const orderId = async () => Number(((await (await invokeOverHttp(sidecar, 'orders', { item: 'genuine' })).json()) as { id: string }).id);
        const before = await orderId();
        const response = await invokeOverHttp(impostor, 'impostor', { item: 'forged' });
        expect(response.status).toBe(401);
        expect(await orderId()).toBe(before + 1); // the handler never ran for the forged call
        // daprd passes an HTTP app's 401 through, and turns a gRPC app's UNAUTHENTICATED into 401 with the gRPC status in the body.
        expect(await response.json()).toEqual(appProtocol === 'http' ? { statusCode: 401, message: 'Unauthorized' } : { code: 16, message: 'Unauthorized' });
      }),
    );

    it(
      "is rejected by the app, and daprd's gRPC API returns UNAUTHENTICATED (16) to the caller",
      withDaprdLogs(async () => {
        const error = await invokeOverGrpc(impostor, 'impostor', { item: 'forged' }).then(
          () => undefined,
          (reason: unknown) => reason as { code?: number; rawMessage?: string },
        );
        expect(error).toMatchObject({ code: 16, rawMessage: 'Unauthorized' });
      }),
    );

    if (appProtocol === 'http') {
      it(
        'gets 401 on its start-up calls, so it registers no subscription and delivers no binding event',
        withDaprdLogs(async () => {
          for (const [method, path] of [
            ['GET', '/dapr/config'],
            ['GET', '/dapr/subscribe'],
            ['OPTIONS', '/cron'],
          ]) {
            expect(seen).toEqual(expect.arrayContaining([{ method, path, status: 401, withToken: false }]));
          }
          expect(impostor.logs()).toContain('app returned http status code 401 from subscription endpoint');
          const metadata = (await (await fetch(`${impostor.httpUrl}/v1.0/metadata`)).json()) as { subscriptions?: unknown[] };
          expect(metadata.subscriptions ?? []).toEqual([]);
          expect(seen.filter((request) => request.path === '/cron' && request.method === 'POST' && !request.withToken)).toEqual([]);
        }),
      );
    } else {
      it(
        'has its pub/sub delivery rejected with UNAUTHENTICATED (ListTopicSubscriptions itself carries no token)',
        withDaprdLogs(async () => {
          const marker = `forged-${Date.now()}`;
          const published = await fetch(`${impostor.httpUrl}/v1.0/publish/pubsub/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ item: marker }),
          });
          expect(published.status).toBe(204);
          await eventually(() => impostor.logs().includes('code = Unauthenticated desc = Unauthorized'), 'daprd to log the rejected delivery');
          expect(delivered('pubsub', marker)).toEqual([]);
        }),
      );
    }
  });

  it('never made daprd print a token', () => {
    for (const sidecarLogs of fleet.allLogs()) expect(findLeak(sidecarLogs)).toBeUndefined();
  });
});

/**
 * Why the guard exempts daprd's token-less calls by default: with the exemption off, daprd's own
 * health probe is rejected and daprd marks a perfectly good app unhealthy.
 */
describe.each([
  ['http', 'GET /healthz'],
  ['grpc', 'AppCallbackHealthCheck/HealthCheck'],
] as const)('daprd app health checks on a %s app (probe: %s)', (appProtocol, _probe) => {
  let close: (() => Promise<void>) | undefined;
  let status: DaprAuthStatus;

  async function appWith(exemptTokenlessDaprCalls: boolean): Promise<number> {
    if (appProtocol === 'http') {
      const [, expressPlatform] = HTTP_PLATFORMS[0];
      const { app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: TOKEN, global: true, exemptTokenlessDaprCalls }), expressPlatform);
      close = () => app.close();
      status = app.get(DaprAuthStatus);
      return Number(new URL(baseUrl).port);
    }
    const { app, address } = await startGrpcApp({ token: TOKEN, exemptTokenlessDaprCalls });
    close = () => (app as INestMicroservice).close();
    status = app.get(DaprAuthStatus);
    return Number(address.split(':').pop());
  }

  afterEach(async () => {
    await stopAll();
    await close?.();
    close = undefined;
  });

  it(
    'reports the app healthy with the default exemption',
    withDaprdLogs(async () => {
      const sidecar = await daprd({ appId: 'health-on', appPort: await appWith(true), appProtocol, token: TOKEN });
      await eventually(() => sidecar.logs().includes('App entered healthy status'), 'daprd to report the app healthy');
      expect(sidecar.logs()).not.toContain('App entered un-healthy status');
      // The probes passed through the exemption, not with a token.
      expect(status.decisions.exempt).toBeGreaterThan(0);
      expect(status.decisions.accepted).toBe(0);
    }),
  );

  it(
    'never sees the app healthy when exemptTokenlessDaprCalls is false: every probe is rejected',
    withDaprdLogs(async () => {
      // Debug level: daprd logs a failed HTTP probe only there (an app that never was healthy does not "change" status).
      const sidecar = await daprd({
        appId: 'health-off',
        appPort: await appWith(false),
        appProtocol,
        token: TOKEN,
        logLevel: 'debug',
        awaitAppHealthy: false, // it never is
      });
      const failedProbe =
        appProtocol === 'http' ? /health probe successful: false/g : /App health probe could not complete with error: rpc error: code = Unauthenticated/g;
      await eventually(() => (sidecar.logs().match(failedProbe)?.length ?? 0) >= 3, 'three rejected health probes');
      expect(sidecar.logs()).not.toContain('App entered healthy status');
    }),
  );
});

describe('the harness: daprd refuses calls to the app until its first health probe passed (why startDaprd waits for it)', () => {
  afterAll(() => stopAll());

  it(
    'answers 500 "app is not in a healthy state" while that probe is under way, and passes the call once startDaprd resolved',
    withDaprdLogs(async () => {
      const port = await freePort();
      // The first probe fails: daprd's own healthz is 204, and the app unhealthy until the next probe a second later.
      const app = await startRecordingGrpcApp(port, { failedHealthChecks: 1 });
      const invoke = async (sidecar: Daprd, appId: string) => {
        const response = await fetch(`${sidecar.httpUrl}/v1.0/invoke/${appId}/method/marker-harness`, { method: 'POST', body: '{}' });
        return { status: response.status, body: await response.text() };
      };
      try {
        const early = await daprd({ appId: 'slow-probe', appPort: port, appProtocol: 'grpc', token: TOKEN, awaitAppHealthy: false });
        expect(await invoke(early, 'slow-probe')).toEqual({ status: 500, body: expect.stringContaining('app is not in a healthy state') });
        const awaited = await daprd({ appId: 'slow-probe-awaited', appPort: port, appProtocol: 'grpc', token: TOKEN });
        expect(await invoke(awaited, 'slow-probe-awaited')).toEqual({ status: 200, body: '{"ok":true}' });
      } finally {
        await stopAll();
        await app.close();
      }
    }),
  );
});

describe(`the gRPC calls daprd ${DAPR_VERSION} makes without the token (a plain gRPC app that records them)`, () => {
  afterAll(() => stopAll());
  // dapr/dapr#9142: before v1.16.2, pub/sub, binding and job callbacks came without the token too.
  // (`DAPRD_VERSION=v1.16.0 npm run test:dapr -- -t "makes without the token"` shows it.)
  const callbacksCarryToken = isAtLeast(DAPR_VERSION, MIN_DAPR_VERSION);

  it(
    `sends HealthCheck, ListTopicSubscriptions and ListInputBindings without dapr-api-token, although daprd has APP_API_TOKEN; OnTopicEvent and OnBindingEvent ${
      callbacksCarryToken ? 'with it' : 'without it too (older than v1.16.2)'
    }`,
    withDaprdLogs(async () => {
      const port = await freePort();
      const app = await startRecordingGrpcApp(port);
      try {
        const sidecar = await daprd({ appId: 'health-recorded', appPort: port, appProtocol: 'grpc', token: TOKEN });
        const calls = (target: string) => app.deliveries.filter((delivery) => delivery.target === target);
        await eventually(() => calls('HealthCheck').length >= 2 && calls('OnBindingEvent cron').length > 0, 'two health probes and a cron event');
        const published = await fetch(`${sidecar.httpUrl}/v1.0/publish/pubsub/identity`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"marker":"marker-health"}',
        });
        expect(published.status).toBe(204);
        await eventually(() => calls('OnTopicEvent identity').length > 0, 'the pub/sub message');
        expect(sidecar.logs()).toContain('App entered healthy status');
        for (const target of ['HealthCheck', 'ListTopicSubscriptions', 'ListInputBindings']) {
          expect(calls(target).length).toBeGreaterThan(0);
          expect(calls(target).every((delivery) => !delivery.withToken)).toBe(true);
        }
        for (const target of ['OnBindingEvent cron', 'OnTopicEvent identity']) {
          expect(calls(target).every((delivery) => delivery.withToken === callbacksCarryToken)).toBe(true);
        }
      } finally {
        await stopAll();
        await app.close();
      }
    }),
  );

  it(
    'sends no token at all when daprd was started without APP_API_TOKEN',
    withDaprdLogs(async () => {
      const port = await freePort();
      const app = await startRecordingGrpcApp(port);
      try {
        await daprd({ appId: 'no-token', appPort: port, appProtocol: 'grpc', token: undefined });
        await eventually(() => app.deliveries.some((delivery) => delivery.target === 'OnBindingEvent cron'), 'a cron event');
        expect(app.deliveries.length).toBeGreaterThan(0);
        expect(app.deliveries.filter((delivery) => delivery.withToken)).toEqual([]);
      } finally {
        await stopAll();
        await app.close();
      }
    }),
  );
});
