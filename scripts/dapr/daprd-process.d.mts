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
  /**
   * Resolve only once daprd logs "App entered healthy status": until its first probe succeeds,
   * daprd answers every call to the app with 500 "app is not in a healthy state". Default: true
   * when health checks are on and `logLevel` is info or debug (the line is logged at info level).
   */
  awaitAppHealthy?: boolean;
  /** placement's address (startPlacement): enables actors. */
  placementAddress?: string;
  /** scheduler's address (startScheduler): enables actor reminders and jobs. */
  schedulerAddress?: string;
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

/** A running placement or scheduler. */
export interface DaprControlPlaneService {
  name: 'placement' | 'scheduler';
  /** host:port for daprd's --placement-host-address / --scheduler-host-address. */
  address: string;
  exited: Promise<number | string>;
  logs(): string;
  stop(): Promise<void>;
}

interface ControlPlaneOptions {
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  timeoutMs?: number;
  onOutput?: (text: string) => void;
  detached?: boolean;
}

export declare function startPlacement(options: ControlPlaneOptions & { placementPath: string }): Promise<DaprControlPlaneService>;
export declare function startScheduler(options: ControlPlaneOptions & { schedulerPath: string }): Promise<DaprControlPlaneService>;
