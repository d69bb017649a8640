import { ensureDaprBinaries } from '../../scripts/dapr/install-daprd.mjs';
import { ensureInjectorCheck } from '../../scripts/dapr/injector-check.mjs';
import { ensureSecretVolumeWriter } from '../../scripts/dapr/secret-volume.mjs';

/**
 * Builds daprd before any test starts (once; later runs reuse the cached binary), then the
 * Kubernetes check's injector program (kubernetes-injector.dapr-spec.ts), which reuses daprd's
 * Go build cache: about 15 s once after daprd; then the kubelet's Secret volume writer
 * (kubelet-secret-volume.dapr-spec.ts, kubernetes-pod.dapr-spec.ts), its own module on
 * k8s.io/kubernetes: about 3 minutes once from an empty Go build cache, 4 s warm.
 */
export default function buildDaprd() {
  const log = (line) => process.stderr.write(`${line}\n`);
  ensureDaprBinaries({ log });
  ensureInjectorCheck({ log });
  ensureSecretVolumeWriter({ log });
}
