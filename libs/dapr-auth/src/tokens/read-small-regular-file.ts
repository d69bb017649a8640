import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Why {@link readSmallRegularFile} gave no content. */
export type SmallFileFailure = 'missing' | 'unreadable' | 'not-a-file' | 'too-large';

/**
 * Opened non-blocking: opening a FIFO for reading otherwise waits for a writer, possibly forever.
 * For a regular file the flag changes nothing (Windows has no such flag: 0).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The content of a regular file of at most `maxBytes` bytes, as UTF-8; never waits and never reads
 * more than `maxBytes + 1` bytes. A FIFO, a socket, a device (`/dev/zero`, `/dev/stdin`) or a
 * directory is refused before anything is read, so the read cannot block or run unbounded; a
 * symbolic link is followed (a Kubernetes Secret volume is symlinks to regular files).
 */
export function readSmallRegularFile(path: string, maxBytes: number): { content: string } | { failure: SmallFileFailure } {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { failure: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable' };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { failure: 'not-a-file' };
    if (stats.size > maxBytes) return { failure: 'too-large' };
    // One byte more than allowed: a file that grew since fstat (or reports size 0) is still bounded.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) return { failure: 'too-large' };
    return { content: buffer.toString('utf8', 0, length) };
  } catch {
    return { failure: 'unreadable' };
  } finally {
    closeSync(fd);
  }
}
