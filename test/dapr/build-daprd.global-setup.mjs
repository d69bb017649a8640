import { ensureDaprBinaries } from '../../scripts/dapr/install-daprd.mjs';
import { ensureInjectorCheck } from '../../scripts/dapr/injector-check.mjs';

/**
 * Builds daprd before any test starts (once; later runs reuse the cached binary), then the
 * Kubernetes check's injector program (kubernetes-injector.dapr-spec.ts), which reuses daprd's
 * Go build cache: about 15 s once after daprd.
 */
export default function buildDaprd() {
  const log = (line) => process.stderr.write(`${line}\n`);
  ensureDaprBinaries({ log });
  ensureInjectorCheck({ log });
}
