/** Types for daprd-process.mjs, for the TypeScript tests that import it. */
export declare const DAPR_RESOURCES_PATH: string;
export declare function freePort(): Promise<number>;
/** `count` distinct free ports on 127.0.0.1 (all held open until all are chosen). */
export declare function freePorts(count: number): Promise<number[]>;
/** How many times startDaprd starts daprd at most when a port the harness picked is taken before daprd binds it. */
export declare const START_ATTEMPTS: number;

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
  /** More daprd flags. A port flag here (--dapr-public-port...) is the caller's: a bind failure on it is not retried. Not the ports the harness sets. */
  extraArgs?: string[];
  timeoutMs?: number;
  /** daprd's HTTP API port (free port if omitted). A port given is never swapped for another: if daprd cannot bind it, startDaprd rejects. */
  httpPort?: number;
  /** daprd's gRPC API port (free port if omitted). A port given is never swapped for another: if daprd cannot bind it, startDaprd rejects. */
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
  /**
   * Picks each port the harness chooses (HTTP and gRPC when not given, internal gRPC always), on
   * every start: freePort by default. For the test that takes a picked port before daprd binds it.
   */
  choosePort?: () => Promise<number>;
  /** Called when daprd exited because a port the harness picked was taken, before it is started again with new ones. */
  onRetry?: (retry: DaprdRetry) => void;
}

/** A start of daprd that failed to bind a port the harness picked, and was followed by another with new ports. */
export interface DaprdRetry {
  /** Which start failed (1 for the first). */
  attempt: number;
  /** The port daprd could not bind, as startDaprd knows it; undefined when daprd's message names none of them. */
  listener: 'httpPort' | 'grpcPort' | 'internalGrpcPort' | undefined;
  port: number | undefined;
  /** daprd's fatal message, e.g. "Fatal error from runtime: failed to start HTTP server: could not listen on any endpoint". */
  reason: string;
  /** Everything that daprd printed. */
  logs: string;
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
  /** The starts before this one that failed to bind a port the harness picked (empty when the first start succeeded). */
  retries: DaprdRetry[];
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

/** daprd started with exactly the arguments and environment given (startDaprdWithArgs). */
export interface DaprdWithArgs {
  httpUrl: string;
  exited: Promise<number | string>;
  logs(): string;
  stop(): Promise<void>;
}

export declare function startDaprdWithArgs(options: {
  daprdPath: string;
  /** Everything after the program name. */
  args: string[];
  /** The whole environment daprd gets. */
  env: Record<string, string>;
  /** The `--dapr-http-port` in `args`: where its health endpoint is asked. */
  httpPort: number;
  /** Also wait for "App entered healthy status" (default true). */
  awaitAppHealthy?: boolean;
  timeoutMs?: number;
  onOutput?: (text: string) => void;
}): Promise<DaprdWithArgs>;
