import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { DEFAULT_HEALTH_CHECK_PATH } from 'nestjs-dapr-auth';
import { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT } from '../../src/bootstrap.js';
import {
  ensureInjectorCheck,
  INJECTOR_DAPR_VERSION,
  KUBERNETES_DIR,
  kubernetesOverlays,
  runInjectorCheck,
  type OverlayResult,
} from '../../scripts/dapr/injector-check.mjs';
import { DEFAULT_DAPR_VERSION } from '../../scripts/dapr/install-daprd.mjs';
import { describeInjectedPod, EXAMPLE_APP_DEFAULTS, wiringProblems } from '../../scripts/dapr/kubernetes-wiring.mjs';

/**
 * deploy/kubernetes as a cluster would run it, from Dapr's and kustomize's own code: every overlay
 * rendered by kustomize's Go API, each Deployment's pod sent to the sidecar injector webhook of Dapr
 * v1.18.2 (its own handleRequest, configured as Dapr's Helm chart configures it), the JSON patch it
 * answers applied (scripts/dapr/injector-check.mjs, dapr/injector/). The tests below assert on the
 * patched pods what the docs say the injector does; the last ones break a copy of the manifests the
 * ways users get it wrong and expect the check to name the fix.
 */
const binary = ensureInjectorCheck({ log: () => undefined }); // built by the suite's global setup
const overlays = kubernetesOverlays();
const { exitCode, report } = runInjectorCheck(overlays, { binary });
const overlayNamed = (name: string) => report.overlays.find((overlay) => basename(overlay.overlay) === name)!;
const variants = ['http', 'grpc', 'env-var'] as const;

/** The example app's own defaults (src/bootstrap.ts, the guard's healthCheckPath), which the wiring rules assume. */
const appDefaults = { httpPort: DEFAULT_HTTP_PORT, grpcPort: DEFAULT_GRPC_PORT, healthCheckPath: DEFAULT_HEALTH_CHECK_PATH };

/** Copies deploy/kubernetes, changes one Deployment with `edit`, and runs the check on the copy. */
function checkEditedCopy(variant: (typeof variants)[number], edit: (deployment: ReturnType<typeof parseDocument>) => void): OverlayResult {
  const copy = mkdtempSync(join(tmpdir(), 'k8s-manifests-'));
  try {
    cpSync(KUBERNETES_DIR, copy, { recursive: true });
    const file = join(copy, variant, 'deployment.yaml');
    const deployment = parseDocument(readFileSync(file, 'utf8'), { version: '1.1' });
    edit(deployment);
    writeFileSync(file, deployment.toString());
    return runInjectorCheck([join(copy, variant)], { root: copy, binary }).report.overlays[0];
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
const annotationsPath = ['spec', 'template', 'metadata', 'annotations'];
const appContainer = (deployment: ReturnType<typeof parseDocument>) => deployment.getIn(['spec', 'template', 'spec', 'containers', 0]) as any;
const subjects = (overlay: OverlayResult) => wiringProblems(overlay, appDefaults).map((problem) => problem.subject);

describe(`deploy/kubernetes under the Dapr ${INJECTOR_DAPR_VERSION} sidecar injector`, () => {
  it("runs the injector of the release the daprd suite runs, and the wiring rules' defaults are the example app's", () => {
    expect(report.daprVersion).toBe(DEFAULT_DAPR_VERSION);
    expect(report.kustomize).toBe('sigs.k8s.io/kustomize/api v0.15.0'); // the version dapr/dapr v1.18.2's go.mod pins
    expect(EXAMPLE_APP_DEFAULTS).toMatchObject(appDefaults);
    expect(EXAMPLE_APP_DEFAULTS.host).toBe('127.0.0.1'); // src/main.ts: APP_HOST ?? '127.0.0.1'
  });

  it('renders every overlay with kustomize: the two Secrets (key `token`), and a Deployment the injector admits in each variant', () => {
    expect(exitCode).toBe(0);
    expect(overlays.map((overlay) => relative(KUBERNETES_DIR, overlay)).sort()).toEqual(['base', 'env-var', 'grpc', 'http']);
    for (const overlay of report.overlays) {
      expect(overlay.error).toBeUndefined();
      expect(overlay.secrets).toEqual([
        { name: 'app-api-token', namespace: 'default', keys: ['token'] },
        { name: 'dapr-api-token', namespace: 'default', keys: ['token'] },
      ]);
    }
    expect(overlayNamed('base').workloads).toEqual([]);
    for (const variant of variants) {
      const [workload, ...others] = overlayNamed(variant).workloads;
      expect(others).toEqual([]);
      expect(workload).toMatchObject({ kind: 'Deployment', name: 'orders', admittedAs: 'system:serviceaccount:kube-system:replicaset-controller' });
      expect(workload.injectorError).toBeUndefined();
      expect(workload.injectorLog.join('\n')).toContain("Sidecar injector succeeded injection for app 'orders'");
      expect(workload.patchedPod.spec.containers.map((container: any) => container.name)).toEqual(['app', 'daprd']);
    }
  });

  it('finds no wiring problem in any overlay', () => {
    for (const overlay of report.overlays) expect(wiringProblems(overlay, appDefaults)).toEqual([]);
  });

  describe.each(variants)('%s', (variant) => {
    const workload = overlayNamed(variant).workloads[0];
    const facts = describeInjectedPod(workload, appDefaults);
    const { daprd, app } = facts as Required<typeof facts>;
    const protocol = variant === 'grpc' ? 'grpc' : 'http';

    it('gives APP_API_TOKEN and DAPR_API_TOKEN to the daprd container only, from key `token` of the Secrets the annotations name', () => {
      expect(daprd.appToken).toEqual({ secret: facts.annotations['dapr.io/app-token-secret'], key: 'token', optional: false });
      expect(daprd.appToken?.secret).toBe('app-api-token');
      expect(daprd.apiToken).toEqual({ secret: facts.annotations['dapr.io/api-token-secret'], key: 'token', optional: false });
      expect(daprd.apiToken?.secret).toBe('dapr-api-token');
      // All the injector adds to the app container: daprd's two ports and the app protocol. No token.
      expect(app.injectedEnv).toEqual(['DAPR_HTTP_PORT', 'DAPR_GRPC_PORT', 'APP_PROTOCOL']);
      const appEnvPatches = workload.patch.filter((operation) => operation.path.startsWith('/spec/containers/0/'));
      expect(appEnvPatches.map((operation) => (operation.value as any).name)).toEqual(['DAPR_HTTP_PORT', 'DAPR_GRPC_PORT', 'APP_PROTOCOL']);
    });

    it('has the app container read the same Secrets itself, as the guide wires them', () => {
      if (variant === 'env-var') {
        expect(app.appToken).toEqual({ via: 'APP_API_TOKEN', secret: 'app-api-token', key: 'token', optional: false });
      } else {
        expect(app.appToken).toEqual({
          via: 'APP_API_TOKEN_FILE',
          path: '/var/run/secrets/dapr-app-token/token',
          secret: 'app-api-token',
          key: 'token',
          volume: 'app-api-token',
          subPath: undefined,
          optional: false,
        });
      }
      expect(app.apiToken).toEqual(daprd.apiToken);
    });

    it("tells the app daprd's ports: DAPR_HTTP_PORT 3500 and DAPR_GRPC_PORT 50001, the ports daprd listens on", () => {
      expect([daprd.httpPort, daprd.grpcPort]).toEqual(['3500', '50001']);
      expect([app.daprHttpPort, app.daprGrpcPort]).toEqual([daprd.httpPort, daprd.grpcPort]);
      expect(app.appProtocolEnv).toBe(protocol);
    });

    it("has daprd call the app's port with its protocol, on the pod's loopback, where the app listens", () => {
      const port = protocol === 'grpc' ? DEFAULT_GRPC_PORT : DEFAULT_HTTP_PORT;
      expect(daprd.appProtocol).toBe(protocol);
      expect(daprd.appPort).toBe(String(port));
      expect(app.listenPort).toBe(port);
      expect(app.declaredPorts).toContain(port);
      expect(daprd.appChannelAddress).toBe('127.0.0.1'); // no dapr.io/app-channel-address: daprd's default
      expect(app.host).toBe('127.0.0.1');
    });

    it('has daprd probe the health path the guard exempts (HTTP), or AppCallbackHealthCheck (gRPC)', () => {
      expect(daprd.healthCheck).toBeDefined();
      if (protocol === 'http') {
        expect(daprd.healthCheck?.path).toBe(DEFAULT_HEALTH_CHECK_PATH);
        expect(daprd.healthCheck?.path).toBe(app.healthCheckPath);
      } else {
        // A gRPC app is probed over gRPC; the path the injector still passes, its default, is not used.
        expect(facts.annotations['dapr.io/app-health-check-path']).toBeUndefined();
        expect(daprd.healthCheck?.path).toBe('/healthz');
      }
    });

    it("keeps daprd's API on the pod's loopback: --dapr-listen-addresses [::1],127.0.0.1 (the default, no annotation)", () => {
      expect(facts.annotations['dapr.io/sidecar-listen-addresses']).toBeUndefined();
      expect(daprd.listenAddresses).toBe('[::1],127.0.0.1');
    });
  });

  it("troubleshooting.md's Kubernetes section names each mistake as the check prints it", () => {
    const troubleshooting = readFileSync(join(KUBERNETES_DIR, '../../docs/troubleshooting.md'), 'utf8');
    const section = troubleshooting.slice(troubleshooting.indexOf('## On Kubernetes: three wirings that fail'));
    for (const subject of ['APP_API_TOKEN', 'dapr.io/api-token-secret', 'dapr.io/app-health-check-path', 'Secret <name>'])
      expect(section).toContain(`\`[${subject}]\``);
  });

  describe('names what to fix when a copy of the manifests is wired wrong', () => {
    it('dapr.io/api-token-secret removed: daprd gets no DAPR_API_TOKEN, while the app still has it and DAPR_HTTP_PORT (its sidecar check finds the API open)', () => {
      const overlay = checkEditedCopy('http', (deployment) => deployment.deleteIn([...annotationsPath, 'dapr.io/api-token-secret']));
      expect(subjects(overlay)).toEqual(['dapr.io/api-token-secret']);
      const { daprd, app } = describeInjectedPod(overlay.workloads[0], appDefaults);
      expect(daprd!.apiToken).toBeUndefined();
      expect(app!.apiToken).toEqual({ secret: 'dapr-api-token', key: 'token', optional: false });
      expect(app!.daprHttpPort).toBe('3500');
    });

    it('dapr.io/app-token-secret removed: daprd gets no APP_API_TOKEN', () => {
      const overlay = checkEditedCopy('grpc', (deployment) => deployment.deleteIn([...annotationsPath, 'dapr.io/app-token-secret']));
      expect(subjects(overlay)).toEqual(['dapr.io/app-token-secret']);
    });

    it("the app's DAPR_API_TOKEN read from another Secret: named, as missing and as not daprd's", () => {
      const overlay = checkEditedCopy('env-var', (deployment) => {
        const variable = appContainer(deployment)
          .get('env')
          .items.find((item: any) => item.get('name') === 'DAPR_API_TOKEN');
        variable.setIn(['valueFrom', 'secretKeyRef', 'name'], 'dapr-api-tokens');
      });
      expect(subjects(overlay)).toEqual(['Secret dapr-api-tokens', 'Secret dapr-api-tokens']);
    });

    it('the Secret only on daprd (the app container neither mounts it nor reads it): named APP_API_TOKEN', () => {
      const overlay = checkEditedCopy('http', (deployment) => {
        const container = appContainer(deployment);
        const env = container.get('env');
        env.items = env.items.filter((item: any) => item.get('name') !== 'APP_API_TOKEN_FILE');
        container.delete('volumeMounts');
        deployment.deleteIn(['spec', 'template', 'spec', 'volumes']);
      });
      expect(subjects(overlay)).toEqual(['APP_API_TOKEN']);
      const { daprd, app } = describeInjectedPod(overlay.workloads[0], appDefaults);
      expect(daprd!.appToken).toEqual({ secret: 'app-api-token', key: 'token', optional: false });
      expect(app!.appToken).toBeUndefined();
      expect(app!.injectedEnv).not.toContain('APP_API_TOKEN');
    });

    it('daprd probing a path the app does not exempt: named dapr.io/app-health-check-path', () => {
      const overlay = checkEditedCopy('http', (deployment) => deployment.setIn([...annotationsPath, 'dapr.io/app-health-check-path'], '/health'));
      expect(subjects(overlay)).toEqual(['dapr.io/app-health-check-path']);
      expect(describeInjectedPod(overlay.workloads[0], appDefaults).daprd!.healthCheck).toEqual({ path: '/health' });
    });

    it("DAPR_HTTP_PORT set by the app container itself: the injector leaves it, and the check names it when it is not daprd's port", () => {
      const overlay = checkEditedCopy('http', (deployment) => {
        appContainer(deployment).get('env').add({ name: 'DAPR_HTTP_PORT', value: '3600' });
      });
      expect(subjects(overlay)).toEqual(['DAPR_HTTP_PORT']);
      const { daprd, app } = describeInjectedPod(overlay.workloads[0], appDefaults);
      expect(app!.injectedEnv).toEqual(['DAPR_GRPC_PORT', 'APP_PROTOCOL']);
      expect([app!.daprHttpPort, daprd!.httpPort]).toEqual(['3600', '3500']);
    });

    it('`npm run k8s:check -- <dir>` exits 1 and prints the annotation to fix', () => {
      const copy = mkdtempSync(join(tmpdir(), 'k8s-manifests-'));
      try {
        cpSync(KUBERNETES_DIR, copy, { recursive: true });
        const file = join(copy, 'grpc', 'deployment.yaml');
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^\s+dapr\.io\/api-token-secret: .*\n/m, ''));
        const run = spawnSync(process.execPath, [join(KUBERNETES_DIR, '../../scripts/dapr/injector-check.mjs'), copy], { encoding: 'utf8' });
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(/grpc: Deployment orders: 1 problem\(s\)\n\s+- \[dapr\.io\/api-token-secret\]/);
        expect(run.stdout).toMatch(/http: Deployment orders: ok/);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });
});
