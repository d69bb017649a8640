// What the containers of an injected pod get, read as the kubelet would run them, and the wiring
// rules the example app (src/) needs there. Input: one overlay of the injector check's report
// (scripts/dapr/injector-check.mjs): its rendered Secrets and, per workload, the pod before and
// after Dapr's injector patched it.
//
// The example app reads (src/main.ts, src/app.module.ts): its token from the file APP_API_TOKEN_FILE
// names, else from APP_API_TOKEN; DAPR_API_TOKEN; APP_PORT (HTTP) and APP_GRPC_PORT (gRPC), on
// APP_HOST (default 127.0.0.1); its health path from APP_HEALTH_CHECK_PATH (default /healthz).

/** The example app's defaults, for settings its container does not set. */
export const EXAMPLE_APP_DEFAULTS = { httpPort: 3000, grpcPort: 50051, healthCheckPath: '/healthz', host: '127.0.0.1' };

/** daprd's address for the app when `--app-channel-address` is absent (dapr/dapr pkg/runtime/config.go DefaultChannelAddress). */
export const DEFAULT_APP_CHANNEL_ADDRESS = '127.0.0.1';

const DAPRD = 'daprd';

function envEntry(container, name) {
  // With a name listed twice, the last entry wins.
  return (container?.env ?? []).filter((entry) => entry.name === name).at(-1);
}

/** `{ secret, key }` of an env var read from a Secret, or undefined. */
function secretEnv(container, name) {
  const ref = envEntry(container, name)?.valueFrom?.secretKeyRef;
  return ref ? { secret: ref.name, key: ref.key, optional: ref.optional === true } : undefined;
}

function plainEnv(container, name) {
  return envEntry(container, name)?.value;
}

/** daprd's command line as the container runs it (the injector puts /daprd in args, or in command with some tolerations). */
function daprdArgs(container) {
  return [...(container.command ?? []), ...(container.args ?? [])];
}

function flagValue(args, flag) {
  const at = args.indexOf(flag);
  if (at >= 0) return args[at + 1];
  return args.find((arg) => arg.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

/**
 * Where a file in a container comes from: the Secret and key the kubelet writes there, through a
 * `secret` volume or a `projected` volume's secret source. `subPath` mounts are reported (never updated).
 */
function secretFile(pod, container, path) {
  const mount = (container.volumeMounts ?? [])
    .filter((candidate) => path.startsWith(`${candidate.mountPath.replace(/\/$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return undefined;
  const volume = (pod.spec.volumes ?? []).find((candidate) => candidate.name === mount.name);
  const inVolume = path.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  const relativePath = mount.subPath ? `${mount.subPath}/${inVolume}` : inVolume;
  const sources = volume?.secret
    ? [{ name: volume.secret.secretName, items: volume.secret.items, optional: volume.secret.optional }]
    : (volume?.projected?.sources ?? []).filter((source) => source.secret).map((source) => source.secret);
  for (const source of sources) {
    const item = source.items ? source.items.find((candidate) => candidate.path === relativePath) : { key: relativePath };
    if (item) return { secret: source.name, key: item.key, volume: mount.name, subPath: mount.subPath, optional: source.optional === true };
  }
  return { volume: mount.name, subPath: mount.subPath };
}

const sameSecret = (a, b) => a !== undefined && b !== undefined && a.secret === b.secret && a.key === b.key;
const describeSecret = (source) => `Secret ${source.secret} key ${source.key}`;
const isLoopback = (address) => /^(127\.\d+\.\d+\.\d+|\[?::1\]?|localhost)$/.test(address.trim());
const listensOnLoopback = (host) => isLoopback(host) || ['0.0.0.0', '::', '[::]'].includes(host.trim());

/**
 * The facts the checks and the tests read from one workload: what the injector gave each
 * container, and what the app container reads.
 */
export function describeInjectedPod(workload, appDefaults = {}) {
  const defaults = { ...EXAMPLE_APP_DEFAULTS, ...appDefaults };
  const pod = workload.patchedPod;
  const annotations = pod.metadata.annotations ?? {};
  const containers = pod.spec.containers ?? [];
  const daprd = [...containers, ...(pod.spec.initContainers ?? [])].find((container) => container.name === DAPRD);
  const appContainers = containers.filter((container) => container.name !== DAPRD);
  const args = daprd ? daprdArgs(daprd) : [];
  const before = new Map((workload.pod.spec.containers ?? []).map((container) => [container.name, new Set((container.env ?? []).map((entry) => entry.name))]));

  const apps = appContainers.map((container) => {
    const tokenFile = plainEnv(container, 'APP_API_TOKEN_FILE');
    const protocol = flagValue(args, '--app-protocol');
    const portVariable = protocol === 'grpc' ? 'APP_GRPC_PORT' : 'APP_PORT';
    return {
      name: container.name,
      // What the injector added to this container's environment (it adds a variable only where the container has none of that name).
      injectedEnv: (container.env ?? []).map((entry) => entry.name).filter((name) => !before.get(container.name)?.has(name)),
      // The app token: a file on a mounted Secret (tokenFile) when APP_API_TOKEN_FILE is set, else APP_API_TOKEN.
      appToken: tokenFile
        ? { via: 'APP_API_TOKEN_FILE', path: tokenFile, ...secretFile(pod, container, tokenFile) }
        : secretEnv(container, 'APP_API_TOKEN') && { via: 'APP_API_TOKEN', ...secretEnv(container, 'APP_API_TOKEN') },
      appTokenPlain: tokenFile === undefined && plainEnv(container, 'APP_API_TOKEN') !== undefined,
      apiToken: secretEnv(container, 'DAPR_API_TOKEN'),
      daprHttpPort: plainEnv(container, 'DAPR_HTTP_PORT'),
      daprGrpcPort: plainEnv(container, 'DAPR_GRPC_PORT'),
      appProtocolEnv: plainEnv(container, 'APP_PROTOCOL'),
      listenPortVariable: portVariable,
      listenPort: Number(plainEnv(container, portVariable) ?? (protocol === 'grpc' ? defaults.grpcPort : defaults.httpPort)),
      declaredPorts: (container.ports ?? []).map((port) => port.containerPort),
      host: plainEnv(container, 'APP_HOST') ?? defaults.host,
      healthCheckPath: plainEnv(container, 'APP_HEALTH_CHECK_PATH') ?? defaults.healthCheckPath,
    };
  });

  return {
    workload: `${workload.kind} ${workload.name}`,
    annotations,
    injected: daprd !== undefined,
    daprd: daprd && {
      appToken: secretEnv(daprd, 'APP_API_TOKEN'),
      apiToken: secretEnv(daprd, 'DAPR_API_TOKEN'),
      httpPort: flagValue(args, '--dapr-http-port'),
      grpcPort: flagValue(args, '--dapr-grpc-port'),
      listenAddresses: flagValue(args, '--dapr-listen-addresses'),
      appPort: flagValue(args, '--app-port'),
      appProtocol: flagValue(args, '--app-protocol'),
      appChannelAddress: flagValue(args, '--app-channel-address') ?? DEFAULT_APP_CHANNEL_ADDRESS,
      healthCheck: args.includes('--enable-app-health-check') ? { path: flagValue(args, '--app-health-check-path') } : undefined,
    },
    apps,
    app: apps.find((app) => app.name === 'app') ?? apps[0],
  };
}

/** Every Secret reference in the pod: env vars and volumes, with who reads it. */
function secretReferences(pod) {
  const references = [];
  for (const container of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) {
    for (const entry of container.env ?? []) {
      const ref = entry.valueFrom?.secretKeyRef;
      if (ref) references.push({ where: `${container.name} env ${entry.name}`, secret: ref.name, key: ref.key, optional: ref.optional === true, kind: 'env' });
    }
    for (const source of container.envFrom ?? []) {
      if (source.secretRef)
        references.push({ where: `${container.name} envFrom`, secret: source.secretRef.name, optional: source.secretRef.optional === true, kind: 'env' });
    }
  }
  for (const volume of pod.spec.volumes ?? []) {
    const sources = volume.secret
      ? [{ name: volume.secret.secretName, items: volume.secret.items, optional: volume.secret.optional }]
      : (volume.projected?.sources ?? []).filter((source) => source.secret).map((source) => source.secret);
    for (const source of sources) {
      const keys = source.items ? source.items.map((item) => item.key) : [undefined];
      for (const key of keys) references.push({ where: `volume ${volume.name}`, secret: source.name, key, optional: source.optional === true, kind: 'volume' });
    }
  }
  return references;
}

/**
 * What would go wrong with this overlay's pods once injected, each naming what to fix
 * (`subject`: an annotation, a Secret, a variable) and what the app or the kubelet would do.
 * Empty when the wiring is right.
 */
export function wiringProblems(overlay, appDefaults = {}) {
  const problems = [];
  if (overlay.error) return [{ subject: 'kustomize', message: overlay.error }];
  for (const workload of overlay.workloads) {
    const facts = describeInjectedPod(workload, appDefaults);
    const problem = (subject, message) => problems.push({ workload: facts.workload, subject, message });
    if (workload.injectorError) {
      // The injector's own message names the cause; the app id is the one annotation it validates.
      problem(/app[- ]id/i.test(workload.injectorError) ? 'dapr.io/app-id' : 'injector', `the injector refused the pod: ${workload.injectorError}`);
      continue;
    }
    if (!facts.injected) {
      problem(
        'dapr.io/enabled',
        `the injector added no daprd container (dapr.io/enabled is ${JSON.stringify(facts.annotations['dapr.io/enabled'] ?? null)}, not "true")`,
      );
      continue;
    }
    const { daprd, app } = facts;

    // The kubelet resolves every Secret reference in the pod's namespace; a missing Secret or key stops the container.
    for (const reference of secretReferences(workload.patchedPod)) {
      const secret = overlay.secrets.find((candidate) => candidate.name === reference.secret && candidate.namespace === workload.namespace);
      const missing =
        secret === undefined
          ? `which this overlay does not create`
          : reference.key !== undefined && !secret.keys.includes(reference.key)
            ? `which has no key ${reference.key} (it has ${secret.keys.join(', ') || 'none'})`
            : undefined;
      if (missing && !reference.optional) {
        problem(
          `Secret ${reference.secret}`,
          `${reference.where} reads Secret ${reference.secret}${reference.key ? ` key ${reference.key}` : ''}, ${missing}: the kubelet would not start the pod (${reference.kind === 'env' ? 'CreateContainerConfigError' : 'the volume never mounts'})`,
        );
      }
    }

    if (!daprd.appToken) {
      problem(
        'dapr.io/app-token-secret',
        'daprd gets no APP_API_TOKEN: without the annotation dapr.io/app-token-secret daprd sends no dapr-api-token, and the guard refuses every call from it (missing token)',
      );
    }
    if (!daprd.apiToken) {
      problem(
        'dapr.io/api-token-secret',
        "daprd gets no DAPR_API_TOKEN: without the annotation dapr.io/api-token-secret daprd's API answers any client in the pod, which can then invoke the app through it with a forged caller id; the app's sidecar check logs \"daprd's API at http://127.0.0.1:<DAPR_HTTP_PORT> answers without DAPR_API_TOKEN\"",
      );
    }
    if (!app) {
      problem('containers', 'the pod has no app container beside daprd');
      continue;
    }

    // The token daprd sends must be the one the app accepts: the same Secret and key, which the app reads itself.
    if (!app.appToken) {
      problem(
        'APP_API_TOKEN',
        `the app container reads no app token from a Secret (neither APP_API_TOKEN_FILE on a mounted Secret nor APP_API_TOKEN from secretKeyRef)${app.appTokenPlain ? ' (APP_API_TOKEN is a literal value in the manifest)' : ''}, while the injector gives ${daprd.appToken ? describeSecret(daprd.appToken) : 'its token'} to daprd only: the app would have no token (or another one) and refuse daprd's calls`,
      );
    } else if (app.appToken.via === 'APP_API_TOKEN_FILE' && app.appToken.secret === undefined) {
      problem(
        'APP_API_TOKEN_FILE',
        `APP_API_TOKEN_FILE=${app.appToken.path} is not a file of a Secret mounted in the app container${app.appToken.volume ? ` (volume ${app.appToken.volume} is not a Secret, or has no item at that path)` : ''}`,
      );
    } else if (daprd.appToken && !sameSecret(app.appToken, daprd.appToken)) {
      problem(
        `Secret ${app.appToken.secret}`,
        `the app reads its token from ${describeSecret(app.appToken)} (${app.appToken.via}), daprd's APP_API_TOKEN comes from ${describeSecret(daprd.appToken)} (dapr.io/app-token-secret): the guard would refuse daprd's calls (token mismatch)`,
      );
    }
    if (app.appToken?.subPath) {
      problem(
        `volumeMount ${app.appToken.volume}`,
        `the app's token file is mounted with subPath ${app.appToken.subPath}: the kubelet never updates a subPath mount, so a rotated Secret never reaches the app`,
      );
    }

    if (!app.apiToken) {
      problem(
        'DAPR_API_TOKEN',
        `the app container has no DAPR_API_TOKEN from a Secret${daprd.apiToken ? ` while the injector gives ${describeSecret(daprd.apiToken)} to daprd only` : ''}: the example app's @DaprCallers route refuses to start without it ("caller rules (...) DAPR_API_TOKEN is not set in this app's environment"), and its calls to daprd would get 401`,
      );
    } else if (daprd.apiToken && !sameSecret(app.apiToken, daprd.apiToken)) {
      problem(
        `Secret ${app.apiToken.secret}`,
        `the app's DAPR_API_TOKEN comes from ${describeSecret(app.apiToken)}, daprd's from ${describeSecret(daprd.apiToken)} (dapr.io/api-token-secret): daprd would refuse the app's own calls (401) and its sidecar check would report token-refused`,
      );
    }

    // The injector tells the app where daprd listens, unless the container already sets those names.
    if (app.daprHttpPort !== daprd.httpPort)
      problem('DAPR_HTTP_PORT', `the app's DAPR_HTTP_PORT is ${app.daprHttpPort ?? 'unset'}, daprd's HTTP port is ${daprd.httpPort} (dapr.io/http-port)`);
    if (app.daprGrpcPort !== daprd.grpcPort)
      problem('DAPR_GRPC_PORT', `the app's DAPR_GRPC_PORT is ${app.daprGrpcPort ?? 'unset'}, daprd's gRPC port is ${daprd.grpcPort} (dapr.io/grpc-port)`);

    // daprd calls the app on --app-port with --app-protocol, at --app-channel-address.
    if (!['http', 'grpc'].includes(daprd.appProtocol))
      problem('dapr.io/app-protocol', `daprd calls the app with --app-protocol ${daprd.appProtocol}; the example app serves http and grpc (no TLS, no h2c)`);
    if (daprd.appPort === undefined) problem('dapr.io/app-port', 'daprd gets no --app-port: it never calls the app');
    else if (Number(daprd.appPort) !== app.listenPort) {
      problem(
        'dapr.io/app-port',
        `daprd calls the app on port ${daprd.appPort} (${daprd.appProtocol}), the app listens for ${daprd.appProtocol} on ${app.listenPort} (${app.listenPortVariable})`,
      );
    }
    if (!isLoopback(daprd.appChannelAddress) || !listensOnLoopback(app.host)) {
      problem(
        'APP_HOST',
        `daprd calls the app at ${daprd.appChannelAddress} (dapr.io/app-channel-address), the app listens on ${app.host} (APP_HOST): they must meet on the pod's loopback`,
      );
    }

    // daprd's probe carries no token: it must hit the path the guard exempts (HTTP; gRPC apps are probed with AppCallbackHealthCheck).
    if (daprd.healthCheck && daprd.appProtocol === 'http' && daprd.healthCheck.path !== app.healthCheckPath) {
      problem(
        'dapr.io/app-health-check-path',
        `daprd probes GET ${daprd.healthCheck.path} without a token, the app exempts ${app.healthCheckPath} (healthCheckPath, APP_HEALTH_CHECK_PATH): the probe is refused or not found, daprd logs "App entered un-healthy status" and stops calling the app`,
      );
    }

    // daprd's API only on the pod's loopback, so that only the pod's containers reach it.
    const exposed = (daprd.listenAddresses ?? '').split(',').filter((address) => !isLoopback(address));
    if (exposed.length > 0)
      problem(
        'dapr.io/sidecar-listen-addresses',
        `daprd's API listens on ${exposed.join(', ')} too, beyond the pod's loopback: reachable from outside the pod`,
      );
  }
  return problems;
}
