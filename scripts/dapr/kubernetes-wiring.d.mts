/** Types for kubernetes-wiring.mjs, for the TypeScript tests that import it. */
import type { InjectedWorkload, OverlayResult } from './injector-check.mjs';

export interface ExampleAppDefaults {
  httpPort: number;
  grpcPort: number;
  healthCheckPath: string;
  host: string;
}
export declare const EXAMPLE_APP_DEFAULTS: ExampleAppDefaults;
export declare const DEFAULT_APP_CHANNEL_ADDRESS: string;

/** A Secret and key a container reads. */
export interface SecretSource {
  secret: string;
  key: string;
  optional?: boolean;
}

export interface AppContainerFacts {
  name: string;
  injectedEnv: string[];
  appToken?: Partial<SecretSource> & { via: 'APP_API_TOKEN_FILE' | 'APP_API_TOKEN'; path?: string; volume?: string; subPath?: string };
  appTokenPlain: boolean;
  apiToken?: SecretSource;
  daprHttpPort?: string;
  daprGrpcPort?: string;
  appProtocolEnv?: string;
  listenPortVariable: string;
  listenPort: number;
  declaredPorts: number[];
  host: string;
  healthCheckPath: string;
}

export interface InjectedPodFacts {
  workload: string;
  annotations: Record<string, string>;
  injected: boolean;
  daprd?: {
    appToken?: SecretSource;
    apiToken?: SecretSource;
    httpPort?: string;
    grpcPort?: string;
    listenAddresses?: string;
    appPort?: string;
    appProtocol?: string;
    appChannelAddress: string;
    healthCheck?: { path?: string };
  };
  apps: AppContainerFacts[];
  app?: AppContainerFacts;
}

export interface WiringProblem {
  workload?: string;
  /** What to fix: an annotation, `Secret <name>`, a variable. */
  subject: string;
  message: string;
}

export declare function describeInjectedPod(workload: InjectedWorkload, appDefaults?: Partial<ExampleAppDefaults>): InjectedPodFacts;
export declare function wiringProblems(overlay: OverlayResult, appDefaults?: Partial<ExampleAppDefaults>): WiringProblem[];
