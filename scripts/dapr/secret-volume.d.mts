/** Types for secret-volume.mjs, for the TypeScript tests that import it. */

/** The k8s.io/kubernetes release the writer is built from, e.g. "v1.32.3". */
export declare const KUBERNETES_VERSION: string;

/** A v1 SecretVolumeSource (the `secret` of a pod volume), as the writer reads it. */
export interface SecretVolumeSource {
  secretName?: string;
  items?: Array<{ key: string; path: string; mode?: number }>;
  defaultMode?: number;
  optional?: boolean;
}

/** What one write did: the timestamped directory `..data` points to, and the paths written. */
export interface SecretVolumeWrite {
  dataDir: string;
  files: string[];
}

export interface SecretVolumeWriter {
  dir: string;
  exited: Promise<number | string>;
  /** Writes the Secret whose keys and values are `data` as the kubelet writes the volume `volume`. */
  write(data: Record<string, string>, volume?: SecretVolumeSource): Promise<SecretVolumeWrite>;
  close(): Promise<void>;
}

export declare function cachedSecretVolumeDir(): string;
export declare function ensureSecretVolumeWriter(options?: { log?: (line: string) => void }): string;
export declare function secretVolumeWriterVersion(binary?: string): string;
export declare function startSecretVolumeWriter(dir: string, options?: { binary?: string }): SecretVolumeWriter;
