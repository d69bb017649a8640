// Starts the built example exactly as `npm start` does (node dist/main.js) and checks that it
// answers as documented; then checks that a bad token stops it at start-up with a clear message.
// Run after `npm run build`: `npm run smoke`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

function start(env) {
  const child = spawn(process.execPath, ['dist/main.js'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitFor(predicate, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`smoke: ${message}`);
  console.log(`ok - ${message}`);
}

const env = { APP_PORT: String(await freePort()), APP_GRPC_PORT: String(await freePort()), APP_API_TOKEN: '' };
const app = start(env);
try {
  await waitFor(() => /one-time token:\s*\n\s*(\S+)/.test(app.output()), 'the example to print its demo token');
  const token = /one-time token:\s*\n\s*(\S+)/.exec(app.output())[1];
  const base = `http://127.0.0.1:${env.APP_PORT}`;
  const order = (headers) => fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"item":"tea"}' });
  check((await fetch(`${base}/healthz`)).status === 200, 'GET /healthz answers 200 without a token');
  check((await order({})).status === 401, 'POST /orders without a token answers 401');
  check((await order({ 'dapr-api-token': token })).status === 201, 'POST /orders with the printed token answers 201');
  check(app.output().includes(`gRPC  127.0.0.1:${env.APP_GRPC_PORT}`), 'the gRPC address is printed');
} finally {
  app.child.kill('SIGTERM');
  await app.exited;
}

const broken = start({ ...env, APP_API_TOKEN: 'has a space in it' });
const code = await Promise.race([broken.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15000))]);
if (code === 'still running') broken.child.kill('SIGKILL');
check(code !== 0 && code !== 'still running', `an invalid APP_API_TOKEN stops the app at start-up (exit code ${code})`);
check(/APP_API_TOKEN is not a valid token/.test(broken.output()), 'and the message names the variable and the problem');
check(!broken.output().includes('has a space in it'), 'and does not echo the token');
