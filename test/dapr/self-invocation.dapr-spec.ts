import { writeFileSync } from 'node:fs';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DaprAuthModule, DaprAuthStatus, DaprCallers } from 'nestjs-dapr-auth';
import type { Daprd } from '../../scripts/dapr/daprd-process.mjs';
import { DAPR_VERSION } from '../../scripts/dapr/install-daprd.mjs';
import { DAPR_PROTO_LOADER_OPTIONS, DAPR_PROTO_ROOT } from '../../src/dapr-protos.js';
import { grpcClient } from '../support/grpc.js';
import { startGrpcModule } from '../support/grpc-test-app.js';
import { testLogger } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { registerSecret } from '../support/secrets.js';
import { TOKEN } from '../support/tokens.js';
import { DaprFleet, eventually } from './harness.js';
import { type Delivery, startRecordingGrpcApp, startRecordingHttpApp } from './recording-app.js';

/**
 * S1 of the trust issue, measured: a client calls the callee app's OWN daprd (self-invocation)
 * over each entry path (HTTP API, gRPC API InvokeService, gRPC proxying with dapr-app-id = the app)
 * and adds each forgery (dapr-caller-app-id in three letter cases and twice, dapr-caller-namespace,
 * dapr-callee-app-id). A plain recording app stands behind each daprd, so this measures daprd.
 * Two daprds per app protocol: `orders` whose API is open (no DAPR_API_TOKEN), and `vault` whose
 * API requires DAPR_API_TOKEN. The rows of docs/caller-identity.md come from these assertions;
 * `CALLER_IDENTITY_REPORT=path.json` writes every observation to a file.
 */
const fleet = new DaprFleet();
const NAMESPACE = 'shop';
const DAPR_API_TOKEN = 'Vq3xK9pL2mZ7nR4tY8wB1cD6fH0jS5aEu2Gi';
/** Well-formed, but not vault's: what an app with the wrong Secret has. */
const OTHER_DAPR_API_TOKEN = 'Tb8nR2yU5iO1pA7sD4fG9hJ3kL6zX0cVm1Qe';
registerSecret(DAPR_API_TOKEN, OTHER_DAPR_API_TOKEN);
const observations: Array<{ daprd: string; appProtocol: string; path: string; attempt: string; daprApiToken: string; outcome: unknown }> = [];

afterAll(() => {
  if (process.env.CALLER_IDENTITY_REPORT)
    writeFileSync(process.env.CALLER_IDENTITY_REPORT.replace(/(\.json)?$/, '.self.json'), JSON.stringify(observations, null, 2));
});

/** What the client adds to pass for another app. `arrives`: the identity the app then reads, alone (measured). */
const FORGERIES: Array<{ name: string; pairs: Array<[string, string]>; arrives: Record<string, string[]> }> = [
  { name: 'nothing', pairs: [], arrives: {} },
  { name: 'dapr-caller-app-id', pairs: [['dapr-caller-app-id', 'checkout']], arrives: { 'dapr-caller-app-id': ['checkout'] } },
  { name: 'Dapr-Caller-App-Id', pairs: [['Dapr-Caller-App-Id', 'checkout']], arrives: { 'dapr-caller-app-id': ['checkout'] } },
  { name: 'DAPR-CALLER-APP-ID', pairs: [['DAPR-CALLER-APP-ID', 'checkout']], arrives: { 'dapr-caller-app-id': ['checkout'] } },
  {
    name: 'dapr-caller-app-id twice',
    pairs: [
      ['dapr-caller-app-id', 'checkout'],
      ['dapr-caller-app-id', 'billing'],
    ],
    arrives: { 'dapr-caller-app-id': ['billing', 'checkout'] },
  },
  {
    name: 'dapr-caller-app-id + dapr-caller-namespace',
    pairs: [
      ['dapr-caller-app-id', 'checkout'],
      ['dapr-caller-namespace', 'prod'],
    ],
    arrives: { 'dapr-caller-app-id': ['checkout'], 'dapr-caller-namespace': ['prod'] },
  },
  { name: 'dapr-callee-app-id', pairs: [['dapr-callee-app-id', 'spoofed']], arrives: { 'dapr-callee-app-id': ['spoofed'] } },
];

/** The identity values an app reads, by lower-case name (one entry holding "a, b" counts as two), sorted. */
function byName(identity: Delivery['identity']): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [name, value] of identity) (result[name.toLowerCase()] ??= []).push(...value.split(', '));
  for (const values of Object.values(result)) values.sort();
  return result;
}

let daprApiClass: any;
function daprApi(address: string): any {
  daprApiClass ??= (grpc.loadPackageDefinition(protoLoader.loadSync(`${DAPR_PROTO_ROOT}/dapr/proto/runtime/v1/dapr.proto`, DAPR_PROTO_LOADER_OPTIONS)) as any)
    .dapr.proto.runtime.v1.Dapr;
  return new daprApiClass(address, grpc.credentials.createInsecure());
}

function metadataOf(pairs: Array<[string, string]>, daprApiToken?: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of pairs) metadata.add(key.toLowerCase(), value);
  if (daprApiToken) metadata.set('dapr-api-token', daprApiToken);
  return metadata;
}

type EntryPath = 'HTTP API' | 'gRPC API (InvokeService)' | 'gRPC proxy (dapr-app-id)';

/** One self-invocation through `sidecar` (whose app id is `appId`); resolves the status the client got (HTTP status, or gRPC code). */
async function invokeSelf(
  path: EntryPath,
  sidecar: Daprd,
  appId: string,
  marker: string,
  pairs: Array<[string, string]>,
  daprApiToken?: string,
): Promise<number> {
  if (path === 'HTTP API') {
    const headers: Array<[string, string]> = [['content-type', 'application/json'], ...pairs];
    if (daprApiToken) headers.push(['dapr-api-token', daprApiToken]);
    const response = await fetch(`${sidecar.httpUrl}/v1.0/invoke/${appId}/method/${marker}`, {
      method: 'POST',
      headers,
      body: '{}',
      signal: AbortSignal.timeout(10000),
    });
    await response.body?.cancel();
    return response.status;
  }
  const client = path === 'gRPC API (InvokeService)' ? daprApi(sidecar.grpcAddress) : grpcClient('Streaming', sidecar.grpcAddress);
  const metadata = metadataOf(pairs, daprApiToken);
  try {
    return await new Promise<number>((resolve) => {
      const done = (error: grpc.ServiceError | null) => resolve(error ? error.code : 0);
      if (path === 'gRPC API (InvokeService)') {
        client.InvokeService(
          {
            id: appId,
            message: { method: marker, data: { typeUrl: '', value: Buffer.from('{}') }, contentType: 'application/json', httpExtension: { verb: 'POST' } },
          },
          metadata,
          { deadline: Date.now() + 10000 },
          done,
        );
      } else {
        metadata.set('dapr-app-id', appId);
        client.Unary({ text: marker }, metadata, { deadline: Date.now() + 10000 }, done);
      }
    });
  } finally {
    client.close();
  }
}

describe.each(['http', 'grpc'] as const)(`self-invocation behind daprd ${DAPR_VERSION} (--app-protocol %s)`, (appProtocol) => {
  const apps: Record<'orders' | 'vault', { deliveries: Delivery[]; close: () => Promise<void> }> = {} as never;
  const sidecars: Record<'orders' | 'vault', Daprd> = {} as never;
  const paths: EntryPath[] = ['HTTP API', 'gRPC API (InvokeService)', ...(appProtocol === 'grpc' ? (['gRPC proxy (dapr-app-id)'] as const) : [])];
  const ok = (path: EntryPath) => (path === 'HTTP API' ? 200 : 0);

  beforeAll(async () => {
    for (const appId of ['orders', 'vault'] as const) {
      const port = await freePort();
      apps[appId] = appProtocol === 'http' ? await startRecordingHttpApp(port) : await startRecordingGrpcApp(port);
      sidecars[appId] = await fleet.daprd({
        appId: appId === 'orders' ? `orders-${appProtocol}` : `vault-${appProtocol}`,
        appPort: port,
        appProtocol,
        token: TOKEN,
        env: { NAMESPACE, ...(appId === 'vault' ? { DAPR_API_TOKEN } : {}) },
        healthCheckPath: false,
        logLevel: 'warn',
      });
    }
  }, 60000);

  afterAll(async () => {
    await fleet.stopAll();
    await Promise.all(Object.values(apps).map((app) => app.close()));
  });

  async function deliveryOf(app: 'orders' | 'vault', marker: string): Promise<Delivery> {
    await eventually(() => apps[app].deliveries.some((delivery) => delivery.marker === marker), `a delivery with ${marker}`);
    return apps[app].deliveries.find((delivery) => delivery.marker === marker)!;
  }

  describe.each(FORGERIES)('the client adds: $name', (forgery) => {
    it.each(paths)("through the app's own daprd, API open (no DAPR_API_TOKEN): %s: the forgery arrives ALONE, with the valid app token", async (path) => {
      const marker = `marker-self-${appProtocol}-${path.replace(/\W+/g, '')}-${forgery.name.replace(/\W+/g, '-')}`;
      const status = await invokeSelf(path, sidecars.orders, sidecars.orders.appId, marker, forgery.pairs);
      if (path === 'gRPC proxy (dapr-app-id)' && forgery.name === 'dapr-callee-app-id') {
        // MEASURED: the proxy routes on a client-sent dapr-callee-app-id: the call goes elsewhere (here: nowhere).
        expect(status).not.toBe(0);
        observations.push({
          daprd: DAPR_VERSION,
          appProtocol,
          path,
          attempt: forgery.name,
          daprApiToken: 'not required',
          outcome: `refused by daprd (${status})`,
        });
        return;
      }
      expect(status).toBe(ok(path));
      const delivery = await deliveryOf('orders', marker);
      const identity = byName(delivery.identity);
      observations.push({ daprd: DAPR_VERSION, appProtocol, path, attempt: forgery.name, daprApiToken: 'not required', outcome: identity });
      expect(delivery.withToken).toBe(true);
      // MEASURED: daprd's local path adds no identity of its own and forwards the client's: a forged id arrives alone.
      expect(identity).toEqual(forgery.arrives);
    });

    it.each(paths)('through its own daprd, API requiring DAPR_API_TOKEN, the client without it: %s: refused by daprd, nothing arrives', async (path) => {
      const marker = `marker-locked-${appProtocol}-${path.replace(/\W+/g, '')}-${forgery.name.replace(/\W+/g, '-')}`;
      const status = await invokeSelf(path, sidecars.vault, sidecars.vault.appId, marker, forgery.pairs);
      observations.push({ daprd: DAPR_VERSION, appProtocol, path, attempt: forgery.name, daprApiToken: 'required, not sent', outcome: status });
      expect(status).toBe(path === 'HTTP API' ? 401 : grpc.status.UNAUTHENTICATED);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(apps.vault.deliveries.some((delivery) => delivery.marker === marker)).toBe(false);
    });
  });

  it.each(paths)('a client holding DAPR_API_TOKEN (the app itself) can still send any caller id: %s', async (path) => {
    const marker = `marker-holder-${appProtocol}-${path.replace(/\W+/g, '')}`;
    const status = await invokeSelf(path, sidecars.vault, sidecars.vault.appId, marker, [['dapr-caller-app-id', 'checkout']], DAPR_API_TOKEN);
    expect(status).toBe(ok(path));
    const identity = byName((await deliveryOf('vault', marker)).identity);
    observations.push({ daprd: DAPR_VERSION, appProtocol, path, attempt: 'dapr-caller-app-id', daprApiToken: 'required, sent', outcome: identity });
    // MEASURED: the token admits its holder, who is trusted as the app itself.
    expect(identity).toEqual({ 'dapr-caller-app-id': ['checkout'] });
  });

  it("GET /v1.0/metadata without a token: 200 from the open daprd, 401 from the one with DAPR_API_TOKEN, 200 from it with the token (what the app's sidecar check asks)", async () => {
    expect((await fetch(`${sidecars.orders.httpUrl}/v1.0/metadata`)).status).toBe(200);
    const locked = await fetch(`${sidecars.vault.httpUrl}/v1.0/metadata`);
    expect(locked.status).toBe(401);
    expect(await locked.text()).toMatch(/invalid api token/);
    expect((await fetch(`${sidecars.vault.httpUrl}/v1.0/metadata`, { headers: { 'dapr-api-token': DAPR_API_TOKEN } })).status).toBe(200);
    expect((await fetch(`${sidecars.vault.httpUrl}/v1.0/metadata`, { headers: { 'dapr-api-token': OTHER_DAPR_API_TOKEN } })).status).toBe(401);
  });

  it('the app finds out which kind of daprd it has (sidecarApiCheck), in the background, with its own DAPR_API_TOKEN at most (never APP_API_TOKEN)', async () => {
    @Controller('x')
    class XController {
      @Get()
      x() {
        return 'x';
      }
    }
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [XController] })
    class CheckedModule {}
    const saved = { DAPR_HTTP_PORT: process.env.DAPR_HTTP_PORT, DAPR_API_TOKEN: process.env.DAPR_API_TOKEN };
    const results: Record<string, string> = {};
    // Which daprd, and the DAPR_API_TOKEN the app has (none, daprd's, another).
    const cases = [
      ['orders', 'orders', DAPR_API_TOKEN],
      ['vault', 'vault', DAPR_API_TOKEN],
      ['vault, the app with another DAPR_API_TOKEN', 'vault', OTHER_DAPR_API_TOKEN],
      ['vault, the app without DAPR_API_TOKEN', 'vault', undefined],
    ] as const;
    try {
      for (const [name, app, daprApiToken] of cases) {
        process.env.DAPR_HTTP_PORT = String(sidecars[app].httpPort);
        if (daprApiToken === undefined) delete process.env.DAPR_API_TOKEN;
        else process.env.DAPR_API_TOKEN = daprApiToken;
        const nest: INestApplication = await NestFactory.create(CheckedModule, { logger: testLogger(), abortOnError: false });
        await nest.init();
        const status = nest.get(DaprAuthStatus);
        await eventually(() => status.sidecarApi.state !== 'checking', `the check against ${name}'s daprd`);
        results[name] = status.sidecarApi.state;
        await nest.close();
      }
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    expect(results).toEqual({
      orders: 'open',
      vault: 'requires-token',
      'vault, the app with another DAPR_API_TOKEN': 'token-refused',
      'vault, the app without DAPR_API_TOKEN': 'unproven',
    });
  });
});

/**
 * F2 of the trust issue: an app `checkout` in namespace `dev` proxies a call to another app's
 * `dapr.proto.runtime.v1.AppCallback/OnInvoke` (it chooses that method path itself) and adds
 * `dapr-caller-namespace: shop`. Measured with a recording app, then refused by the library: over
 * gRPC a namespace is never trusted, so `@DaprCallers('shop/checkout')` never matches there.
 */
describe(`a namespace through the gRPC proxy, to AppCallback/OnInvoke (daprd ${DAPR_VERSION})`, () => {
  const f2Fleet = new DaprFleet();
  let recording: { deliveries: Delivery[]; close: () => Promise<void> };
  let guarded: { close: () => Promise<void> };
  let attacker: Daprd;
  let attackerApp: { close: () => Promise<void> };

  @Controller()
  class LedgerController {
    @GrpcMethod('AppCallback', 'OnInvoke')
    @DaprCallers('shop/checkout')
    onInvoke() {
      return { contentType: 'application/json', data: { typeUrl: '', value: Buffer.from('{"ok":true}') } };
    }
  }
  @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, allowForgeableCallers: true })], controllers: [LedgerController] })
  class LedgerModule {}

  beforeAll(async () => {
    const [recordingPort, attackerPort] = await Promise.all([freePort(), freePort()]);
    recording = await startRecordingGrpcApp(recordingPort);
    const nest = await startGrpcModule(LedgerModule);
    guarded = nest.app;
    attackerApp = await startRecordingHttpApp(attackerPort);
    const shop = { NAMESPACE: 'shop' };
    [, , attacker] = await Promise.all([
      f2Fleet.daprd({
        appId: 'ledger-recorded',
        appPort: recordingPort,
        appProtocol: 'grpc',
        token: TOKEN,
        env: shop,
        healthCheckPath: false,
        logLevel: 'warn',
      }),
      f2Fleet.daprd({
        appId: 'ledger',
        appPort: Number(nest.address.split(':')[1]),
        appProtocol: 'grpc',
        token: TOKEN,
        env: shop,
        healthCheckPath: false,
        logLevel: 'warn',
      }),
      f2Fleet.daprd({ appId: 'checkout', appPort: attackerPort, env: { NAMESPACE: 'dev' }, healthCheckPath: false, logLevel: 'warn' }),
    ]);
  }, 60000);

  afterAll(async () => {
    await f2Fleet.stopAll();
    await Promise.all([recording?.close(), guarded?.close(), attackerApp?.close()]);
  });

  const proxyToOnInvoke = (target: string, method: string) => {
    const client = grpcClient('AppCallback', attacker.grpcAddress);
    const metadata = metadataOf([['dapr-caller-namespace', 'shop']]);
    metadata.set('dapr-app-id', target);
    return new Promise<number>((resolve) =>
      client.OnInvoke({ method }, metadata, { deadline: Date.now() + 10000 }, (error: grpc.ServiceError | null) => {
        client.close();
        resolve(error ? error.code : 0);
      }),
    );
  };

  it("MEASURED: the caller's own namespace arrives alone at OnInvoke, next to its real app id", async () => {
    expect(await proxyToOnInvoke('ledger-recorded', 'marker-f2')).toBe(0);
    await eventually(() => recording.deliveries.some((delivery) => delivery.marker === 'marker-f2'), 'the proxied OnInvoke');
    const identity = byName(recording.deliveries.find((delivery) => delivery.marker === 'marker-f2')!.identity);
    observations.push({
      daprd: DAPR_VERSION,
      appProtocol: 'grpc',
      path: 'gRPC proxy to AppCallback/OnInvoke',
      attempt: 'dapr-caller-namespace',
      daprApiToken: 'not required',
      outcome: identity,
    });
    expect(identity['dapr-caller-app-id']).toEqual(['checkout']);
    expect(identity['dapr-caller-namespace']).toEqual(['shop']);
  });

  it("the library: @DaprCallers('shop/checkout') on OnInvoke refuses it (7 PERMISSION_DENIED)", async () => {
    expect(await proxyToOnInvoke('ledger', 'anything')).toBe(grpc.status.PERMISSION_DENIED);
  });
});
