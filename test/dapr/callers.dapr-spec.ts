import { Controller, type INestApplication, type INestMicroservice, Module, Post } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DaprAuthModule, DaprAuthStatus, DaprCallers } from 'nestjs-dapr-auth';
import type { Daprd } from '../../scripts/dapr/daprd-process.mjs';
import { DAPR_VERSION } from '../../scripts/dapr/install-daprd.mjs';
import { DAPR_PROTO_LOADER_OPTIONS, DAPR_PROTO_ROOT } from '../../src/dapr-protos.js';
import { eventually } from '../support/eventually.js';
import { grpcClient } from '../support/grpc.js';
import { startGrpcModule } from '../support/grpc-test-app.js';
import { HTTP_PLATFORMS, startHttpApp } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { registerSecret } from '../support/secrets.js';
import { TOKEN } from '../support/tokens.js';
import { DaprFleet } from './harness.js';
import { startRecordingHttpApp } from './recording-app.js';

/**
 * @DaprCallers('checkout') on a Nest app behind a real daprd (`orders`), called by two other
 * daprds: `checkout` (allowed) and `intruder` (not), over every invocation path, with every
 * spoofing attempt of docs/caller-identity.md. Also self-invocation, which carries no identity.
 * The app knows its daprd (DAPR_HTTP_PORT, as under `dapr run` and the injector), so its caller
 * rules refuse until its sidecar check has proven that orders' daprd requires DAPR_API_TOKEN.
 */
// Every daprd is tracked as it starts: when one of several started together fails, the others
// are still stopped (an orphaned daprd answers for its app id over mDNS in the next suite).
const fleet = new DaprFleet();

@Controller()
class RestrictedController {
  @Post('restricted')
  @DaprCallers('checkout')
  restricted() {
    return { ok: true };
  }

  @GrpcMethod('AppCallback', 'OnInvoke')
  @DaprCallers('checkout')
  onInvoke() {
    return { contentType: 'application/json', data: { typeUrl: '', value: Buffer.from('{"ok":true}') } };
  }

  @GrpcMethod('Streaming', 'Unary')
  @DaprCallers('checkout')
  unary() {
    return { text: 'ok' };
  }
}

@Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [RestrictedController] })
class RestrictedModule {}

const SPOOFS: Array<Array<[string, string]>> = [
  [['dapr-caller-app-id', 'checkout']],
  [['Dapr-Caller-App-Id', 'checkout']],
  [['DAPR-CALLER-APP-ID', 'checkout']],
  [
    ['dapr-caller-app-id', 'checkout'],
    ['dapr-caller-app-id', 'checkout'],
  ],
];

/** orders' daprd requires it on its API (what @DaprCallers needs: other clients cannot self-invoke), and the app has it. */
const DAPR_API_TOKEN = 'Hk4vN8qW1zT6yP3mB9cX2rL7sD5gJ0fAe4Uo';
registerSecret(DAPR_API_TOKEN);

let daprApi: any;
function invokeService(sidecar: Daprd, metadata: grpc.Metadata): Promise<number> {
  daprApi ??= (grpc.loadPackageDefinition(protoLoader.loadSync(`${DAPR_PROTO_ROOT}/dapr/proto/runtime/v1/dapr.proto`, DAPR_PROTO_LOADER_OPTIONS)) as any).dapr
    .proto.runtime.v1.Dapr;
  const client = new daprApi(sidecar.grpcAddress, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.InvokeService(
      {
        id: 'orders',
        message: { method: 'restricted', data: { typeUrl: '', value: Buffer.from('{}') }, contentType: 'application/json', httpExtension: { verb: 'POST' } },
      },
      metadata,
      { deadline: Date.now() + 10000 },
      (error: grpc.ServiceError | null) => {
        client.close();
        resolve(error ? error.code : 0);
      },
    ),
  );
}

function metadataOf(pairs: Array<[string, string]>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of pairs) metadata.add(key.toLowerCase(), value);
  return metadata;
}

describe.each(['http', 'grpc'] as const)(`@DaprCallers('checkout') behind daprd ${DAPR_VERSION} (--app-protocol %s)`, (appProtocol) => {
  let app: INestApplication | INestMicroservice;
  let orders: Daprd;
  let checkout: Daprd;
  let intruder: Daprd;
  const callerApps: Array<{ close: () => Promise<void> }> = [];

  beforeAll(async () => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    // Read when the app starts (before its daprd: the check retries until daprd answers); the
    // daprds started below do not get it.
    const ordersHttpPort = await freePort();
    const savedHttpPort = process.env.DAPR_HTTP_PORT;
    process.env.DAPR_HTTP_PORT = String(ordersHttpPort);
    let appPort: number;
    if (appProtocol === 'http') {
      const started = await startHttpApp(RestrictedModule, HTTP_PLATFORMS[0][1]);
      app = started.app;
      appPort = Number(new URL(started.baseUrl).port);
    } else {
      const started = await startGrpcModule(RestrictedModule);
      app = started.app;
      appPort = Number(started.address.split(':')[1]);
    }
    if (savedHttpPort === undefined) delete process.env.DAPR_HTTP_PORT;
    else process.env.DAPR_HTTP_PORT = savedHttpPort;
    const [checkoutPort, intruderPort] = await Promise.all([freePort(), freePort()]);
    callerApps.push(await startRecordingHttpApp(checkoutPort), await startRecordingHttpApp(intruderPort));
    [orders, checkout, intruder] = await Promise.all([
      fleet.daprd({
        appId: 'orders',
        appPort,
        appProtocol,
        token: TOKEN,
        httpPort: ordersHttpPort,
        env: { DAPR_API_TOKEN },
        healthCheckPath: false,
        logLevel: 'warn',
      }),
      fleet.daprd({ appId: 'checkout', appPort: checkoutPort, healthCheckPath: false, logLevel: 'warn' }),
      fleet.daprd({ appId: 'intruder', appPort: intruderPort, healthCheckPath: false, logLevel: 'warn' }),
    ]);
    // Until proven, every caller rule refuses (sidecar-api-unverified): the accepting tests need it.
    const status = app.get(DaprAuthStatus);
    await eventually(() => status.sidecarApi.state === 'requires-token', "the app's sidecar check to prove that orders' daprd requires DAPR_API_TOKEN", 30000);
  }, 60000);

  afterAll(async () => {
    await fleet.stopAll();
    await Promise.all(callerApps.map((callerApp) => callerApp.close()));
    await app?.close();
    delete process.env.DAPR_API_TOKEN;
  });

  const overHttpApi = async (sidecar: Daprd, headers: Array<[string, string]> = []) =>
    (
      await fetch(`${sidecar.httpUrl}/v1.0/invoke/orders/method/restricted`, {
        method: 'POST',
        headers: [['content-type', 'application/json'], ...headers],
        body: '{}',
        signal: AbortSignal.timeout(10000),
      })
    ).status;

  it("the app's sidecar check proved that orders' daprd requires DAPR_API_TOKEN (401 without it, 2xx with the app's own)", () => {
    expect(app.get(DaprAuthStatus).sidecarApi).toMatchObject({ state: 'requires-token', statusCode: 401 });
    expect(app.get(DaprAuthStatus).callerRulesRefused).toBe(false);
  });

  it("accepts the allowed app through its daprd's HTTP and gRPC APIs", async () => {
    expect(await overHttpApi(checkout)).toBe(appProtocol === 'http' ? 201 : 200);
    expect(await invokeService(checkout, new grpc.Metadata())).toBe(0);
  });

  it('refuses another app: 403 through the HTTP API, PERMISSION_DENIED through the gRPC API', async () => {
    expect(await overHttpApi(intruder)).toBe(403);
    expect(await invokeService(intruder, new grpc.Metadata())).toBe(grpc.status.PERMISSION_DENIED);
  });

  it.each(SPOOFS.map((spoof) => [spoof.map(([name]) => name).join(' + '), spoof]))('refuses the other app sending its own %s', async (_name, spoof) => {
    expect(await overHttpApi(intruder, spoof as Array<[string, string]>)).toBe(403);
    expect(await invokeService(intruder, metadataOf(spoof as Array<[string, string]>))).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("self-invocation: orders' daprd refuses a client without DAPR_API_TOKEN (401), so nobody else can forge the caller there", async () => {
    for (const spoof of [[], ...SPOOFS]) expect(await overHttpApi(orders, spoof)).toBe(401);
    expect(await invokeService(orders, metadataOf([['dapr-caller-app-id', 'checkout']]))).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('self-invocation by a holder of DAPR_API_TOKEN without a caller id: 403 (it carries none)', async () => {
    expect(await overHttpApi(orders, [['dapr-api-token', DAPR_API_TOKEN]])).toBe(403);
  });

  if (appProtocol === 'grpc') {
    it("proxied gRPC calls to the app's own service: the allowed app passes, the other one is refused even when it sends the allowed id", async () => {
      const call = (sidecar: Daprd, pairs: Array<[string, string]>) => {
        const client = grpcClient('Streaming', sidecar.grpcAddress);
        const metadata = metadataOf(pairs);
        metadata.set('dapr-app-id', 'orders');
        return new Promise<number>((resolve) =>
          client.Unary({ text: 'x' }, metadata, { deadline: Date.now() + 10000 }, (error: grpc.ServiceError | null) => {
            client.close();
            resolve(error ? error.code : 0);
          }),
        );
      };
      expect(await call(checkout, [])).toBe(0);
      expect(await call(intruder, [])).toBe(grpc.status.PERMISSION_DENIED);
      for (const spoof of SPOOFS) expect(await call(intruder, spoof)).toBe(grpc.status.PERMISSION_DENIED);
    });
  }
});
