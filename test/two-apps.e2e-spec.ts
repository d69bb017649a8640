import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { DaprAuthModule } from 'nestjs-dapr-auth';
import { callUnary, grpcClient, grpcServerOptions, tokenMetadata } from './support/grpc.js';
import { TestAppCallbackController } from './support/grpc-test-app.js';
import { testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { PREVIOUS_TOKEN, TOKEN } from './support/tokens.js';

/**
 * F3 of the trust issue: several apps in one process built from the same controller classes
 * (as e2e suites and multi-tenant hosts do). `global: true` protects their gRPC handlers through
 * the handlers' metadata, which all apps share: every handler must stay protected, with each
 * app's own token, whatever the order of create, close and connect across apps.
 */
const moduleWith = (token: string) => {
  @Module({ imports: [DaprAuthModule.forRoot({ token, global: true, unprotected: 'error' })], controllers: [TestAppCallbackController] })
  class TenantModule {}
  return TenantModule;
};

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

  it('create A, create B, connect B, connect A, close B: A protected, with its own token', async () => {
    const a = track(await create(TOKEN));
    const b = track(await create(PREVIOUS_TOKEN));
    await connect(b);
    await connect(a);
    // Both alive: the newest app's guard checks a shared handler (a guard cannot tell apps apart); never open.
    expect((await answers(a, PREVIOUS_TOKEN)).none).toBe(16);
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
});
