/** Types for daprd-process.mjs, for the TypeScript tests that import it. */
export declare const DAPR_RESOURCES_PATH: string;
export declare function freePort(): Promise<number>;

export interface DaprdOptions {
  daprdPath: string;
  appId: string;
  appPort: number;
  appProtocol?: 'http' | 'grpc';
  /** daprd's APP_API_TOKEN; undefined starts it without one. */
  token?: string;
  /** HTTP app health probe path, or false for no app health checks. gRPC apps are probed with AppCallbackHealthCheck. */
  healthCheckPath?: string | false;
  resourcesPath?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  extraArgs?: string[];
  timeoutMs?: number;
  /** daprd's HTTP API port (free port if omitted). */
  httpPort?: number;
  /** daprd's gRPC API port (free port if omitted). */
  grpcPort?: number;
  /** Receives daprd's output as it arrives (it is also kept for logs()). */
  onOutput?: (text: string) => void;
  /** Own process group: a Ctrl-C in the terminal reaches only the parent, which then stops daprd once. */
  detached?: boolean;
  /** More environment variables for daprd (e.g. NAMESPACE, which self-hosted daprd reads). */
  env?: Record<string, string>;
}

export interface Daprd {
  appId: string;
  httpPort: number;
  grpcPort: number;
  httpUrl: string;
  grpcAddress: string;
  exited: Promise<number | string>;
  logs(): string;
  stop(): Promise<void>;
}

export declare function startDaprd(options: DaprdOptions): Promise<Daprd>;
