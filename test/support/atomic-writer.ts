import { mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a directory exactly as the kubelet's AtomicWriter updates a Secret volume
 * (kubernetes/pkg/volume/util/atomic_writer.go):
 *
 *   <dir>/..2026_11_28_01_40_00.1234567/token   the payload, in a new timestamped directory
 *   <dir>/..data -> ..2026_11_28_01_40_00.1234567   swapped by renaming `..data_tmp` over it
 *   <dir>/token -> ..data/token                 the user-visible path, created once
 *
 * and removes the previous timestamped directory. The path `<dir>/token` never changes; what it
 * resolves to does, in one atomic rename.
 */
export class KubeletAtomicWriter {
  constructor(readonly dir: string) {}

  /** The path the app reads (`tokenFile`). */
  get tokenPath(): string {
    return join(this.dir, 'token');
  }

  write(payload: Record<string, string>): void {
    const dataLink = join(this.dir, '..data');
    const previous = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
    const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '');
    const tsDir = mkdtempSync(join(this.dir, `..${stamp}.`));
    for (const [name, content] of Object.entries(payload)) writeFileSync(join(tsDir, name), content);
    const tmpLink = join(this.dir, '..data_tmp');
    symlinkSync(tsDir.slice(this.dir.length + 1), tmpLink);
    renameSync(tmpLink, dataLink);
    for (const name of Object.keys(payload)) {
      if (!existsSync(join(this.dir, name))) symlinkSync(join('..data', name), join(this.dir, name));
    }
    if (previous) rmSync(join(this.dir, previous), { recursive: true, force: true });
  }
}
