import { ensureDaprBinaries } from '../../scripts/dapr/install-daprd.mjs';

/** Builds daprd before any test starts (once; later runs reuse the cached binary). */
export default function buildDaprd() {
  ensureDaprBinaries({ log: (line) => process.stderr.write(`${line}\n`) });
}
