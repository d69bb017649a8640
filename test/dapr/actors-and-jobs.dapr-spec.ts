import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { DaprAuthModule, DaprAuthStatus, DaprPublic } from 'nestjs-dapr-auth';
import { DAPR_VERSION } from '../../scripts/dapr/install-daprd.mjs';
import { startExampleApp } from '../../src/bootstrap.js';
import { ORDER_ACTOR_TYPE, OrderActorController } from '../../src/order-actor.controller.js';
import { OrdersService } from '../../src/orders.service.js';
import { startHttpApp, HTTP_PLATFORMS, testLogger } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { findLeak } from '../support/secrets.js';
import { TOKEN, WRONG_TOKEN } from '../support/tokens.js';
import { DaprFleet, eventually, recordRequests, type SeenRequest } from './harness.js';

/**
 * Actors and jobs, the daprd calls that need the control plane: placement (where each actor
 * lives) and scheduler (reminders and jobs), both built from the same release as daprd and
 * started here on 127.0.0.1. The example app hosts OrderActor over HTTP and takes jobs over HTTP
 * (`POST /job/{name}`) and gRPC (`AppCallbackAlpha/OnJobEventAlpha1`).
 */

const fleet = new DaprFleet();
const withLogs = (body: () => Promise<void>) => fleet.withLogs(body);
const originalToken = process.env.APP_API_TOKEN;
const originalIdleTimeout = process.env.ACTOR_IDLE_TIMEOUT;

function restoreEnvironment(): void {
  for (const [name, value] of [
    ['APP_API_TOKEN', originalToken],
    ['ACTOR_IDLE_TIMEOUT', originalIdleTimeout],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/** Calls daprd's HTTP API; `body` is sent as JSON. */
async function daprApi(httpUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${httpUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  return { status: response.status, text: await response.text() };
}

/** Invokes an actor method, retrying while daprd has not yet received placement's table. */
async function invokeActor(httpUrl: string, id: string, method: string, body: unknown): Promise<{ status: number; text: string }> {
  let last = { status: 0, text: '' };
  await eventually(async () => {
    last = await daprApi(httpUrl, 'PUT', `/v1.0/actors/${ORDER_ACTOR_TYPE}/${id}/method/${method}`, body);
    return !/placement|not found|did not find address/i.test(last.text) || last.status < 400;
  }, `placement to know ${ORDER_ACTOR_TYPE}`);
  return last;
}

const requestsTo = (seen: SeenRequest[], method: string, path: string) => seen.filter((request) => request.method === method && request.path === path);

afterAll(async () => {
  await fleet.stopAll();
  restoreEnvironment();
});

describe(`actors and jobs behind daprd ${DAPR_VERSION} with placement and scheduler (HTTP app)`, () => {
  let app: INestApplication;
  let orders: OrdersService;
  let seen: SeenRequest[];
  let httpUrl: string;
  let appPort: number;
  let controlPlane: { placementAddress: string; schedulerAddress: string };
  const recorded = (kind: string) => orders.recorded().filter((event) => event.kind === kind);

  beforeAll(async () => {
    process.env.APP_API_TOKEN = TOKEN;
    // Not what this suite is about: the example's @DaprCallers route starts without DAPR_API_TOKEN (callers.dapr-spec has it).
    process.env.DAPR_AUTH_ALLOW_FORGEABLE_CALLERS = 'true';
    // Short, so that the deactivation daprd sends an idle actor is seen within the test.
    process.env.ACTOR_IDLE_TIMEOUT = '3s';
    [appPort] = [await freePort()];
    ({ app } = await startExampleApp({ httpPort: appPort, grpcPort: await freePort(), metricsPort: false, logger: testLogger() }));
    orders = app.get(OrdersService);
    seen = recordRequests(app, TOKEN);
    controlPlane = await fleet.controlPlane();
    ({ httpUrl } = await fleet.daprd({ appId: 'orders', appPort, token: TOKEN, ...controlPlane }));
  });

  afterAll(async () => {
    await fleet.stopAll();
    await app?.close();
  });

  it(
    'gets /dapr/config with the token and hosts the actor type it lists',
    withLogs(async () => {
      expect(requestsTo(seen, 'GET', '/dapr/config')).toEqual(expect.arrayContaining([expect.objectContaining({ status: 200, withToken: true })]));
      const metadata = JSON.parse((await daprApi(httpUrl, 'GET', '/v1.0/metadata')).text) as { actors?: Array<{ type: string }> };
      expect(metadata.actors).toEqual(expect.arrayContaining([expect.objectContaining({ type: ORDER_ACTOR_TYPE })]));
    }),
  );

  it(
    'runs an actor method: PUT /actors/{type}/{id}/method/{method} arrives with the token',
    withLogs(async () => {
      const first = await invokeActor(httpUrl, 'cart-1', 'addItem', { item: 'tea' });
      expect(first).toEqual({ status: 200, text: JSON.stringify({ id: 'cart-1', items: ['tea'] }) });
      const second = await invokeActor(httpUrl, 'cart-1', 'addItem', { item: 'cake' });
      expect(JSON.parse(second.text)).toEqual({ id: 'cart-1', items: ['tea', 'cake'] });
      expect(requestsTo(seen, 'PUT', `/actors/${ORDER_ACTOR_TYPE}/cart-1/method/addItem`)).toEqual([
        { method: 'PUT', path: `/actors/${ORDER_ACTOR_TYPE}/cart-1/method/addItem`, status: 200, withToken: true },
        { method: 'PUT', path: `/actors/${ORDER_ACTOR_TYPE}/cart-1/method/addItem`, status: 200, withToken: true },
      ]);
    }),
  );

  it(
    'fires an actor timer: PUT /actors/{type}/{id}/method/timer/{name} arrives with the token',
    withLogs(async () => {
      await invokeActor(httpUrl, 'cart-timer', 'items', null);
      const created = await daprApi(httpUrl, 'POST', `/v1.0/actors/${ORDER_ACTOR_TYPE}/cart-timer/timers/tick`, { dueTime: '0s', period: '', data: 'tick' });
      expect(created.status).toBe(204);
      await eventually(() => recorded('actor-timer').length > 0, 'the timer callback');
      expect(requestsTo(seen, 'PUT', `/actors/${ORDER_ACTOR_TYPE}/cart-timer/method/timer/tick`)[0]).toMatchObject({ status: 200, withToken: true });
    }),
  );

  it(
    'fires an actor reminder (kept by scheduler): PUT /actors/{type}/{id}/method/remind/{name} arrives with the token',
    withLogs(async () => {
      const created = await daprApi(httpUrl, 'POST', `/v1.0/actors/${ORDER_ACTOR_TYPE}/cart-reminder/reminders/nudge`, { dueTime: '1s', data: 'nudge' });
      expect(created.status).toBe(204);
      await eventually(() => recorded('actor-reminder').length > 0, 'the reminder callback', 20000);
      expect(requestsTo(seen, 'PUT', `/actors/${ORDER_ACTOR_TYPE}/cart-reminder/method/remind/nudge`)[0]).toMatchObject({ status: 200, withToken: true });
    }),
  );

  it(
    'deactivates an idle actor: DELETE /actors/{type}/{id} arrives with the token',
    withLogs(async () => {
      await invokeActor(httpUrl, 'cart-idle', 'addItem', { item: 'soup' });
      await eventually(() => recorded('actor-deactivated').some((event) => (event.payload as { id: string }).id === 'cart-idle'), 'the deactivation', 20000);
      expect(requestsTo(seen, 'DELETE', `/actors/${ORDER_ACTOR_TYPE}/cart-idle`)).toEqual([
        { method: 'DELETE', path: `/actors/${ORDER_ACTOR_TYPE}/cart-idle`, status: 200, withToken: true },
      ]);
    }),
  );

  it(
    "delivers a job scheduled through daprd's Jobs API: POST /job/{name} arrives with the token",
    withLogs(async () => {
      const scheduled = await daprApi(httpUrl, 'POST', '/v1.0-alpha1/jobs/restock-http', { dueTime: '1s', data: { item: 'tea' } });
      expect(scheduled.status).toBe(204);
      await eventually(() => recorded('job').some((event) => (event.payload as { name: string }).name === 'restock-http'), 'the job', 20000);
      expect(requestsTo(seen, 'POST', '/job/restock-http')).toEqual([{ method: 'POST', path: '/job/restock-http', status: 200, withToken: true }]);
    }),
  );

  describe('a daprd with another token, on the same app, placement and scheduler', () => {
    let impostorUrl: string;

    beforeAll(async () => {
      ({ httpUrl: impostorUrl } = await fleet.daprd({ appId: 'impostor', appPort, token: WRONG_TOKEN, ...controlPlane }));
    });

    it(
      'has /dapr/config refused, so it hosts no actors and never calls /actors/... on the app',
      withLogs(async () => {
        expect(requestsTo(seen, 'GET', '/dapr/config')).toEqual(expect.arrayContaining([expect.objectContaining({ status: 401, withToken: false })]));
        const metadata = JSON.parse((await daprApi(impostorUrl, 'GET', '/v1.0/metadata')).text) as { actors?: unknown[] };
        expect(metadata.actors ?? []).toEqual([]);
        expect(seen.filter((request) => request.path.startsWith('/actors/') && !request.withToken)).toEqual([]);
      }),
    );

    it(
      'has its job refused with 401; daprd retries it 3 times, 1 s apart (the default job failure policy), and the handler never runs',
      withLogs(async () => {
        const scheduled = await daprApi(impostorUrl, 'POST', '/v1.0-alpha1/jobs/forged-job', { dueTime: '0s', data: { item: 'forged' } });
        expect(scheduled.status).toBe(204);
        await eventually(() => requestsTo(seen, 'POST', '/job/forged-job').length >= 4, 'daprd to retry the refused job', 20000);
        await new Promise((resolve) => setTimeout(resolve, 3000));
        expect(requestsTo(seen, 'POST', '/job/forged-job')).toHaveLength(4);
        expect(requestsTo(seen, 'POST', '/job/forged-job').every((request) => request.status === 401 && !request.withToken)).toBe(true);
        expect(recorded('job').filter((event) => (event.payload as { name: string }).name === 'forged-job')).toEqual([]);
        // daprd reports an HTTP app's refusal of a job as a gRPC status code (16, from the app's 401).
        expect(fleet.allLogs().join('\n')).toContain(
          'unexpected status code returned from app while processing triggered job forged-job. status code returned: 16',
        );
      }),
    );
  });
});

describe(`jobs behind daprd ${DAPR_VERSION} (gRPC app: AppCallbackAlpha/OnJobEventAlpha1)`, () => {
  let app: INestApplication;
  let orders: OrdersService;
  let genuineUrl: string;
  let impostorUrl: string;
  const jobsNamed = (name: string) => orders.recorded().filter((event) => event.kind === 'job' && (event.payload as { name: string }).name === name);

  beforeAll(async () => {
    process.env.APP_API_TOKEN = TOKEN;
    // Not what this suite is about: the example's @DaprCallers route starts without DAPR_API_TOKEN (callers.dapr-spec has it).
    process.env.DAPR_AUTH_ALLOW_FORGEABLE_CALLERS = 'true';
    const appGrpcPort = await freePort();
    ({ app } = await startExampleApp({ httpPort: await freePort(), grpcPort: appGrpcPort, metricsPort: false, logger: testLogger() }));
    orders = app.get(OrdersService);
    const controlPlane = await fleet.controlPlane();
    const sidecar = { appPort: appGrpcPort, appProtocol: 'grpc' as const, ...controlPlane };
    ({ httpUrl: genuineUrl } = await fleet.daprd({ appId: 'orders', token: TOKEN, ...sidecar }));
    ({ httpUrl: impostorUrl } = await fleet.daprd({ appId: 'impostor', token: WRONG_TOKEN, ...sidecar }));
  });

  afterAll(async () => {
    await fleet.stopAll();
    await app?.close();
  });

  it(
    'delivers the job with the token: the guarded handler runs',
    withLogs(async () => {
      const accepted = app.get(DaprAuthStatus).decisions.accepted;
      const scheduled = await daprApi(genuineUrl, 'POST', '/v1.0-alpha1/jobs/restock-grpc', { dueTime: '1s', data: { item: 'tea' } });
      expect(scheduled.status).toBe(204);
      await eventually(() => jobsNamed('restock-grpc').length > 0, 'the job', 20000);
      expect(jobsNamed('restock-grpc')).toHaveLength(1);
      expect(app.get(DaprAuthStatus).decisions.accepted).toBeGreaterThan(accepted);
    }),
  );

  it(
    'refuses the job from a daprd with another token with UNAUTHENTICATED; daprd retries it 3 times and the handler never runs',
    withLogs(async () => {
      const rejected = app.get(DaprAuthStatus).decisions.rejected;
      const scheduled = await daprApi(impostorUrl, 'POST', '/v1.0-alpha1/jobs/forged-grpc-job', { dueTime: '0s', data: { item: 'forged' } });
      expect(scheduled.status).toBe(204);
      const refusal = 'msg="unexpected status code returned from app while processing triggered job forged-grpc-job. status code returned: 16"';
      const refusals = () => fleet.allLogs().join('\n').split(refusal).length - 1;
      await eventually(() => refusals() >= 4, 'four refused attempts', 20000);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(refusals()).toBe(4);
      // (At least: the impostor's cron binding events are refused meanwhile too.)
      expect(app.get(DaprAuthStatus).decisions.rejected - rejected).toBeGreaterThanOrEqual(4);
      expect(jobsNamed('forged-grpc-job')).toEqual([]);
    }),
  );
});

/** A set-up mistake the start-up audit warns about: /dapr/config made public. */
@Controller('dapr')
class PublicConfigController {
  @Get('config')
  @DaprPublic()
  config() {
    return { entities: [ORDER_ACTOR_TYPE], actorIdleTimeout: '2s' };
  }
}

@Module({
  imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, unprotected: 'ignore' })],
  controllers: [PublicConfigController, OrderActorController],
  providers: [OrdersService],
})
class PublicConfigActorModule {}

describe(`actor callbacks from a daprd ${DAPR_VERSION} with another token (the app made /dapr/config public, so that daprd hosts its actors)`, () => {
  let app: INestApplication;
  let seen: SeenRequest[];
  let impostorUrl: string;

  beforeAll(async () => {
    let baseUrl: string;
    ({ app, baseUrl } = await startHttpApp(PublicConfigActorModule, HTTP_PLATFORMS[0][1]));
    seen = recordRequests(app, TOKEN);
    const controlPlane = await fleet.controlPlane();
    ({ httpUrl: impostorUrl } = await fleet.daprd({
      appId: 'impostor',
      appPort: Number(new URL(baseUrl).port),
      token: WRONG_TOKEN,
      healthCheckPath: false,
      ...controlPlane,
    }));
  });

  afterAll(async () => {
    await fleet.stopAll();
    await app?.close();
  });

  const actorCalls = () => seen.filter((request) => request.path.startsWith('/actors/'));
  const impostorLogs = () => fleet.allLogs().join('\n');

  it(
    'refuses the actor method with 401; daprd answers its caller 500 ERR_ACTOR_INVOKE_METHOD quoting the 401',
    withLogs(async () => {
      const result = await invokeActor(impostorUrl, 'cart-x', 'addItem', { item: 'forged' });
      expect(result.status).toBe(500);
      expect(JSON.parse(result.text)).toEqual({
        errorCode: 'ERR_ACTOR_INVOKE_METHOD',
        message: 'error invoke actor method: error from actor service: (401) {"message":"Unauthorized","statusCode":401}',
      });
      expect(actorCalls()).toEqual([{ method: 'PUT', path: `/actors/${ORDER_ACTOR_TYPE}/cart-x/method/addItem`, status: 401, withToken: false }]);
    }),
  );

  it(
    'refuses the timer callback with 401; daprd logs it and does not retry a one-shot timer',
    withLogs(async () => {
      const created = await daprApi(impostorUrl, 'POST', `/v1.0/actors/${ORDER_ACTOR_TYPE}/cart-x/timers/tick`, { dueTime: '0s', period: '' });
      expect(created.status).toBe(204);
      await eventually(() => impostorLogs().includes('Error executing timer: error from actor service: (401)'), 'daprd to log the refused timer');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(actorCalls().filter((request) => request.path.endsWith('/timer/tick'))).toEqual([
        { method: 'PUT', path: `/actors/${ORDER_ACTOR_TYPE}/cart-x/method/timer/tick`, status: 401, withToken: false },
      ]);
    }),
  );

  it(
    'refuses the reminder callback with 401; scheduler retries it 3 times, 1 s apart (its default failure policy), then gives up',
    withLogs(async () => {
      const created = await daprApi(impostorUrl, 'POST', `/v1.0/actors/${ORDER_ACTOR_TYPE}/cart-x/reminders/nudge`, { dueTime: '0s' });
      expect(created.status).toBe(204);
      const reminderCalls = () => actorCalls().filter((request) => request.path.endsWith('/remind/nudge'));
      await eventually(() => reminderCalls().length >= 4, 'four reminder attempts', 20000);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(reminderCalls()).toHaveLength(4);
      expect(reminderCalls().every((request) => request.status === 401 && !request.withToken)).toBe(true);
      expect(impostorLogs()).toContain('failed to invoke scheduled actor reminder named: nudge due to: error from actor service: (401)');
    }),
  );

  it(
    'refuses the deactivation with 401; daprd logs "Failed to halt actor"',
    withLogs(async () => {
      await eventually(() => actorCalls().some((request) => request.method === 'DELETE'), 'the deactivation of the idle actor', 20000);
      // (One per activation: the timer and reminder above may have activated cart-x more than once.)
      const deactivations = actorCalls().filter((request) => request.method === 'DELETE');
      expect(deactivations.every((request) => request.path === `/actors/${ORDER_ACTOR_TYPE}/cart-x` && request.status === 401 && !request.withToken)).toBe(
        true,
      );
      await eventually(
        () => impostorLogs().includes(`Failed to halt actor ${ORDER_ACTOR_TYPE}||cart-x: error from actor service: (401)`),
        'the logged failure',
      );
      expect(app.get(OrdersService).recorded()).toEqual([]); // no actor handler ever ran
    }),
  );
});

it('never made daprd, placement or scheduler print a token', () => {
  for (const logs of fleet.allLogs()) expect(findLeak(logs)).toBeUndefined();
});
