import {
  Inject,
  Injectable,
  Logger,
  Module,
  Optional,
  Scope,
  UseGuards,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_GUARD, DiscoveryModule, DiscoveryService, HttpAdapterHost, MetadataScanner, ModuleRef, ModulesContainer } from '@nestjs/core';
import {
  DAPR_AUTH_GLOBAL_GUARD,
  DAPR_AUTH_MODULE_OPTIONS,
  DAPR_AUTH_RESOLVED_OPTIONS,
  DAPR_CALL_VERIFIER,
  DAPR_JWT_VERIFIER,
  DAPR_DECISION_RECORDER,
  DAPR_HANDLER_ACCESS_INDEX,
  DAPR_REJECTION_LOG,
  DAPR_REPORT_ONLY_MONITOR,
  DAPR_ROUTE_PATH_FACTORY,
  DAPR_TOKEN_SOURCE,
  DAPR_TRANSPORT_ADAPTERS,
} from './dapr-auth.constants.js';
import { DaprAuthConfigError } from './dapr-auth.errors.js';
import { DaprAuthGlobalGuard } from './dapr-auth.global-guard.js';
import { DaprAuthGuard, OVERRIDE_DECISIONS, REFUSE_EVERY_CALL } from './dapr-auth.guard.js';
import { ConfigurableDaprAuthModule, type DaprAuthModuleAsyncOptions, type DaprAuthModuleForRootOptions } from './dapr-auth.module-definition.js';
import type { DaprAuthModuleOptions, ResolvedDaprAuthOptions } from './options/dapr-auth.options.js';
import { resolveDaprAuthOptions } from './options/resolve-dapr-auth-options.js';
import { JwtVerifier } from './jwt/jwt-verifier.js';
import type { DaprTokenSource } from './tokens/dapr-token-source.js';
import { createTransportAdapters } from './transports/create-transport-adapters.js';
import { checkCallerTrust } from './callers/caller-trust.js';
import { daprAuthAppGuard, daprOrAppGuard } from './access/app-guard.js';
import { DaprAuthRules } from './access/dapr-auth-rules.js';
import { HandlerAccessIndex } from './access/handler-access.js';
import { type HandlerEntry, listHandlers } from './access/handler-inventory.js';
import { graphqlFacts } from './access/graphql-options.js';
import { loadNestClassResolver, runtimeClassOf } from './access/nest-class.js';
import { addStreamCallRejectionFilter, auditCoverage, guardMessageHandlers, refuseUncoveredDaprOr } from './access/start-up-coverage.js';
import { type AppRoutingConfig, loadRoutePathFactory, servedRoutes } from './access/served-routes.js';
import type { MessageHandlerGate } from './access/message-handler-guard.js';
import { decideProbeHandlers, onlyHttp, refuseRulesOnTokenlessHandlers, tokenlessGrpcHandlers } from './access/tokenless-handlers.js';
import { DAPR_AUTH_MODULE_MARK, injectedTokensOf, refuseForeignProviders, refuseSecondModule, refuseOwnTokensFrom } from './access/one-module.js';
import { DaprAuthHealthIndicator } from './integrations/dapr-auth.health.js';
import { combineRecorders, DaprAuthStatus } from './observe/dapr-auth.status.js';
import { RejectionLog } from './observe/rejection-log.js';
import { ReportOnlyMonitor } from './observe/report-only-monitor.js';
import { SidecarApiCheck } from './callers/sidecar-api-check.js';
import { SidecarWiringCheck } from './wiring/sidecar-wiring-check.js';
import type { ServedApp } from './wiring/compare-wiring.js';
import type { DecisionRecorder } from './observe/metrics/decision-recorder.js';
import { describeSetup } from './observe/start-up-summary.js';

const logger = new Logger('DaprAuthModule');

/** What forRootAsync takes (Nest's ConfigurableModuleBuilder, plus `global`); the options themselves come from the factory. */
const ASYNC_KEYS: ReadonlySet<string> = new Set(['imports', 'inject', 'useFactory', 'useClass', 'useExisting', 'provideInjectionTokensFrom', 'global']);

/** `forRootAsync({ isGlobal: true, ... })` would start, silently not global: refuse what it does not know, as forRoot does. */
function refuseUnknownAsyncKeys(options: DaprAuthModuleAsyncOptions): void {
  if (options === null || typeof options !== 'object')
    throw new DaprAuthConfigError('forRootAsync() takes an object: { imports, inject, useFactory, global }.');
  const unknown = Object.keys(options).filter((key) => !ASYNC_KEYS.has(key));
  if (unknown.length === 0) return;
  const hint = unknown.includes('isGlobal') ? " (`isGlobal` is @nestjs/config's name: here it is `global`)" : '';
  throw new DaprAuthConfigError(
    `unknown forRootAsync() key(s) ${unknown.map((key) => `\`${key}\``).join(', ')}${hint}. It takes ${[...ASYNC_KEYS].join(', ')}; ` +
      'the module options themselves are what useFactory (or useClass / useExisting) returns.',
  );
}

/**
 * A forRootAsync factory that injects a request-scoped provider would run once per request, and
 * so would everything built from its options (a token file watcher and its timers, a JWKS
 * fetcher): refuse it at start-up.
 */
function refuseRequestScopedOptions(moduleRef: ModuleRef): true {
  if (moduleRef.introspect(DAPR_AUTH_MODULE_OPTIONS).scope !== Scope.REQUEST) return true;
  throw new DaprAuthConfigError(
    'the forRootAsync() options depend on a request-scoped provider (in `inject`, or one of its dependencies), so they ' +
      'would be built again for every request, with a new token source each time. Inject only singleton providers ' +
      '(e.g. ConfigService), or read the per-request value in your own DaprTokenSource.',
  );
}

/**
 * What a guard built in another module reads (a `@UseGuards(DaprAuthGuard)` there builds its own
 * guard from these; `daprOr()` reads DaprAuthRules): exported, and refused when another module
 * provides one itself (one-module.ts), since that module's guards would then decide with it.
 */
const READ_BY_GUARDS_ELSEWHERE = [
  DAPR_AUTH_RESOLVED_OPTIONS,
  DAPR_TOKEN_SOURCE,
  DAPR_TRANSPORT_ADAPTERS,
  DAPR_JWT_VERIFIER,
  DAPR_REPORT_ONLY_MONITOR,
  DAPR_REJECTION_LOG,
  DAPR_DECISION_RECORDER,
  DAPR_HANDLER_ACCESS_INDEX,
  SidecarApiCheck,
  DaprAuthRules,
];

/**
 * Holds `@UseGuards(DaprAuthGuard)` so that DaprAuthGuard is an injectable of this module too: the
 * one place `Test.createTestingModule(...).overrideGuard(DaprAuthGuard)` can reach for an app that
 * protects everything with `global: true` (Nest replaces injectables, not providers or APP_GUARD).
 */
@Injectable()
@UseGuards(DaprAuthGuard)
class DaprAuthGuardSlot {}

/** What a test put in DaprAuthGuard's place, if anything: an `overrideGuard` (the slot's injectable) or an `overrideProvider`. */
function testReplacement(modules: ModulesContainer, provided: unknown): CanActivateLike | undefined {
  if (!(provided instanceof DaprAuthGuard)) return provided as CanActivateLike;
  for (const moduleRef of modules.values()) {
    if (!moduleRef.providers.has(DaprAuthGuardSlot)) continue;
    const injected: unknown = moduleRef.injectables.get(DaprAuthGuard)?.instance;
    if (injected !== undefined && injected !== null && !(injected instanceof DaprAuthGuard)) return injected as CanActivateLike;
  }
  return undefined;
}
type CanActivateLike = Parameters<DaprAuthGuard[typeof OVERRIDE_DECISIONS]>[0];

/**
 * Whether a test replaced DaprAuthGuard (`overrideProvider` / `overrideGuard`), read from Nest's
 * wrappers before any instance of them needs to exist (the module constructor runs before the
 * slot's injectable may be built): a replaced wrapper no longer builds DaprAuthGuard itself.
 */
function replacedInTest(modules: ModulesContainer, provided: unknown): boolean {
  if (!(provided instanceof DaprAuthGuard)) return true;
  for (const moduleRef of modules.values()) {
    if (!moduleRef.providers.has(DaprAuthGuardSlot)) continue;
    const slot = moduleRef.injectables.get(DaprAuthGuard);
    if (slot !== undefined && slot.metatype !== DaprAuthGuard) return true;
  }
  return false;
}

/** What the guards inject (Reflector...): their providers must come from Nest, not from provideInjectionTokensFrom. */
function injectedByGuards(): unknown[] {
  return [DaprAuthGuard, DaprAuthGlobalGuard].flatMap(injectedTokensOf);
}

/** The app's `ApplicationConfig` (global prefix, versioning), read through Nest's container; undefined if this Nest hides it. */
function appRoutingConfig(moduleRef: ModuleRef): AppRoutingConfig | undefined {
  const config = (moduleRef as unknown as { container?: { applicationConfig?: Partial<AppRoutingConfig> } }).container?.applicationConfig;
  return typeof config?.getGlobalPrefix === 'function' && typeof config.getVersioning === 'function' && typeof config.getGlobalPrefixOptions === 'function'
    ? (config as AppRoutingConfig)
    : undefined;
}

/**
 * Verifies that requests come from the app's own Dapr sidecar (its `APP_API_TOKEN`).
 *
 * Import it once, in the root module, with {@link DaprAuthModule.forRoot} or
 * {@link DaprAuthModule.forRootAsync}. It is a global module: {@link DaprAuthGuard} can then be
 * used in any module. With `global: true` the guard protects every route and gRPC method.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: DAPR_AUTH_RESOLVED_OPTIONS,
      inject: [DAPR_AUTH_MODULE_OPTIONS],
      useFactory: (options: DaprAuthModuleOptions) => resolveDaprAuthOptions(options),
    },
    {
      provide: DAPR_TOKEN_SOURCE,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      // null only with allowUnconfigured and no token: the guard then lets everything through.
      useFactory: (options: ResolvedDaprAuthOptions) => options.tokenSource ?? null,
    },
    {
      provide: DAPR_TRANSPORT_ADAPTERS,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      useFactory: (options: ResolvedDaprAuthOptions) => createTransportAdapters(options, new Logger('DaprAuthGuard')),
    },
    {
      provide: DAPR_JWT_VERIFIER,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      // jose is imported here, and only when `jwt` is set.
      useFactory: async (options: ResolvedDaprAuthOptions) => (options.jwt ? await JwtVerifier.create(options.jwt, logger) : null),
    },
    {
      provide: SidecarApiCheck,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      // Holds caller rules shut (the guard reads it) until it has proven daprd's API requires DAPR_API_TOKEN.
      useFactory: (options: ResolvedDaprAuthOptions) => new SidecarApiCheck(process.env, options.sidecarApiCheck, logger, options.allowForgeableCallers),
    },
    {
      provide: SidecarWiringCheck,
      inject: [SidecarApiCheck],
      // Compares daprd's metadata with what the app serves, each time the API check settles; only logs.
      useFactory: (sidecar: SidecarApiCheck) => new SidecarWiringCheck(sidecar, logger),
    },
    {
      provide: DaprAuthHealthIndicator,
      inject: [DAPR_TOKEN_SOURCE, DAPR_JWT_VERIFIER, SidecarApiCheck, SidecarWiringCheck],
      useFactory: (tokenSource: DaprTokenSource | null, jwt: JwtVerifier | null, sidecar: SidecarApiCheck, wiring: SidecarWiringCheck) =>
        new DaprAuthHealthIndicator(tokenSource, jwt, sidecar, wiring),
    },
    {
      provide: DaprAuthStatus,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS, DAPR_TOKEN_SOURCE, SidecarApiCheck, SidecarWiringCheck],
      useFactory: (options: ResolvedDaprAuthOptions, tokenSource: DaprTokenSource | null, sidecar: SidecarApiCheck, wiring: SidecarWiringCheck) =>
        new DaprAuthStatus(tokenSource, options.rotationQuietPeriod, logger, undefined, sidecar, wiring),
    },
    {
      provide: DAPR_DECISION_RECORDER,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS, DAPR_TOKEN_SOURCE, DAPR_JWT_VERIFIER, DaprAuthStatus],
      // @opentelemetry/api is imported here, and only with `metrics`.
      useFactory: async (options: ResolvedDaprAuthOptions, tokenSource: DaprTokenSource | null, jwt: JwtVerifier | null, status: DaprAuthStatus) =>
        options.metrics
          ? combineRecorders(
              status,
              await (await import('./observe/metrics/otel-recorder.js')).createOtelRecorder(options.metrics, { tokenSource, jwt }, (line) => logger.warn(line)),
            )
          : status,
    },
    {
      provide: DAPR_REPORT_ONLY_MONITOR,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      useFactory: (options: ResolvedDaprAuthOptions) => (options.mode === 'report' ? new ReportOnlyMonitor(logger) : null),
    },
    {
      provide: DAPR_REJECTION_LOG,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      useFactory: (options: ResolvedDaprAuthOptions) => new RejectionLog(new Logger('DaprAuthGuard'), options.logRejections, options.rejectionLogLimit),
    },
    {
      provide: DAPR_ROUTE_PATH_FACTORY,
      // Nest's own path builder, so the paths start-up decides on are the ones Nest serves (served-routes.ts).
      useFactory: loadRoutePathFactory,
    },
    {
      provide: DAPR_HANDLER_ACCESS_INDEX,
      // Asks the app's @nestjs/core which class it reads class-level guards from (nest-class.ts).
      useFactory: async () => new HandlerAccessIndex(await loadNestClassResolver()),
    },
    DaprAuthGuard,
    // The check without its refusal, for DaprAuthRules (and the guards daprOr() makes): the module's own guard.
    { provide: DAPR_CALL_VERIFIER, useExisting: DaprAuthGuard },
    DaprAuthRules,
    DaprAuthGuardSlot,
    // A provider of its own that needs nothing request-scoped, so it always runs at start-up (the
    // module class itself would be request-scoped too, and never built, with such options).
    { provide: 'DAPR_AUTH:SCOPE_CHECK', inject: [ModuleRef], useFactory: refuseRequestScopedOptions },
  ],
  exports: [...READ_BY_GUARDS_ELSEWHERE, DaprAuthStatus, DaprAuthHealthIndicator, DaprAuthGuard],
})
export class DaprAuthModule extends ConfigurableDaprAuthModule implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  /** Lets start-up find every DaprAuthModule of an app, subclasses and the other build included (one-module.ts). */
  static readonly [DAPR_AUTH_MODULE_MARK] = true;
  private readonly handlers: readonly HandlerEntry[];
  private readonly grpcTokenless: ReadonlySet<object>;
  private readonly appGuard: { name: string } | undefined;
  /** {@link appGuard}, or an APP_GUARD made by daprOr(): what the audit counts as covering every HTTP route. */
  private readonly auditedAppGuard: { name: string } | undefined;
  /** This app's gate on every message and gRPC handler (message-handler-guard.ts). */
  private readonly messageGate: MessageHandlerGate;
  /** The HTTP routes as Nest serves them, and whether each is @DaprPublic(), for the wiring check (set in onModuleInit). */
  private servedHttpRoutes: ServedApp['routes'] = [];

  constructor(
    @Inject(DAPR_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedDaprAuthOptions,
    @Inject(DAPR_TOKEN_SOURCE) private readonly tokenSource: DaprTokenSource | null,
    @Inject(DAPR_AUTH_GLOBAL_GUARD) private readonly isGlobalGuard: boolean,
    @Inject(DAPR_REPORT_ONLY_MONITOR) private readonly reportOnly: ReportOnlyMonitor | null,
    @Inject(DAPR_DECISION_RECORDER) private readonly recorder: DecisionRecorder,
    @Inject(DAPR_REJECTION_LOG) private readonly rejectionLog: RejectionLog,
    private readonly status: DaprAuthStatus,
    private readonly sidecarApiCheck: SidecarApiCheck,
    @Inject(DAPR_HANDLER_ACCESS_INDEX) private readonly accessIndex: HandlerAccessIndex,
    @Inject(DAPR_ROUTE_PATH_FACTORY) private readonly routePathFactory: Parameters<typeof servedRoutes>[1],
    private readonly guard: DaprAuthGuard,
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    private readonly modules: ModulesContainer,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(DaprAuthGlobalGuard) private readonly globalGuard: DaprAuthGlobalGuard | null,
    private readonly wiringCheck: SidecarWiringCheck,
    @Optional() @Inject(HttpAdapterHost) private readonly httpAdapterHost: HttpAdapterHost | null,
  ) {
    super();
    // Here, not in a lifecycle hook: app.connectMicroservice() registers its handlers (and reads
    // their guards) right away, and startAllMicroservices() serves them, all before onModuleInit
    // (which only app.init() / listen() runs); so every rule that concerns them, and every fatal
    // one, runs before any server can serve a call.
    refuseSecondModule(modules);
    refuseForeignProviders(modules, [DAPR_AUTH_MODULE_OPTIONS, DAPR_ROUTE_PATH_FACTORY, ...READ_BY_GUARDS_ELSEWHERE]);
    const handlers = listHandlers(discovery, scanner);
    this.handlers = handlers;
    addStreamCallRejectionFilter(handlers);
    this.grpcTokenless = options.exemptTokenlessDaprCalls ? tokenlessGrpcHandlers(handlers) : new Set();
    accessIndex.exemptTokenless(this.grpcTokenless);
    // Read with the class Nest reads class-level guards from; refuses shapes that cannot be read safely.
    let accessOf = accessIndex.register(handlers);
    const messageHandlers = handlers.filter((entry) => entry.kind !== 'http');
    refuseRulesOnTokenlessHandlers(
      messageHandlers,
      this.grpcTokenless,
      accessOf,
      "daprd's token-less gRPC calls (HealthCheck, ListTopicSubscriptions, ListInputBindings)",
    );
    this.messageGate = guardMessageHandlers(handlers, accessOf, guard, isGlobalGuard);
    accessOf = accessIndex.register(handlers); // again: the handlers the gate took now say so (the global guard leaves them)
    // A DaprAuthGuard the app registered as APP_GUARD itself (without `global`) covers its HTTP routes.
    this.appGuard = isGlobalGuard ? undefined : daprAuthAppGuard(modules);
    const orAppGuard = daprOrAppGuard(modules);
    // What the audit counts as covering every HTTP route: that guard, or one made by daprOr() (the
    // app's own guard, or the Dapr check, decides every route: none is open to anyone).
    this.auditedAppGuard = this.appGuard ?? (isGlobalGuard ? undefined : orAppGuard);
    // @DaprOrAppGuard() handlers are left to a guard made by daprOr(): one must run on each, or it would be open.
    refuseUncoveredDaprOr(handlers, accessOf, orAppGuard);
    // What is open among message handlers stops the app here (a hybrid app serves them before
    // onModuleInit); the whole audit, HTTP routes with the full paths Nest serves, is in onModuleInit.
    auditCoverage(messageHandlers, accessOf, options, isGlobalGuard, logger, { appGuard: this.auditedAppGuard, fatalOnly: true });
    const ruleSites = [
      ...(options.callers ? ['option `callers`'] : []),
      ...handlers.filter((entry) => accessOf.get(entry)?.callers).map((entry) => entry.target),
    ];
    sidecarApiCheck.callerRuleSites = ruleSites;
    // A test that replaced the guard runs none of it, so it needs no daprd.
    if (!replacedInTest(modules, guard)) checkCallerTrust(ruleSites, options.allowForgeableCallers, process.env, logger);
  }

  /**
   * Registers the module with static options (all optional: by default the token is read from
   * `APP_API_TOKEN`). `global: true` registers {@link DaprAuthGuard} as `APP_GUARD`.
   */
  static forRoot(options: DaprAuthModuleForRootOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * Registers the module with options from a factory, class or existing provider, e.g.
   * `@nestjs/config`'s `ConfigService`: `{ imports, inject, useFactory, global }`.
   */
  static forRootAsync(options: DaprAuthModuleAsyncOptions): DynamicModule {
    refuseUnknownAsyncKeys(options);
    refuseOwnTokensFrom(options.provideInjectionTokensFrom, DaprAuthModule, [
      DAPR_AUTH_MODULE_OPTIONS,
      DAPR_AUTH_GLOBAL_GUARD,
      DaprAuthGlobalGuard,
      APP_GUARD,
      DaprAuthGuard,
      DaprAuthRules,
      ...injectedByGuards(),
    ]);
    return super.forRootAsync(options);
  }

  onModuleInit(): void {
    this.refusingAllIfItThrows(() => this.decideHttpRoutes());
    // Every instance exists now, a test's replacement included: hand it every decision.
    const replacement = testReplacement(this.modules, this.guard);
    if (replacement !== undefined) {
      // The provider, the global guard, and the DaprAuthGuard instances Nest made for @UseGuards sites it did not replace itself.
      const replaced = [this.guard, this.globalGuard, ...[...this.modules.values()].map((moduleRef) => moduleRef.injectables.get(DaprAuthGuard)?.instance)];
      for (const guard of replaced) if (guard instanceof DaprAuthGuard) guard[OVERRIDE_DECISIONS](replacement);
    }
    for (const warning of this.options.warnings) logger.warn(warning);
    this.reportOnly?.start();
    this.status.start();
    // In the background, with retries while daprd comes up: never delays start-up.
    this.wiringCheck.start(() => this.servedApp());
    this.sidecarApiCheck.start();
  }

  /**
   * The GraphQL half of the audit, once every module's onModuleInit ran: the GraphQL module builds
   * its schema there, and the schema says which types are roots (typePaths files, typeDefs split
   * over strings, other root names), which decides what is a way in (start-up-coverage.ts).
   */
  onApplicationBootstrap(): void {
    const resolvers = this.handlers.filter((entry) => entry.kind === 'graphql');
    if (resolvers.length === 0) return;
    const access = new Map(resolvers.map((entry) => [entry, this.accessIndex.read(entry.handler, runtimeClassOf(entry.controller))]));
    this.refusingAllIfItThrows(() =>
      auditCoverage(resolvers, access, this.options, this.isGlobalGuard, logger, { appGuard: this.auditedAppGuard, graphql: graphqlFacts(this.modules) }),
    );
  }

  /**
   * Runs a start-up step; if it refuses start-up, a microservice started before app.init()
   * (startAllMicroservices, then listen) is already serving: until the app is closed, every guard
   * of this app refuses every call.
   */
  private refusingAllIfItThrows(step: () => void): void {
    try {
      step();
    } catch (error) {
      for (const guard of this.guardInstances()) guard[REFUSE_EVERY_CALL]();
      this.messageGate.refuseEveryCall();
      throw error;
    }
  }

  /** What the app serves, for the wiring check: read at each look (the HTTP port is known only once the app listens). */
  private servedApp(): ServedApp {
    const adapter = this.httpAdapterHost?.httpAdapter as { getHttpServer?(): { address?(): unknown } | undefined } | undefined;
    const address = adapter?.getHttpServer?.()?.address?.();
    return {
      httpServer: adapter !== undefined,
      httpPort: typeof address === 'object' && address !== null ? (address as { port?: number }).port : undefined,
      appCallback: this.handlers.some((entry) => entry.grpc?.some(({ service }) => /^AppCallback(Alpha)?$/.test(service.split('.').pop()!))),
      routes: this.servedHttpRoutes,
      healthCheckPath: this.options.healthCheckPath,
    };
  }

  /**
   * The HTTP half of start-up, once Nest has registered the routes (app.init() runs onModuleInit
   * after that, and before any HTTP server listens): the full paths Nest serves them at decide
   * which handlers daprd's health probe reaches, and the audit lists them as served.
   */
  private decideHttpRoutes(): void {
    const httpEntries = this.handlers.filter((entry) => entry.kind === 'http');
    const routes = servedRoutes(httpEntries, this.routePathFactory, appRoutingConfig(this.moduleRef), this.modules.applicationId);
    const decided = this.options.exemptTokenlessDaprCalls
      ? decideProbeHandlers(routes, this.options.healthCheckPath, httpEntries.length > 0)
      : { handlers: new Set<object>(), unserved: [] };
    const probe = { ...decided, handlers: onlyHttp(decided.handlers, this.handlers) };
    // Re-read: a class-level rule is on every cached access.
    const accessOf = this.accessIndex.register(this.handlers);
    refuseRulesOnTokenlessHandlers(httpEntries, probe.handlers, accessOf, `daprd's health probe (GET ${this.options.healthCheckPath})`);
    this.accessIndex.exemptTokenless(new Set([...this.grpcTokenless, ...probe.handlers]));
    // The audit speaks of the paths Nest serves (where they could be read).
    const served = routes?.map(({ entry, method, path }) => ({ ...entry, target: `${method} ${path}`, http: { method, path } })) ?? httpEntries;
    // GraphQL resolvers are audited in onApplicationBootstrap, once their schema exists.
    const audited = [...served, ...this.handlers.filter((entry) => entry.kind !== 'http' && entry.kind !== 'graphql')];
    const auditedAccess = new Map(audited.map((entry) => [entry, this.accessIndex.read(entry.handler, runtimeClassOf(entry.controller))]));
    this.servedHttpRoutes = served.map((entry) => ({
      method: entry.http!.method,
      path: entry.http!.path,
      public: auditedAccess.get(entry)?.access === 'public',
      target: entry.target,
    }));
    auditCoverage(audited, auditedAccess, this.options, this.isGlobalGuard, logger, {
      appGuard: this.auditedAppGuard,
      probeUnserved: probe.unserved,
    });
    logger.log(
      describeSetup(
        this.options,
        this.isGlobalGuard,
        this.handlers,
        this.sidecarApiCheck.status(),
        this.recorder.target,
        this.appGuard,
        probe.unserved.length > 0,
      ),
    );
  }

  /**
   * Every DaprAuthGuard instance of this app, subclasses included: the provider, the global guard,
   * and the ones Nest made for @UseGuards / APP_GUARD sites in any module.
   */
  private guardInstances(): DaprAuthGuard[] {
    const instances = new Set<unknown>([this.guard, this.globalGuard]);
    for (const moduleRef of this.modules.values()) {
      for (const wrapper of [...moduleRef.providers.values(), ...moduleRef.injectables.values()]) {
        if (wrapper.isDependencyTreeStatic()) instances.add(wrapper.instance);
      }
    }
    return [...instances].filter((instance): instance is DaprAuthGuard => instance instanceof DaprAuthGuard);
  }

  async onApplicationShutdown(): Promise<void> {
    this.sidecarApiCheck.stop();
    this.wiringCheck.stop();
    this.reportOnly?.stop();
    this.rejectionLog.flush();
    this.status.stop();
    await this.tokenSource?.close?.();
  }
}
