/** Types for install-daprd.mjs, for the TypeScript tests that import it. */
export declare const DEFAULT_DAPR_VERSION: string;
export declare const DAPR_VERSION: string;
export declare const MIN_DAPR_VERSION: string;
export declare const OLDEST_TESTED_DAPR_VERSION: string;
export declare function cacheDir(): string;
export declare function cachedBuildDir(): string;
export declare function cachedDaprdPath(): string;
export interface DaprBinaries {
  daprd: string;
  placement: string;
  scheduler: string;
}
export declare function ensureDaprd(options?: { log?: (line: string) => void }): string;
export declare function ensureDaprBinaries(options?: { log?: (line: string) => void }): DaprBinaries;
export declare function isAtLeast(version: string, minimum: string): boolean;
