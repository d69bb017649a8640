import { createServer, type Server } from 'node:net';
import type { DaprdRetry } from '../../scripts/dapr/daprd-process.mjs';
import { freePort } from '../support/ports.js';
import { TOKEN } from '../support/tokens.js';
import { DaprFleet } from './harness.js';
import { startRecordingGrpcApp } from './recording-app.js';

/**
 * The harness (scripts/dapr/daprd-process.mjs): a port startDaprd picked free can be taken before
 * daprd binds it, seconds later (a run on a busy machine failed so: "failed to start HTTP server:
 * could not listen on any endpoint"). startDaprd then starts daprd again with new ports, and says
 * so; a port the caller gave is never swapped for another, and any other early exit fails at once.
 * Here the port is taken on purpose: the test picks it (choosePort) and keeps a listener on it.
 */

const fleet = new DaprFleet();

/**
 * Listens on a free port of 127.0.0.1 (the address daprd binds) until released. Connections are
 * closed at once (startDaprd polls daprd's healthz on that port), so that none keeps it open.
 */
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A port chooser that hands out `first` first, then free ports, and remembers what it handed out. */
function chooser(first?: number): { choosePort: () => Promise<number>; picked: number[] } {
  const picked: number[] = [];
  const choosePort = async () => {
    const port = picked.length === 0 && first !== undefined ? first : await freePort();
    picked.push(port);
    return port;
  };
  return { choosePort, picked };
}

describe("the harness: daprd's ports", () => {
  let appPort: number;
  let app: { close: () => Promise<void> };
  let taken: { port: number; release: () => Promise<void> };

  beforeAll(async () => {
    appPort = await freePort();
    app = await startRecordingGrpcApp(appPort);
  });

  beforeEach(async () => {
    taken = await holdPort();
  });

  afterEach(async () => {
    await fleet.stopAll();
    await taken.release();
  });

  afterAll(() => app?.close());

  it(
    'starts daprd again with new ports when the HTTP port the harness picked was taken before daprd bound it, and reports the retry',
    fleet.withLogs(async () => {
      const { choosePort, picked } = chooser(taken.port);
      const reported: DaprdRetry[] = [];
      const sidecar = await fleet.daprd({
        appId: 'port-retry',
        appPort,
        appProtocol: 'grpc',
        token: TOKEN,
        choosePort,
        onRetry: (retry) => reported.push(retry),
      });

      expect(sidecar.retries).toEqual([
        {
          attempt: 1,
          listener: 'httpPort',
          port: taken.port,
          reason: expect.stringContaining('failed to start HTTP server: could not listen on any endpoint'),
          logs: expect.stringContaining('level=fatal'),
        },
      ]);
      expect(reported).toEqual(sidecar.retries);
      // Three ports a start (HTTP, gRPC, internal gRPC), all picked again for the second.
      expect(picked).toHaveLength(6);
      expect(sidecar.httpPort).toBe(picked[3]);
      expect(sidecar.grpcPort).toBe(picked[4]);
      // The second daprd serves.
      const response = await fetch(`${sidecar.httpUrl}/v1.0/invoke/port-retry/method/marker-retry`, { method: 'POST', body: '{}' });
      expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: '{"ok":true}' });
    }),
    90000,
  );

  it(
    'rejects at once, naming the port, when a port the caller chose is taken: no retry with another',
    fleet.withLogs(async () => {
      const { choosePort, picked } = chooser();
      const reported: DaprdRetry[] = [];
      const start = fleet.daprd({
        appId: 'port-given',
        appPort,
        appProtocol: 'grpc',
        token: TOKEN,
        httpPort: taken.port,
        choosePort,
        onRetry: (retry) => reported.push(retry),
      });
      await expect(start).rejects.toThrow(`daprd could not listen on 127.0.0.1:${taken.port} (httpPort), which the caller chose`);
      await expect(start).rejects.toThrow('failed to start HTTP server: could not listen on any endpoint');
      expect(picked).toHaveLength(2); // gRPC and internal gRPC, once
      expect(reported).toEqual([]);
    }),
    60000,
  );

  it(
    "rejects at once with daprd's output when daprd exits for anything else",
    fleet.withLogs(async () => {
      const { choosePort, picked } = chooser();
      const reported: DaprdRetry[] = [];
      const start = fleet.daprd({
        appId: 'bad-flag',
        appPort,
        appProtocol: 'grpc',
        token: TOKEN,
        extraArgs: ['--app-protocol', 'nonsense'], // the last one wins
        choosePort,
        onRetry: (retry) => reported.push(retry),
      });
      await expect(start).rejects.toThrow(/daprd was not healthy: it exited \(1\):\n[^]*app-protocol/);
      expect(picked).toHaveLength(3);
      expect(reported).toEqual([]);
    }),
  );
});
