import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplication, Injectable, Module, type OnModuleInit, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { DaprAuthModule, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { DAPR_TEST_TOKEN, withDaprTestToken } from 'nestjs-dapr-auth/testing';
import { callUnary, grpcClient, grpcServerOptions, tokenMetadata } from './support/grpc.js';
import { grpcTestModule, TestAppCallbackController } from './support/grpc-test-app.js';
import { testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';
import { KubeletAtomicWriter } from './support/atomic-writer.js';
import { eventually } from './support/eventually.js';

/**
 * Several apps in one process built from the same controller classes (as e2e suites and
 * multi-tenant hosts do). `global: true` protects their gRPC handlers through the handlers'
 * metadata, which all apps share: each call must be decided by the app whose server received it,
 * with that app's own token, whatever other apps are alive, closed, restarted, report-only, failed
 * or under test, and whatever the order of create, close and connect (issue 29, G1 and G6).
 */
const moduleWith = (token: string, options: DaprAuthModuleOptions = {}, providers: Type[] = []) => {
  @Module({ imports: [DaprAuthModule.forRoot({ token, global: true, unprotected: 'error', ...options })], controllers: [TestAppCallbackController], providers })
  class TenantModule {}
  return TenantModule;
};

/** A provider of the app's own whose start-up fails, after DaprAuthModule was built. */
@Injectable()
class FailsOnInit implements OnModuleInit {
  onModuleInit(): void {
    throw new Error('fails on init');
  }
}

interface Tenant {
  app: INestApplication;
  token: string;
  address?: string;
}

async function create(token: string): Promise<Tenant> {
  return { app: await NestFactory.create(moduleWith(token), { logger: testLogger(), abortOnError: false }), token };
}

/** Connects the app's gRPC microservice (no inheritAppConfig: only the handler-level guard of `global: true` protects it). */
async function connect(tenant: Tenant): Promise<void> {
  tenant.address = `127.0.0.1:${await freePort()}`;
  tenant.app.connectMicroservice<MicroserviceOptions>({ transport: Transport.GRPC, options: grpcServerOptions(tenant.address) });
  await tenant.app.startAllMicroservices();
}

/** What OnInvoke answers without a token, with the app's own token, and with the other app's. */
async function answers(tenant: Tenant, otherToken: string): Promise<{ none: number; own: number; other: number }> {
  const client = grpcClient('AppCallback', tenant.address!);
  try {
    const call = (metadata: ReturnType<typeof tokenMetadata>) => callUnary(client, 'OnInvoke', { method: 'x' }, metadata).then(({ code }) => code);
    return { none: await call(tokenMetadata()), own: await call(tokenMetadata(tenant.token)), other: await call(tokenMetadata(otherToken)) };
  } finally {
    client.close();
  }
}

const PROTECTED = { none: 16, own: 0, other: 16 };

describe('two apps from the same classes in one process', () => {
  const open: Tenant[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map(({ app }) => app.close()));
  });
  const track = (tenant: Tenant) => (open.push(tenant), tenant);
  const close = async (tenant: Tenant) => {
    open.splice(open.indexOf(tenant), 1);
    await tenant.app.close();
  };

  it('create A, create B, close B, connect A: A is protected, with its own token', async () => {
    const a = track(await create(TOKEN));
    const b = track(await create(PREVIOUS_TOKEN));
    await close(b);
    await connect(a);
    expect(await answers(a, PREVIOUS_TOKEN)).toEqual(PROTECTED);
  });

  it('create A, connect A, create B, connect B: both protected; then close A: B still protected', async () => {
    const a = track(await create(TOKEN));
    await connect(a);
    const b = track(await create(TOKEN));
    await connect(b);
    expect(await answers(a, PREVIOUS_TOKEN)).toMatchObject({ none: 16, own: 0 });
    expect(await answers(b, PREVIOUS_TOKEN)).toMatchObject({ none: 16, own: 0 });
    await close(a);
    expect(await answers(b, PREVIOUS_TOKEN)).toEqual(PROTECTED);
  });

  it('create A, create B, connect B, connect A, close B: each decides with its own token while both are alive, and after', async () => {
    const a = track(await create(TOKEN));
    const b = track(await create(PREVIOUS_TOKEN));
    await connect(b);
    await connect(a);
    // Both alive: the app whose server received the call decides (G1: the newest app used to).
    expect(await answers(a, PREVIOUS_TOKEN)).toEqual(PROTECTED);
    expect(await answers(b, TOKEN)).toEqual(PROTECTED);
    await close(b);
    expect(await answers(a, PREVIOUS_TOKEN)).toEqual(PROTECTED);
  });

  it('create A, close A, create B, connect B: B protected', async () => {
    const a = track(await create(PREVIOUS_TOKEN));
    await close(a);
    const b = track(await create(TOKEN));
    await connect(b);
    expect(await answers(b, PREVIOUS_TOKEN)).toEqual(PROTECTED);
  });

  /** Other apps of the same classes, alive beside A: none may decide A's calls (G1). */
  const neighbours: Array<[string, () => Promise<unknown>]> = [
    ['a live app with another token', async () => track(await create(PREVIOUS_TOKEN))],
    [
      'a live report-only app',
      async () =>
        track({ app: await NestFactory.create(moduleWith(PREVIOUS_TOKEN, { mode: 'report' }), { logger: testLogger(), abortOnError: false }), token: '' }),
    ],
    [
      'an app whose start-up failed after the module was built (never closed)',
      async () => {
        const failing = await NestFactory.create(moduleWith(PREVIOUS_TOKEN, {}, [FailsOnInit]), { logger: testLogger([]), abortOnError: false });
        await expect(failing.init()).rejects.toThrow('fails on init');
      },
    ],
    [
      'a testing module with withDaprTestToken',
      async () => {
        const moduleRef = await withDaprTestToken(Test.createTestingModule({ imports: [moduleWith(PREVIOUS_TOKEN)] })).compile();
        const app = moduleRef.createNestApplication({ logger: testLogger() });
        await app.init();
        track({ app, token: DAPR_TEST_TOKEN });
      },
    ],
    [
      'a live app connected and serving',
      async () => {
        const b = track(await create(PREVIOUS_TOKEN));
        await connect(b);
      },
    ],
  ];

  describe.each(neighbours)('beside %s', (_name, addNeighbour) => {
    it('created before A: A refuses the neighbour tokens and accepts its own', async () => {
      await addNeighbour();
      const a = track(await create(TOKEN));
      await connect(a);
      expect(await answers(a, PREVIOUS_TOKEN)).toEqual(PROTECTED);
      expect((await answers(a, DAPR_TEST_TOKEN)).other).toBe(16);
    });

    it('created after A was connected: the same', async () => {
      const a = track(await create(TOKEN));
      await connect(a);
      await addNeighbour();
      expect(await answers(a, PREVIOUS_TOKEN)).toEqual(PROTECTED);
      expect((await answers(a, DAPR_TEST_TOKEN)).other).toBe(16);
    });
  });

  it('an app of the same classes WITHOUT global leaves them to their decorators (none) whatever other apps exist', async () => {
    const a = track(await create(TOKEN));
    await connect(a);
    @Module({ imports: [DaprAuthModule.forRoot({ token: PREVIOUS_TOKEN })], controllers: [TestAppCallbackController] })
    class NotGlobalModule {}
    const plain = track({ app: await NestFactory.create(NotGlobalModule, { logger: testLogger(), abortOnError: false }), token: PREVIOUS_TOKEN });
    await connect(plain);
    // Its own configuration: nothing guards OnInvoke there (the start-up audit warns).
    expect(await answers(plain, TOKEN)).toEqual({ none: 0, own: 0, other: 0 });
    expect(await answers(a, PREVIOUS_TOKEN)).toEqual(PROTECTED);
  });

  describe('restart (G6): closed, then served again', () => {
    it('a watched token file is followed again: a grace period that ended is over, a new token is accepted', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dapr-restart-file-'));
      const writer = new KubeletAtomicWriter(dir);
      writer.write({ token: TOKEN });
      const address = `127.0.0.1:${await freePort()}`;
      const app = await NestFactory.createMicroservice<MicroserviceOptions>(
        grpcTestModule(DaprAuthModule.forRoot({ tokenFile: writer.tokenPath, tokenFilePollInterval: 100, tokenFileGracePeriod: 500, global: true })),
        { transport: Transport.GRPC, options: grpcServerOptions(address), logger: testLogger(), abortOnError: false },
      );
      await app.listen();
      const tenant: Tenant = { app: app as unknown as INestApplication, token: TOKEN, address };
      track(tenant);
      const code = async (token: string) => (await answers({ ...tenant, token }, token)).own;
      writer.write({ token: PREVIOUS_TOKEN });
      await eventually(async () => (await code(PREVIOUS_TOKEN)) === 0, 'the new token');
      await app.close();
      await app.listen(); // no lifecycle hook: the source closed at shutdown must follow the file again
      writer.write({ token: WRONG_TOKEN });
      await eventually(async () => (await code(WRONG_TOKEN)) === 0, 'the token written after the restart');
      await eventually(async () => (await code(TOKEN)) === 16, 'the first token, whose grace period ended');
      await close(tenant);
      rmSync(dir, { recursive: true, force: true });
    });

    it('a microservice app closed and listening again still checks every call', async () => {
      const address = `127.0.0.1:${await freePort()}`;
      const app = await NestFactory.createMicroservice<MicroserviceOptions>(moduleWith(TOKEN), {
        transport: Transport.GRPC,
        options: grpcServerOptions(address),
        logger: testLogger(),
        abortOnError: false,
      });
      await app.listen();
      const tenant: Tenant = { app: app as unknown as INestApplication, token: TOKEN, address };
      expect(await answers(tenant, PREVIOUS_TOKEN)).toEqual(PROTECTED);
      await app.close();
      await app.listen(); // Nest runs no lifecycle hook this time
      track(tenant);
      expect(await answers(tenant, PREVIOUS_TOKEN)).toEqual(PROTECTED);
    });

    it('a hybrid app whose microservices are closed and started again still checks every call', async () => {
      const a = track(await create(TOKEN));
      await connect(a);
      await close(a);
      const again = track({ app: a.app, token: TOKEN, address: a.address });
      await again.app.startAllMicroservices();
      expect(await answers(again, PREVIOUS_TOKEN)).toEqual(PROTECTED);
    });
  });
});
