import { createConnection } from 'node:net';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/ports.js';
import { registerSecret } from '../support/secrets.js';
import { TOKEN } from '../support/tokens.js';

const DAPR_API_TOKEN = 'Zp6wQ1rT8yU3iO5aS9dF2gH7jK0lX4cVb8Nm';
registerSecret(DAPR_API_TOKEN);

/**
 * `npm run start:dapr` as a user runs it (the script itself, after `npm run build`, which
 * `npm run test:dapr` does first): both processes come up, calls through daprd pass, calls
 * straight to the app without the token are rejected, and Ctrl-C (SIGINT to the process group) stops both, daprd without a fatal line.
 */
describe.each(['http', 'grpc'] as const)('npm run start:dapr -- --app-protocol %s', (appProtocol) => {
  let child: ChildProcess | undefined;
  let output = '';

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });

  /** Whether a TCP connection to host:port opens (a gRPC server refuses plain HTTP, so fetch cannot tell). */
  const connects = (address: string) =>
    new Promise<boolean>((resolve) => {
      const [host, port] = address.split(':');
      const socket = createConnection({ host, port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  it('starts the example app and daprd, routes calls through daprd, and stops them all on SIGINT', async () => {
    const [appPort, appGrpcPort, daprHttpPort, daprGrpcPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    child = spawn(process.execPath, ['scripts/dapr/start-dapr.mjs', '--app-protocol', appProtocol], {
      env: {
        ...process.env,
        APP_API_TOKEN: TOKEN,
        DAPR_API_TOKEN,
        APP_PORT: String(appPort),
        APP_GRPC_PORT: String(appGrpcPort),
        DAPR_HTTP_PORT: String(daprHttpPort),
        DAPR_GRPC_PORT: String(daprGrpcPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, like a terminal's foreground job
    });
    output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    const deadline = Date.now() + 40000;
    while (!output.includes('== ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`start:dapr did not get ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(output).toContain(`daprd  HTTP http://127.0.0.1:${daprHttpPort}   gRPC 127.0.0.1:${daprGrpcPort}`);
    expect(output).not.toContain(TOKEN); // a token the user set is never printed

    const order = (url: string, headers: Record<string, string> = {}) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"item":"tea"}' });
    const viaDaprd = await order(`http://127.0.0.1:${daprHttpPort}/v1.0/invoke/orders/method/orders`, { 'dapr-api-token': DAPR_API_TOKEN });
    expect(viaDaprd.status).toBe(appProtocol === 'http' ? 201 : 200);
    // daprd's API requires DAPR_API_TOKEN: a client without it cannot invoke the app through daprd.
    expect((await order(`http://127.0.0.1:${daprHttpPort}/v1.0/invoke/orders/method/orders`)).status).toBe(401);
    expect((await order(`http://127.0.0.1:${appPort}/orders`)).status).toBe(401);
    // The app checked its sidecar in the background (DAPR_HTTP_PORT is set for it) and found it closed.
    await eventually(() => output.includes(`daprd's API at http://127.0.0.1:${daprHttpPort} requires DAPR_API_TOKEN`), 'the sidecar check line');
    // placement and scheduler run too: the example's actor answers (HTTP apps host actors).
    const [, placementAddress, schedulerAddress] = /placement (\S+) {3}scheduler (\S+)/.exec(output) ?? [];
    expect(await connects(placementAddress)).toBe(true);
    expect(await connects(schedulerAddress)).toBe(true);
    if (appProtocol === 'http') {
      const actor = await fetch(`http://127.0.0.1:${daprHttpPort}/v1.0/actors/OrderActor/42/method/addItem`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'dapr-api-token': DAPR_API_TOKEN },
        body: '{"item":"tea"}',
      });
      expect(await actor.json()).toEqual({ id: '42', items: ['tea'] });
    }

    // Every curl command it printed runs as printed (with DAPR_API_TOKEN exported, as the user has
    // it): the ones with the token get a 2xx, the ones shown without it the 401 they say.
    const commands = output
      .split('\n')
      .filter((line) => line.startsWith('  curl '))
      .map((line) => line.trim().split('   (')[0]);
    expect(commands.length).toBeGreaterThanOrEqual(5);
    for (const command of commands) {
      if (appProtocol === 'grpc' && command.includes('/actors/')) continue; // printed as "HTTP apps only"
      const result = spawnSync('bash', ['-c', `${command} --silent --max-time 10`], { env: { ...process.env, DAPR_API_TOKEN }, encoding: 'utf8' });
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(result.stdout)?.[1]);
      expect({ command, status: command.includes('dapr-api-token') ? (status >= 200 && status < 300 ? '2xx' : status) : status }).toEqual({
        command,
        status: command.includes('dapr-api-token') ? '2xx' : 401,
      });
    }
    expect(output).not.toContain(DAPR_API_TOKEN); // set by the user: the commands name $DAPR_API_TOKEN instead

    // Ctrl-C in a terminal signals the whole foreground process group, not one process.
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(output).not.toMatch(/level=fatal/); // daprd is stopped once, not signalled twice
    await expect(fetch(`http://127.0.0.1:${daprHttpPort}/v1.0/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${appPort}/healthz`)).rejects.toThrow();
    for (const address of [placementAddress, schedulerAddress]) expect(await connects(address)).toBe(false);
  });
});
