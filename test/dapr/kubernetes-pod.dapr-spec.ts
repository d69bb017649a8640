import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_METRICS_PORT } from '../../src/bootstrap.js';
import { DAPR_RESOURCES_PATH, startDaprdWithArgs, type DaprdWithArgs } from '../../scripts/dapr/daprd-process.mjs';
import { ensureInjectorCheck, INJECTOR_DAPR_VERSION, kubernetesOverlays, runInjectorCheck, type KubernetesJson } from '../../scripts/dapr/injector-check.mjs';
import { ensureSecretVolumeWriter, startSecretVolumeWriter } from '../../scripts/dapr/secret-volume.mjs';
import { eventually } from '../support/eventually.js';
import { callUnary, grpcClient } from '../support/grpc.js';
import { freePort } from '../support/ports.js';
import { registerSecret } from '../support/secrets.js';
import { daprBinaries, DaprFleet } from './harness.js';
import { startRecordingHttpApp } from './recording-app.js';
import * as grpc from '@grpc/grpc-js';

/**
 * A pod on one machine (issue 31, item 2). For each overlay of deploy/kubernetes, the pod Dapr
 * v1.18.2's injector patched (scripts/dapr/injector-check.mjs, the same run as
 * kubernetes-injector.dapr-spec.ts) is started as the kubelet would start it: daprd with the
 * arguments and environment the patch gives the `daprd` container, the built example app
 * (dist/main.js, the image's command) with exactly the `app` container's environment, the Secrets
 * generated here, the app's Secret volume written by the kubelet's own code (MakePayload and
 * AtomicWriter of k8s.io/kubernetes, scripts/dapr/secret-volume.mjs) and `secretKeyRef`s resolved
 * from the same Secret data. What a pod has and one machine has not is changed, and only that
 * (DAPRD_ARG_CHANGES, APP_ENV_CHANGES): the test fails when the patch holds a flag or a variable
 * not accounted for, so that a new one in a future release is looked at.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** daprd flags passed exactly as the patch gives them: all that bears on the token wiring, and the rest that works as is. */
const KEPT_FLAGS = [
  '--dapr-listen-addresses',
  '--app-id',
  '--app-protocol',
  '--log-level',
  '--dapr-graceful-shutdown-seconds',
  '--enable-metrics',
  '--enable-app-health-check',
  '--app-health-check-path',
  '--app-health-probe-interval',
  '--app-health-probe-timeout',
  '--app-health-threshold',
];

/**
 * What changes in the daprd container's arguments, and why. The ports: a pod has a loopback of its
 * own, this machine's is shared, so every port of the pod becomes a free one on 127.0.0.1, the same
 * mapping in both containers (daprd's --app-port stays the app's listening port, the app's
 * DAPR_HTTP_PORT stays daprd's --dapr-http-port).
 */
const DAPRD_ARG_CHANGES = {
  /** args[0]: the image runs `/daprd`; here the daprd built from the same release (scripts/dapr/install-daprd.mjs). */
  program: '/daprd',
  portsMapped: ['--dapr-http-port', '--dapr-grpc-port', '--dapr-internal-grpc-port', '--dapr-public-port', '--app-port', '--metrics-port'],
  replaced: {
    // No Kubernetes API server or operator to read components, configurations and Secrets from.
    '--mode': ['kubernetes', 'standalone'],
  },
  removed: [
    // The operator (components, configuration): none; components come from --resources-path.
    '--control-plane-address',
    // Sentry and mTLS: no Sentry issues certificates here; daprd-to-daprd calls go in plain gRPC on loopback.
    '--sentry-address',
    '--enable-mtls',
    // The cluster's placement and scheduler (DNS names that do not resolve here): actors and jobs
    // are tested in actors-and-jobs.dapr-spec.ts; without them daprd logs that actors and jobs are off.
    '--placement-host-address',
    '--scheduler-host-address',
  ],
  added: {
    // The suite's components (in-memory pub/sub, cron binding, state store): on Kubernetes the operator serves them.
    '--resources-path': DAPR_RESOURCES_PATH,
    // These three listen on every interface by default (the kubelet probes the public port from
    // outside the pod); here every server listens on 127.0.0.1.
    '--dapr-public-listen-address': '127.0.0.1',
    '--dapr-internal-grpc-listen-address': '127.0.0.1',
    '--metrics-listen-address': '127.0.0.1',
  },
};
/** Flags daprd takes without a value (cmd/daprd/options/options.go: BoolVar). */
const BOOLEAN_FLAGS = new Set(['--enable-metrics', '--enable-app-health-check', '--enable-mtls']);

/**
 * What changes in the app container's environment. Ports as above; the Secret volume's mount path
 * (/var/run/secrets/...) becomes the directory the kubelet's writer filled; `valueFrom`s are
 * resolved. Added: what the image itself sets (Dockerfile ENV) and the example's default ports that
 * the container does not set (in the pod they are the pod's own; here they must be free ones).
 */
const APP_ENV_CHANGES = {
  portsMapped: ['APP_PORT', 'APP_GRPC_PORT', 'DAPR_HTTP_PORT', 'DAPR_GRPC_PORT'],
  pathsTranslated: ['APP_API_TOKEN_FILE'],
  imageDefaults: { APP_PORT: DEFAULT_HTTP_PORT, APP_GRPC_PORT: DEFAULT_GRPC_PORT, METRICS_PORT: DEFAULT_METRICS_PORT } as Record<string, number>,
};

/** The Dockerfile's runtime stage ENV lines (NODE_ENV=production): the image's environment, under the container's. */
function imageEnvironment(): Record<string, string> {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return Object.fromEntries([...lastStage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((match) => [match[1], match[2]]));
}

/** `--flag value` / `--flag=value` / boolean `--flag`, in order. */
function parseArgs(args: string[]): Array<[string, string | undefined]> {
  const flags: Array<[string, string | undefined]> = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new Error(`daprd argument "${arg}" is not a flag`);
    const [name, inline] = arg.split(/=(.*)/s);
    if (inline !== undefined) flags.push([name, inline]);
    else if (BOOLEAN_FLAGS.has(name)) flags.push([name, undefined]);
    else flags.push([name, args[++i]]);
  }
  return flags;
}

const SECRET_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // what the API server's generateName suffix is made of

interface PodPlan {
  overlay: string;
  pod: KubernetesJson;
  daprd: { patchedArgs: string[]; args: string[]; env: Record<string, string>; httpPort: number };
  app: { env: Record<string, string>; translated: string[]; httpPort: number; grpcPort: number; protocol: 'http' | 'grpc'; daprHttpPort: number };
  secrets: Record<string, Record<string, string>>;
  portMap: Map<number, number>;
}

/** Maps each port of the pod to a free one on 127.0.0.1, once. */
async function portMapFor(ports: number[]): Promise<Map<number, number>> {
  const map = new Map<number, number>();
  for (const port of ports) if (!map.has(port)) map.set(port, await freePort());
  return map;
}

/**
 * Resolves a container's env as the kubelet does, from Secret data (`secretKeyRef`) and the pod's
 * metadata (`fieldRef`); anything else (configMapKeyRef, resourceFieldRef, $(VAR) expansion) fails
 * the test, so that it gets handled when a patch starts using it.
 */
function resolveEnv(container: KubernetesJson, pod: KubernetesJson, secrets: Record<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      if (String(variable.value).includes('$(')) throw new Error(`${container.name}: ${variable.name} uses $(VAR) expansion, not handled here`);
      env[variable.name] = variable.value;
    } else if (variable.valueFrom?.secretKeyRef) {
      const { name, key, optional } = variable.valueFrom.secretKeyRef;
      const value = secrets[name]?.[key];
      if (value === undefined && !optional)
        throw new Error(`${container.name}: ${variable.name} reads Secret ${name} key ${key}, which the overlay does not render`);
      if (value !== undefined) env[variable.name] = value;
    } else if (variable.valueFrom?.fieldRef) {
      const field = variable.valueFrom.fieldRef.fieldPath;
      if (field === 'metadata.name') env[variable.name] = pod.metadata.name;
      else if (field === 'metadata.namespace') env[variable.name] = pod.metadata.namespace;
      else throw new Error(`${container.name}: ${variable.name} reads ${field}, not handled here`);
    } else throw new Error(`${container.name}: ${variable.name} has a source not handled here: ${JSON.stringify(variable.valueFrom)}`);
  }
  if (container.envFrom) throw new Error(`${container.name}: envFrom is not handled here`);
  return env;
}

const podDirs: string[] = [];
afterAll(() => {
  for (const dir of podDirs) rmSync(dir, { recursive: true, force: true });
});

/** Generates the Secrets, writes the pod's Secret volumes with the kubelet's writer, and works out both containers' processes. */
async function planPod(variant: string, report: ReturnType<typeof runInjectorCheck>['report']): Promise<PodPlan & { dir: string }> {
  const overlay = report.overlays.find((candidate) => basename(candidate.overlay) === variant)!;
  const workload = overlay.workloads[0];
  const pod = structuredClone(workload.patchedPod);
  // What the API server fills in: the name from generateName, the namespace.
  pod.metadata.name = `${pod.metadata.generateName}${Array.from({ length: 5 }, () => SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)]).join('')}`;
  pod.metadata.namespace ??= workload.namespace;

  // The Secrets the overlay renders, with values made here (token.env holds a placeholder in the check).
  const secrets: Record<string, Record<string, string>> = {};
  for (const secret of overlay.secrets) {
    secrets[secret.name] = Object.fromEntries(secret.keys.map((key) => [key, randomBytes(32).toString('base64url')]));
    registerSecret(...Object.values(secrets[secret.name]));
  }

  const dir = mkdtempSync(join(tmpdir(), `k8s-pod-${variant}-`));
  podDirs.push(dir);
  // Each Secret volume of the pod, as the kubelet writes it (the volume source's items and defaultMode).
  const volumeDirs = new Map<string, string>();
  for (const volume of pod.spec.volumes ?? []) {
    if (!volume.secret) throw new Error(`volume ${volume.name} is not a Secret volume: not handled here`);
    const volumeDir = join(dir, 'volumes', volume.name);
    mkdirSync(volumeDir, { recursive: true });
    const writer = startSecretVolumeWriter(volumeDir, { binary: ensureSecretVolumeWriter({ log: () => undefined }) });
    try {
      await writer.write(secrets[volume.secret.secretName] ?? {}, volume.secret);
    } finally {
      await writer.close();
    }
    volumeDirs.set(volume.name, volumeDir);
  }

  const [appContainer, daprdContainer] = ['app', 'daprd'].map((name) => pod.spec.containers.find((container: KubernetesJson) => container.name === name));
  const [program, ...patchedArgs] = daprdContainer.args as string[];
  if (program !== DAPRD_ARG_CHANGES.program || daprdContainer.command) throw new Error(`daprd container runs ${daprdContainer.command ?? program}`);
  const patchedFlags = parseArgs(patchedArgs);
  const appEnvPatched = resolveEnv(appContainer, pod, secrets);
  const appProtocol = patchedFlags.find(([name]) => name === '--app-protocol')?.[1] as 'http' | 'grpc';

  // Every port of the pod: daprd's port flags, the app's port variables and its defaults.
  const podPorts = [
    ...patchedFlags.filter(([name]) => DAPRD_ARG_CHANGES.portsMapped.includes(name)).map(([, value]) => Number(value)),
    ...APP_ENV_CHANGES.portsMapped.filter((name) => appEnvPatched[name] !== undefined).map((name) => Number(appEnvPatched[name])),
    ...Object.values(APP_ENV_CHANGES.imageDefaults),
  ];
  const portMap = await portMapFor(podPorts);
  const mapped = (port: string | number) => String(portMap.get(Number(port)));

  // daprd: the patched flags, with the documented changes and nothing else.
  const args: string[] = [];
  for (const [name, value] of patchedFlags) {
    if (DAPRD_ARG_CHANGES.removed.includes(name)) continue;
    let next = value;
    if (DAPRD_ARG_CHANGES.portsMapped.includes(name)) next = mapped(value!);
    else if (name in DAPRD_ARG_CHANGES.replaced) {
      const [from, to] = DAPRD_ARG_CHANGES.replaced[name as keyof typeof DAPRD_ARG_CHANGES.replaced];
      if (value !== from) throw new Error(`daprd ${name} is "${value}", not "${from}" as documented`);
      next = to;
    } else if (!KEPT_FLAGS.includes(name))
      throw new Error(`daprd flag ${name} is neither kept nor changed in DAPRD_ARG_CHANGES: decide what it means on one machine`);
    args.push(name, ...(next === undefined ? [] : [next]));
  }
  for (const [name, value] of Object.entries(DAPRD_ARG_CHANGES.added)) args.push(name, value);

  // The app: the container's environment over the image's, ports mapped, mount paths translated.
  const env: Record<string, string> = { ...imageEnvironment() };
  const translated: string[] = [];
  for (const [name, value] of Object.entries(appEnvPatched)) {
    const mount = (appContainer.volumeMounts ?? []).find(
      (candidate: KubernetesJson) => value === candidate.mountPath || value.startsWith(`${candidate.mountPath}/`),
    );
    if (APP_ENV_CHANGES.portsMapped.includes(name)) env[name] = mapped(value);
    else if (mount) {
      if (mount.subPath) throw new Error(`${name}=${value} is on a subPath mount: not handled here`);
      env[name] = volumeDirs.get(mount.name)! + value.slice(mount.mountPath.length);
      translated.push(name);
    } else env[name] = value;
  }
  for (const [name, port] of Object.entries(APP_ENV_CHANGES.imageDefaults)) env[name] ??= mapped(port);

  const flag = (name: string) => args[args.indexOf(name) + 1];
  return {
    dir,
    overlay: variant,
    pod,
    secrets,
    portMap,
    daprd: { patchedArgs, args, env: resolveEnv(daprdContainer, pod, secrets), httpPort: Number(flag('--dapr-http-port')) },
    app: {
      env,
      translated,
      httpPort: Number(env.APP_PORT),
      grpcPort: Number(env.APP_GRPC_PORT),
      protocol: appProtocol,
      daprHttpPort: Number(env.DAPR_HTTP_PORT),
    },
  };
}

/** The example app as its container runs it: `node dist/main.js`, exactly `env`, from a directory without a .env file (as the image). */
function startApp(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string; exited: Promise<unknown> } {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/main.js')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolveExit) => child.on('exit', resolveExit));
  return { child, output: () => stripVTControlCharacters(output), exited };
}

const binary = ensureInjectorCheck({ log: () => undefined }); // built by the suite's global setup
const { report } = runInjectorCheck(kubernetesOverlays(), { binary });

describe.each(['http', 'grpc', 'env-var'])(
  `the %s pod of deploy/kubernetes, as Dapr ${INJECTOR_DAPR_VERSION}'s injector patched it, on one machine`,
  (variant) => {
    let plan: PodPlan & { dir: string };
    let app: ReturnType<typeof startApp>;
    let daprd: DaprdWithArgs | undefined;
    const fleet = new DaprFleet();
    const callerApps: Array<{ close: () => Promise<void> }> = [];
    let checkout: Awaited<ReturnType<DaprFleet['daprd']>>;
    let intruder: Awaited<ReturnType<DaprFleet['daprd']>>;

    beforeAll(async () => {
      plan = await planPod(variant, report);
      app = startApp(plan.app.env, plan.dir);
      await eventually(
        async () => {
          if (app.child.exitCode !== null) throw new Error(`the example app exited (${app.child.exitCode}):\n${app.output()}`);
          return fetch(`http://127.0.0.1:${plan.app.httpPort}/healthz`).then(
            (response) => response.ok,
            () => false,
          );
        },
        'the example app to listen',
        30000,
      );
      daprd = await startDaprdWithArgs({
        daprdPath: daprBinaries.daprd,
        args: plan.daprd.args,
        env: plan.daprd.env,
        httpPort: plan.daprd.httpPort,
        timeoutMs: 45000,
      });
      // Two other apps' daprds in the same namespace, to call orders through (service invocation, mDNS on loopback).
      const [checkoutPort, intruderPort] = await Promise.all([freePort(), freePort()]);
      callerApps.push(await startRecordingHttpApp(checkoutPort), await startRecordingHttpApp(intruderPort));
      [checkout, intruder] = await Promise.all([
        fleet.daprd({ appId: 'checkout', appPort: checkoutPort, healthCheckPath: false, logLevel: 'warn', env: { NAMESPACE: plan.pod.metadata.namespace } }),
        fleet.daprd({ appId: 'intruder', appPort: intruderPort, healthCheckPath: false, logLevel: 'warn', env: { NAMESPACE: plan.pod.metadata.namespace } }),
      ]);
    }, 120000);

    afterAll(async () => {
      await fleet.stopAll();
      await daprd?.stop();
      await Promise.all(callerApps.map((callerApp) => callerApp.close()));
      if (app && app.child.exitCode === null) {
        app.child.kill('SIGTERM');
        await app.exited;
      }
    });

    /** Adds both processes' last lines to a failing test's message (never a token: neither prints one). */
    const withLogs = (body: () => Promise<void>) => async () => {
      try {
        await body();
      } catch (error) {
        if (error instanceof Error)
          error.message += `\n--- daprd ---\n${daprd?.logs().split('\n').slice(-30).join('\n')}\n--- app ---\n${app.output().split('\n').slice(-30).join('\n')}`;
        throw error;
      }
    };

    it("runs daprd with the patch's arguments except exactly the documented changes, and the patch's environment with the Secrets' values", () => {
      const patched = new Map(parseArgs(plan.daprd.patchedArgs));
      const run = new Map(parseArgs(plan.daprd.args));
      // Every flag of the patch is accounted for: kept, or one of the documented changes.
      expect([...patched.keys()].sort()).toEqual(
        [...KEPT_FLAGS, ...DAPRD_ARG_CHANGES.portsMapped, ...Object.keys(DAPRD_ARG_CHANGES.replaced), ...DAPRD_ARG_CHANGES.removed].sort(),
      );
      // The difference between what the patch says and what runs, computed from the two lists.
      const removed = [...patched.keys()].filter((name) => !run.has(name)).sort();
      const added = Object.fromEntries([...run].filter(([name]) => !patched.has(name)));
      const changed = [...patched].filter(([name, value]) => run.has(name) && run.get(name) !== value);
      const portsMapped = changed.filter(([name, value]) => run.get(name) === String(plan.portMap.get(Number(value)))).map(([name]) => name);
      const replaced = Object.fromEntries(changed.filter(([name]) => !portsMapped.includes(name)).map(([name, value]) => [name, [value, run.get(name)]]));
      expect({ removed, added, portsMapped: portsMapped.sort(), replaced }).toEqual({
        removed: [...DAPRD_ARG_CHANGES.removed].sort(),
        added: DAPRD_ARG_CHANGES.added,
        portsMapped: [...DAPRD_ARG_CHANGES.portsMapped].sort(),
        replaced: DAPRD_ARG_CHANGES.replaced,
      });
      // What bears on the token wiring is as the injector wrote it.
      for (const name of ['--app-protocol', '--app-health-check-path', '--dapr-listen-addresses', '--enable-app-health-check', '--app-id'])
        expect([name, run.get(name)]).toEqual([name, patched.get(name)]);
      expect(patched.get('--dapr-listen-addresses')).toBe('[::1],127.0.0.1');
      expect(run.get('--app-port')).toBe(String(variant === 'grpc' ? plan.app.grpcPort : plan.app.httpPort)); // where the app listens

      // daprd's environment: the container's variables, nothing else, APP_API_TOKEN / DAPR_API_TOKEN from the Secrets.
      const daprdContainer = plan.pod.spec.containers.find((container: KubernetesJson) => container.name === 'daprd');
      expect(Object.keys(plan.daprd.env)).toEqual(daprdContainer.env.map((variable: KubernetesJson) => variable.name));
      expect(plan.daprd.env.APP_API_TOKEN === plan.secrets['app-api-token'].token).toBe(true);
      expect(plan.daprd.env.DAPR_API_TOKEN === plan.secrets['dapr-api-token'].token).toBe(true);
      expect(plan.daprd.env.POD_NAME).toMatch(/^orders-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    });

    it("gives the app exactly its container's environment: the Secret read as the kubelet lays out a volume, or as env", () => {
      const appContainer = plan.pod.spec.containers.find((container: KubernetesJson) => container.name === 'app');
      const declared = appContainer.env.map((variable: KubernetesJson) => variable.name);
      const added = Object.keys(plan.app.env).filter((name) => !declared.includes(name));
      expect(added.sort()).toEqual(
        [...Object.keys(imageEnvironment()), ...Object.keys(APP_ENV_CHANGES.imageDefaults).filter((name) => !declared.includes(name))].sort(),
      );
      expect(declared.every((name: string) => plan.app.env[name] !== undefined)).toBe(true);
      expect(plan.app.env.DAPR_API_TOKEN === plan.secrets['dapr-api-token'].token).toBe(true);
      expect(plan.app.daprHttpPort).toBe(plan.daprd.httpPort);
      // Paths under a volume mount: translated to the volume's directory (the env-var pod mounts none).
      expect(plan.app.translated).toEqual(variant === 'env-var' ? [] : APP_ENV_CHANGES.pathsTranslated);
      if (variant === 'env-var') {
        expect(plan.app.env.APP_API_TOKEN === plan.secrets['app-api-token'].token).toBe(true);
        expect(plan.app.env.APP_API_TOKEN_FILE).toBeUndefined();
      } else {
        // /var/run/secrets/dapr-app-token/token, translated to the volume the kubelet's writer filled.
        const file = plan.app.env.APP_API_TOKEN_FILE;
        expect(file).toBe(join(plan.dir, 'volumes', 'app-api-token', 'token'));
        expect(readFileSync(file, 'utf8') === plan.secrets['app-api-token'].token).toBe(true);
        expect(plan.app.env.APP_API_TOKEN).toBeUndefined();
      }
    });

    it(
      'accepts an invocation through daprd (daprd adds the app token) from a client holding DAPR_API_TOKEN',
      withLogs(async () => {
        const response = await fetch(`${daprd!.httpUrl}/v1.0/invoke/orders/method/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'dapr-api-token': plan.secrets['dapr-api-token'].token },
          body: '{"item":"tea","quantity":2}',
        });
        expect(response.status).toBe(variant === 'grpc' ? 200 : 201);
        expect(await response.json()).toMatchObject({ item: 'tea', quantity: 2 });
      }),
    );

    it(
      "refuses a call straight to the app without the token (HTTP 401; gRPC 16 on the pod's app channel)",
      withLogs(async () => {
        const direct = await fetch(`http://127.0.0.1:${plan.app.httpPort}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(direct.status).toBe(401);
        if (variant === 'grpc') {
          const client = grpcClient('AppCallback', `127.0.0.1:${plan.app.grpcPort}`);
          try {
            expect((await callUnary(client, 'OnInvoke', { method: 'orders' }, new grpc.Metadata())).code).toBe(grpc.status.UNAUTHENTICATED);
          } finally {
            client.close();
          }
        }
      }),
    );

    it(
      "has daprd's API refuse a client without DAPR_API_TOKEN (401)",
      withLogs(async () => {
        const invoke = await fetch(`${daprd!.httpUrl}/v1.0/invoke/orders/method/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(invoke.status).toBe(401);
        expect((await fetch(`${daprd!.httpUrl}/v1.0/metadata`)).status).toBe(401);
      }),
    );

    it(
      "has the app's sidecar check report requires-token, with its caller rules enforced (the example's start-up did not refuse @DaprCallers)",
      withLogs(async () => {
        const line = await eventually(
          () =>
            app
              .output()
              .split('\n')
              .find((candidate) => candidate.includes(`daprd's API at http://127.0.0.1:${plan.daprd.httpPort} requires DAPR_API_TOKEN`)),
          "the app's sidecar check line",
          30000,
        );
        expect(line).toContain('Caller rules are enforced.');
        expect(app.child.exitCode).toBeNull();
      }),
    );

    if (variant !== 'grpc') {
      it(
        "lets the allowed caller (checkout) through daprd to the @DaprCallers('checkout') route, and refuses another app (403)",
        withLogs(async () => {
          const created = await fetch(`${daprd!.httpUrl}/v1.0/invoke/orders/method/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'dapr-api-token': plan.secrets['dapr-api-token'].token },
            body: '{"item":"cake"}',
          });
          const { id } = (await created.json()) as { id: string };
          const cancel = (caller: { httpUrl: string }) =>
            fetch(`${caller.httpUrl}/v1.0/invoke/orders/method/orders/${id}/cancel`, { method: 'POST', signal: AbortSignal.timeout(10000) });
          const allowed = await cancel(checkout);
          expect(allowed.status).toBe(200);
          expect(await allowed.json()).toMatchObject({ id, cancelledBy: 'checkout' });
          expect((await cancel(intruder)).status).toBe(403);
        }),
      );
    } else {
      it(
        "caller rules are open to the allowed caller only: the example's @DaprCallers route is HTTP, which daprd does not call in a gRPC pod, so it is called on the app's HTTP port with the app token",
        withLogs(async () => {
          const created = await fetch(`http://127.0.0.1:${plan.app.httpPort}/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'dapr-api-token': plan.secrets['app-api-token'].token },
            body: '{"item":"cake"}',
          });
          const { id } = (await created.json()) as { id: string };
          const cancel = (caller: string) =>
            fetch(`http://127.0.0.1:${plan.app.httpPort}/orders/${id}/cancel`, {
              method: 'POST',
              headers: { 'dapr-api-token': plan.secrets['app-api-token'].token, 'dapr-caller-app-id': caller },
            });
          expect([(await cancel('checkout')).status, (await cancel('intruder')).status]).toEqual([200, 403]);
        }),
      );
    }
  },
);
