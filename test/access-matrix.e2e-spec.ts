import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, type INestApplication, type INestMicroservice, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DaprAuthGuard, DaprAuthModule, DaprProtected, DaprPublic } from 'nestjs-dapr-auth';
import { callUnary, tokenMetadata } from './support/grpc.js';
import { HTTP_PLATFORMS, send, startHttpApp, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { TOKEN } from './support/tokens.js';

/**
 * Every way to say who may call a handler, on the class and on the method, with the guard global
 * or not, over Express, Fastify and gRPC: each of the 96 cells has its expected answer.
 */
const KINDS = ['none', '@DaprPublic()', '@DaprProtected()', '@UseGuards(DaprAuthGuard)'] as const;
type Kind = (typeof KINDS)[number];

function decorator(kind: Kind): (ClassDecorator & MethodDecorator) | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case '@DaprPublic()':
      return DaprPublic();
    case '@DaprProtected()':
      return DaprProtected();
    case '@UseGuards(DaprAuthGuard)':
      return UseGuards(DaprAuthGuard);
  }
}

/** The rule the README states: the method's own decision wins, then the class's, then `global`. */
function expectedOpen(classKind: Kind, methodKind: Kind, global: boolean): boolean {
  const nearest = methodKind !== 'none' ? methodKind : classKind;
  if (nearest === '@DaprPublic()') return true;
  if (nearest === 'none') return !global;
  return false;
}

const CELLS = KINDS.flatMap((classKind) => KINDS.map((methodKind) => ({ classKind, methodKind })));

/** One controller per cell, with an HTTP route `GET /cell/<i>` and a gRPC method `Matrix/Cell<i>`. */
const CONTROLLERS = CELLS.map(({ classKind, methodKind }, i) => {
  class CellController {
    http() {
      return { cell: i };
    }
    rpc() {
      return { cell: i };
    }
  }
  Object.defineProperty(CellController, 'name', { value: `Cell${i}Controller` });
  const methodDecorators = [decorator(methodKind)].filter((d) => d !== undefined);
  for (const [key, route] of [
    ['http', Get()],
    ['rpc', GrpcMethod('Matrix', `Cell${i}`)],
  ] as const) {
    const descriptor = Reflect.decorate(
      [route, ...methodDecorators],
      CellController.prototype,
      key,
      Object.getOwnPropertyDescriptor(CellController.prototype, key)!,
    );
    Object.defineProperty(CellController.prototype, key, descriptor as PropertyDescriptor);
  }
  Reflect.decorate([Controller(`cell/${i}`), ...[decorator(classKind)].filter((d) => d !== undefined)], CellController);
  return CellController;
});

const protoDir = mkdtempSync(join(tmpdir(), 'dapr-matrix-'));
const PROTO = join(protoDir, 'matrix.proto');
writeFileSync(
  PROTO,
  `syntax = "proto3";\npackage test.matrix;\nmessage Cell { int32 cell = 1; }\nservice Matrix {\n${CELLS.map((_, i) => `  rpc Cell${i} (Cell) returns (Cell);`).join('\n')}\n}\n`,
);

function matrixModule(global: boolean) {
  @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global, unprotected: 'ignore' })], controllers: CONTROLLERS })
  class MatrixModule {}
  return MatrixModule;
}

const cases = CELLS.flatMap((cell, i) => [true, false].map((global) => ({ ...cell, i, global, open: expectedOpen(cell.classKind, cell.methodKind, global) })));

describe.each([true, false])('access matrix, global: %s', (global) => {
  const rows = cases.filter((row) => row.global === global);

  describe.each(HTTP_PLATFORMS)('HTTP on %s', (_name, platform) => {
    let app: INestApplication;
    let baseUrl: string;
    beforeAll(async () => {
      ({ app, baseUrl } = await startHttpApp(matrixModule(global), platform));
    });
    afterAll(() => app.close());

    it.each(rows)('class $classKind, method $methodKind: open = $open', async ({ i, open }) => {
      expect((await send(baseUrl, `/cell/${i}`)).status).toBe(open ? 200 : 401);
      expect((await send(baseUrl, `/cell/${i}`, { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    });
  });

  describe('gRPC', () => {
    let app: INestMicroservice;
    let client: any;
    beforeAll(async () => {
      const address = `127.0.0.1:${await freePort()}`;
      app = await NestFactory.createMicroservice<MicroserviceOptions>(matrixModule(global), {
        transport: Transport.GRPC,
        options: { package: 'test.matrix', protoPath: PROTO, url: address },
        logger: testLogger(),
        abortOnError: false,
      });
      await app.listen();
      const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as any;
      client = new loaded.test.matrix.Matrix(address, grpc.credentials.createInsecure());
    });
    afterAll(async () => {
      client.close();
      await app.close();
    });

    it.each(rows)('class $classKind, method $methodKind: open = $open', async ({ i, open }) => {
      expect((await callUnary(client, `Cell${i}`, { cell: i }, tokenMetadata())).code).toBe(open ? 0 : 16);
      expect((await callUnary(client, `Cell${i}`, { cell: i }, tokenMetadata(TOKEN))).code).toBe(0);
    });
  });
});
