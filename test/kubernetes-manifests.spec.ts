import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Secret } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_HEALTH_CHECK_PATH } from 'nestjs-dapr-auth';
import { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT } from '../src/bootstrap.js';

/**
 * deploy/kubernetes, read as an operator would: every manifest is valid against the Kubernetes API
 * schemas (kubernetes-models), and the pieces are wired together: daprd's annotation names the
 * Secret the app reads, ports and paths agree with the example app's defaults and the Dockerfile.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const deployDir = join(root, 'deploy/kubernetes');

interface Manifest {
  file: string;
  object: any;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? yamlFiles(join(dir, entry.name)) : entry.name.endsWith('.yaml') ? [join(dir, entry.name)] : [],
  );
}

// YAML 1.1, as Kubernetes reads it (so `defaultMode: 0440` is octal).
const manifests: Manifest[] = yamlFiles(deployDir).flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' }).map((document) => {
    if (document.errors.length > 0) throw new Error(`${relative(root, file)}: ${document.errors[0].message}`);
    return { file: relative(root, file), object: document.toJS() };
  }),
);
const ofKind = (kind: string) => manifests.filter((manifest) => manifest.object.kind === kind);
const base = ofKind('Kustomization').find((manifest) => manifest.file === 'deploy/kubernetes/base/kustomization.yaml')!.object;
// The Secret kustomize generates from the user's token.env (see the base kustomization).
const secret = { metadata: { name: base.secretGenerator[0].name as string } };
// The Secret daprd's own API requires (DAPR_API_TOKEN), generated from dapr-api-token.env.
const apiSecret = { metadata: { name: base.secretGenerator[1].name as string } };
const guide = readFileSync(join(root, 'docs/running-under-dapr.md'), 'utf8');
const deployments = ofKind('Deployment');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

describe('deploy/kubernetes', () => {
  it('has an HTTP, a gRPC and an env-var Deployment, each applicable with kubectl apply -k', () => {
    expect(deployments.map((manifest) => manifest.file).sort()).toEqual([
      'deploy/kubernetes/env-var/deployment.yaml',
      'deploy/kubernetes/grpc/deployment.yaml',
      'deploy/kubernetes/http/deployment.yaml',
    ]);
    for (const { file, object } of ofKind('Kustomization')) {
      for (const resource of (object.resources ?? []) as string[]) expect(existsSync(join(root, dirname(file), resource))).toBe(true);
    }
    for (const variant of ['http', 'grpc', 'env-var']) {
      const kustomization = ofKind('Kustomization').find((manifest) => manifest.file === `deploy/kubernetes/${variant}/kustomization.yaml`);
      expect(kustomization?.object.resources).toEqual(['../base', 'deployment.yaml']);
    }
  });

  it.each(deployments.map((manifest) => [manifest.file, manifest]))('%s is valid against the Kubernetes API schema', (_file, { object }) => {
    expect(() => new Deployment(object).validate()).not.toThrow();
  });

  it.each([0, 1])('the Secret kustomize generates (%s) is valid too, under the name the annotation uses', (index) => {
    const generator = base.secretGenerator[index];
    const generated = new Secret({
      metadata: { name: generator.name, labels: generator.options.labels },
      type: 'Opaque',
      data: { token: Buffer.from('x').toString('base64') },
    });
    expect(() => generated.validate()).not.toThrow();
    expect(generator.options.disableNameSuffixHash).toBe(true); // the Dapr annotation is not rewritten by kustomize
  });

  it('the schema check can fail (a Deployment without a selector is refused)', () => {
    const broken = structuredClone(deployments[0].object);
    delete broken.spec.selector;
    expect(() => new Deployment(broken).validate()).toThrow(/selector/);
  });

  it('never applies a token from the repository: the Secret comes from token.env, which git ignores', () => {
    expect(ofKind('Secret')).toHaveLength(0);
    expect(base.resources).toBeUndefined();
    expect(base.secretGenerator).toEqual([
      expect.objectContaining({ name: 'app-api-token', envs: ['token.env'] }),
      expect.objectContaining({ name: 'dapr-api-token', envs: ['dapr-api-token.env'] }),
    ]);
    const ignored = readFileSync(join(root, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toContain('deploy/kubernetes/base/token.env');
    expect(ignored).toContain('deploy/kubernetes/base/dapr-api-token.env');
  });

  it('the Kubernetes guide creates token.env before the first kubectl apply -k, and never a Secret that apply would replace', () => {
    const steps = guide.slice(guide.indexOf('## Kubernetes (sidecar injector)'));
    const create = steps.indexOf('> deploy/kubernetes/base/token.env');
    const createApiToken = steps.indexOf('> deploy/kubernetes/base/dapr-api-token.env');
    const apply = steps.indexOf('kubectl apply -k');
    expect(create).toBeGreaterThan(0);
    expect(createApiToken).toBeGreaterThan(0);
    expect(apply).toBeGreaterThan(Math.max(create, createApiToken));
    expect(steps.slice(0, apply)).not.toContain('kubectl create secret');
  });

  describe.each(deployments.map((manifest) => [manifest.file, manifest.object]))('%s', (file, deployment) => {
    const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;
    const podSpec = deployment.spec.template.spec;
    const app = podSpec.containers.find((container: any) => container.name === 'app');
    const env = (name: string) => app.env?.find((variable: any) => variable.name === name);
    const protocol = annotations['dapr.io/app-protocol'];

    it('is a Dapr app whose annotations name the Secret and the app port', () => {
      expect(annotations['dapr.io/enabled']).toBe('true');
      expect(annotations['dapr.io/app-id']).toBe('orders');
      expect(protocol).toBe(file.includes('/grpc/') ? 'grpc' : 'http');
      expect(annotations['dapr.io/app-token-secret']).toBe(secret.metadata.name);
      for (const [label, value] of Object.entries(deployment.spec.selector.matchLabels)) {
        expect(deployment.spec.template.metadata.labels[label]).toBe(value); // the selector matches the pods
      }
    });

    it("uses the example app's default port for its protocol, declared by the container and exposed by the Dockerfile", () => {
      const port = protocol === 'grpc' ? DEFAULT_GRPC_PORT : DEFAULT_HTTP_PORT;
      expect(annotations['dapr.io/app-port']).toBe(String(port));
      expect(app.ports.map((entry: any) => entry.containerPort)).toContain(port);
      const portVariable = env(protocol === 'grpc' ? 'APP_GRPC_PORT' : 'APP_PORT');
      if (portVariable) expect(portVariable.value).toBe(String(port));
      expect(dockerfile).toMatch(new RegExp(`^EXPOSE .*\\b${port}\\b`, 'm'));
    });

    it('checks health the way the guard exempts it', () => {
      expect(annotations['dapr.io/enable-app-health-check']).toBe('true');
      if (protocol === 'http') {
        const appPath = env('APP_HEALTH_CHECK_PATH')?.value ?? DEFAULT_HEALTH_CHECK_PATH;
        expect(annotations['dapr.io/app-health-check-path']).toBe(appPath);
      } else {
        expect(annotations['dapr.io/app-health-check-path']).toBeUndefined(); // gRPC apps are probed with AppCallbackHealthCheck
      }
    });

    it("requires DAPR_API_TOKEN on daprd's API and gives the app the same value (the injector gives it to daprd only)", () => {
      expect(annotations['dapr.io/api-token-secret']).toBe(apiSecret.metadata.name);
      expect(env('DAPR_API_TOKEN').valueFrom.secretKeyRef).toEqual({ name: apiSecret.metadata.name, key: 'token' });
    });

    it('gives the app the same Secret as daprd: a mounted volume without subPath, or an env var', () => {
      const tokenFile = env('APP_API_TOKEN_FILE');
      if (file.includes('/env-var/')) {
        expect(tokenFile).toBeUndefined();
        expect(env('APP_API_TOKEN').valueFrom.secretKeyRef).toEqual({ name: secret.metadata.name, key: 'token' });
        return;
      }
      expect(env('APP_API_TOKEN')).toBeUndefined();
      const mount = app.volumeMounts.find((candidate: any) => tokenFile.value.startsWith(`${candidate.mountPath}/`));
      expect(mount).toBeDefined();
      expect(mount.subPath).toBeUndefined(); // a subPath mount never sees a rotated Secret
      expect(mount.readOnly).toBe(true);
      const volume = podSpec.volumes.find((candidate: any) => candidate.name === mount.name);
      expect(volume.secret.secretName).toBe(secret.metadata.name);
      const item = volume.secret.items.find((candidate: any) => candidate.key === 'token');
      expect(`${mount.mountPath}/${item.path}`).toBe(tokenFile.value);
      expect(volume.secret.defaultMode & 0o004).toBe(0); // not world-readable
    });

    it('runs the image the Dockerfile builds, as its non-root user, on a read-only root', () => {
      const tag = /docker build -t (\S+) \./.exec(dockerfile)?.[1];
      expect(app.image).toBe(tag);
      expect(dockerfile).toMatch(/^USER node$/m); // uid 1000 in the official Node images
      expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(app.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    });
  });
});
