import { RequestMethod, VERSION_NEUTRAL, VersioningType, type VersioningOptions } from '@nestjs/common';
import { NEST_METHOD_METADATA, NEST_PATH_METADATA } from '../dapr-auth.constants.js';
import { importOptional } from '../optional-import.js';
import type { HandlerEntry } from './handler-inventory.js';

/** `MODULE_PATH` of `@nestjs/common`: where `RouterModule` records a module's path (per app, then shared). */
const NEST_MODULE_PATH_METADATA = '__module_path__';
/** `VERSION_METADATA` of `@nestjs/common`: `@Version()`, and the `version` of `@Controller()`. */
const NEST_VERSION_METADATA = '__version__';

/** One path an HTTP handler is served at, exactly as Nest registered it with the HTTP adapter. */
export interface ServedRoute {
  readonly entry: HandlerEntry;
  /** `GET`, `POST`, `ALL`... */
  readonly method: string;
  /** The full path: global prefix (and its exclusions), `RouterModule` path, URI version, controller and method paths. */
  readonly path: string;
  /** Whether a request WITHOUT any version (daprd's probe sends none) can reach the handler here. */
  readonly servesUnversioned: boolean;
}

/** What is read of the app's `ApplicationConfig` (global prefix, versioning), as set before `app.init()`. */
export interface AppRoutingConfig {
  getGlobalPrefix(): string;
  getGlobalPrefixOptions(): unknown;
  getVersioning(): VersioningOptions | undefined;
}

interface RoutePathFactoryLike {
  create(metadata: Record<string, unknown>, requestMethod?: RequestMethod): string[];
}
type RoutePathFactoryClass = new (config: AppRoutingConfig) => RoutePathFactoryLike;

/** Nest's own path builder (the one its router explorer uses), same path in Nest 11 (CommonJS) and 12. */
const ROUTE_PATH_FACTORY = '@nestjs/core/router/route-path-factory.js';

/** Loads Nest's `RoutePathFactory` from the app's `@nestjs/core`; `undefined` when it cannot. */
export async function loadRoutePathFactory(): Promise<RoutePathFactoryClass | undefined> {
  try {
    const loaded = await importOptional<{ RoutePathFactory?: RoutePathFactoryClass; default?: { RoutePathFactory?: RoutePathFactoryClass } }>(
      ROUTE_PATH_FACTORY,
    );
    const factory = loaded.RoutePathFactory ?? loaded.default?.RoutePathFactory;
    return typeof factory === 'function' ? factory : undefined;
  } catch {
    return undefined;
  }
}

/** The part of Nest's `Module` read here: its class, for the `RouterModule` path. */
interface RoutedModuleLike {
  readonly metatype?: object;
}

/** A controller or method path as Nest's router takes it (its `addLeadingSlash`). */
function asList(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value ?? '/']).map((item) => {
    const path = String(item);
    return path === '' || path.startsWith('/') || path.startsWith('{/') ? path : `/${path}`;
  });
}

function reachableWithoutVersion(versioning: VersioningOptions | undefined, version: unknown): boolean {
  // URI versioning puts the version in the path itself (none for VERSION_NEUTRAL).
  if (versioning === undefined || versioning.type === VersioningType.URI || version === undefined) return true;
  return version === VERSION_NEUTRAL || (Array.isArray(version) && version.includes(VERSION_NEUTRAL));
}

/**
 * Every path each HTTP handler is served at, built by Nest's own `RoutePathFactory` from the same
 * inputs as Nest's router (called once routes are registered, so the global prefix and versioning
 * are final). `undefined` when Nest's factory or config cannot be read: callers then fail closed.
 */
export function servedRoutes(
  entries: readonly HandlerEntry[],
  Factory: RoutePathFactoryClass | undefined,
  config: AppRoutingConfig | undefined,
  applicationId: string | undefined,
): ServedRoute[] | undefined {
  if (Factory === undefined || config === undefined) return undefined;
  const factory = new Factory(config);
  const versioning = config.getVersioning();
  const globalPrefix = config.getGlobalPrefix();
  const routes: ServedRoute[] = [];
  // One entry per (controller path × method path); Nest's paths for a handler AND its controller come
  // from their metadata all at once. A handler function shared by several controllers (inherited from
  // a base class) is served under each of them.
  const done = new Map<object, Set<object>>();
  for (const entry of entries) {
    if (entry.kind !== 'http') continue;
    const controllers = done.get(entry.handler) ?? new Set<object>();
    if (controllers.has(entry.controller)) continue;
    controllers.add(entry.controller);
    done.set(entry.handler, controllers);
    const requestMethod = Reflect.getMetadata(NEST_METHOD_METADATA, entry.handler) as RequestMethod;
    const method = RequestMethod[requestMethod] ?? String(requestMethod);
    const controllerVersion = versioning ? ((Reflect.getMetadata(NEST_VERSION_METADATA, entry.controller) as unknown) ?? versioning.defaultVersion) : undefined;
    const methodVersion = Reflect.getMetadata(NEST_VERSION_METADATA, entry.handler) as unknown;
    const servesUnversioned = reachableWithoutVersion(versioning, methodVersion ?? controllerVersion);
    const hosts: readonly RoutedModuleLike[] = entry.hosts.length > 0 ? (entry.hosts as readonly RoutedModuleLike[]) : [{}];
    for (const host of hosts) {
      const metatype = host.metatype;
      const modulePath =
        metatype === undefined
          ? undefined
          : ((Reflect.getMetadata(NEST_MODULE_PATH_METADATA + (applicationId ?? ''), metatype) ?? Reflect.getMetadata(NEST_MODULE_PATH_METADATA, metatype)) as
              string | undefined);
      for (const ctrlPath of asList(Reflect.getMetadata(NEST_PATH_METADATA, entry.controller))) {
        for (const methodPath of asList(Reflect.getMetadata(NEST_PATH_METADATA, entry.handler))) {
          const paths = factory.create(
            { ctrlPath, methodPath, modulePath, globalPrefix, controllerVersion, methodVersion, versioningOptions: versioning },
            requestMethod,
          );
          for (const path of paths) routes.push({ entry, method, path, servesUnversioned });
        }
      }
    }
  }
  return routes;
}
