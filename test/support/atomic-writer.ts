import { randomInt } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Writes a directory the way the kubelet's AtomicWriter updates a Secret volume
 * (k8s.io/kubernetes v1.32.3, pkg/volume/util/atomic_writer.go, `Write`, lines 139-268):
 *
 *   <dir>/..2026_11_28_01_40_00.1234567/token   the payload, in a new timestamped directory (mode 0755,
 *                                                 files chmod-ed to `mode` whatever the umask)
 *   <dir>/..data -> ..2026_11_28_01_40_00.1234567   swapped by renaming `..data_tmp` over it
 *   <dir>/token -> ..data/token                 the user-visible path, created once
 *
 * then removes user-visible paths no longer in the payload and the previous timestamped directory.
 * A payload equal to what is on disk writes nothing (only missing user-visible links are created).
 * The path `<dir>/token` never changes; what it resolves to does, in one atomic rename.
 *
 * A copy, so that the default suite needs no Go: test/dapr/kubelet-secret-volume.dapr-spec.ts builds
 * the real AtomicWriter (scripts/dapr/secret-volume.mjs) and checks that both leave the same layout
 * after the same writes.
 */
export class KubeletAtomicWriter {
  constructor(readonly dir: string) {}

  /** The path the app reads (`tokenFile`). */
  get tokenPath(): string {
    return join(this.dir, 'token');
  }

  /** `payload`: relative path -> content; `mode`: every file's mode (a Secret volume's `defaultMode`, 0644 unless set). */
  write(payload: Record<string, string>, mode = 0o644): void {
    // (2) the current timestamped directory
    const dataLink = join(this.dir, '..data');
    const previous = readlinkIfExists(dataLink);
    let pathsToRemove: string[] = [];
    let shouldWrite = true;
    if (previous !== undefined) {
      // (3) what the old version holds that the payload does not (parents of new paths stay)
      const newPaths = new Set<string>();
      for (const path of Object.keys(payload)) for (let sub = path; sub !== '.' && sub !== ''; sub = dirname(sub)) newPaths.add(sub);
      pathsToRemove = walk(join(this.dir, previous)).filter((path) => !newPaths.has(path));
      // (4) content compared, not modes
      const changed = Object.entries(payload).some(([path, content]) => readIfExists(join(this.dir, previous, path)) !== content);
      if (!changed && pathsToRemove.length === 0) shouldWrite = false;
    }

    if (shouldWrite) {
      // (5) os.MkdirTemp(dir, "..2006_01_02_15_04_05.") in UTC: the pattern, then a random uint32 in decimal
      const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '');
      let tsDir: string;
      for (;;) {
        tsDir = join(this.dir, `..${stamp}.${randomInt(0, 2 ** 32)}`);
        try {
          mkdirSync(tsDir, 0o700);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
      }
      chmodSync(tsDir, 0o755);
      // (6) the payload, each file chmod-ed to its mode
      for (const [path, content] of Object.entries(payload)) {
        const file = join(tsDir, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content, { mode });
        chmodSync(file, mode);
      }
      // (8) ..data_tmp -> the new directory, (9) renamed over ..data
      const tmpLink = join(this.dir, '..data_tmp');
      symlinkSync(relative(this.dir, tsDir), tmpLink);
      renameSync(tmpLink, dataLink);
    }
    // (10) user-visible links, for the first element of each path, where none exists
    for (const path of Object.keys(payload)) {
      const top = path.split(sep)[0];
      if (readlinkIfExists(join(this.dir, top), true) === undefined) symlinkSync(join('..data', top), join(this.dir, top));
    }
    // (11) user-visible paths no longer in the payload (top level only)
    for (const path of pathsToRemove) if (!path.includes(sep)) rmSync(join(this.dir, path), { force: true });
    // (12) the previous timestamped directory
    if (shouldWrite && previous !== undefined) rmSync(join(this.dir, previous), { recursive: true, force: true });
  }
}

/** The link's target; undefined when nothing is there (with `onlyMissing`, also undefined only then: any other error means "leave it"). */
function readlinkIfExists(path: string, onlyMissing = false): string | undefined {
  try {
    return readlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (onlyMissing) return '';
    throw error;
  }
}

function readIfExists(path: string): string | undefined {
  try {
    lstatSync(path);
  } catch {
    return undefined;
  }
  return readFileSync(path, 'utf8');
}

/** Every path under `root`, relative, directories included (filepath.Walk without the root). */
function walk(root: string, prefix = ''): string[] {
  const paths: string[] = [];
  let entries;
  try {
    entries = readdirSync(join(root, prefix), { withFileTypes: true });
  } catch {
    return paths;
  }
  for (const entry of entries) {
    const path = prefix ? join(prefix, entry.name) : entry.name;
    paths.push(path);
    if (entry.isDirectory()) paths.push(...walk(root, path));
  }
  return paths;
}
