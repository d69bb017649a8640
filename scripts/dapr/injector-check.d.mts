/** Types for injector-check.mjs, for the TypeScript tests that import it. */
import type { ExampleAppDefaults } from './kubernetes-wiring.mjs';

export declare const INJECTOR_DAPR_VERSION: string;
export declare const KUBERNETES_DIR: string;

export interface ResourceId {
  kind: string;
  name: string;
  namespace: string;
}

/** A Secret the overlay renders: its keys, never its values. */
export interface RenderedSecret {
  name: string;
  namespace: string;
  keys: string[];
}

/** A Kubernetes object as JSON, read field by field by the tests and the wiring rules. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Kubernetes API's own shape, not retyped here
export type KubernetesJson = any;

/** One workload's pod, as its controller creates it and as the injector patched it (Kubernetes JSON). */
export interface InjectedWorkload extends ResourceId {
  admittedAs: string;
  pod: KubernetesJson;
  patch: { op: string; path: string; value?: unknown }[];
  patchedPod: KubernetesJson;
  injectorError?: string;
  injectorLog: string[];
}

export interface OverlayResult {
  overlay: string;
  error?: string;
  resources: ResourceId[];
  secrets: RenderedSecret[];
  workloads: InjectedWorkload[];
}

export interface InjectorReport {
  daprVersion: string;
  /** The kustomize API built in, e.g. "sigs.k8s.io/kustomize/api v0.15.0". */
  kustomize: string;
  injectorEnvironment: Record<string, string>;
  generatorPlaceholder: string;
  overlays: OverlayResult[];
}

export declare function cachedInjectorCheckDir(): string;
export declare function ensureInjectorCheck(options?: { log?: (line: string) => void }): string;
export declare function kubernetesOverlays(dir?: string): string[];
export declare function runInjectorCheck(
  overlays: string[],
  options?: { root?: string; binary?: string },
): { exitCode: number; report: InjectorReport; stderr: string };
export declare function checkKubernetesManifests(
  dir?: string,
  appDefaults?: Partial<ExampleAppDefaults>,
): { passed: boolean; lines: string[]; report: InjectorReport };
