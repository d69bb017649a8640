import { importOptional } from '../optional-import.js';

/**
 * Which class Nest reads class-level guards from, for a controller class it instantiated.
 *
 * A guard sees `context.getClass()`, which is `instance.constructor`. Nest 11.2.8+ and 12.2+ read
 * class-level `@UseGuards` from the class they instantiated instead (their class-ref registry,
 * keyed by prototype); earlier versions read `instance.constructor` too. The two differ for a class
 * decorator that returns a `Proxy` of the class (its prototype's `constructor` is the wrapped
 * class) and for the TypeScript handbook's `applyMixins` (it copies `constructor` from the mixin).
 * Every class-level rule of this library must be read from Nest's class, or a guard Nest never
 * runs could be counted on (docs/caller-identity.md#class-shapes).
 */
/** A class, as Nest and `context.getClass()` hand them out. */
export type ClassRef = abstract new (...args: never[]) => unknown;

export interface NestClassResolver {
  /**
   * The class Nest reads class-level metadata from for instances whose prototype is
   * `metatype.prototype`; `undefined` when this Nest cannot be asked (then both candidates are read
   * and must agree).
   */
  readonly classOf: ((metatype: ClassRef) => ClassRef) | undefined;
}

/** The module of Nest that holds the registry, where it exists (same path in Nest 11 CJS and 12 ESM). */
const CLASS_REF_REGISTRY = '@nestjs/core/helpers/class-ref-registry.js';

interface ClassRefRegistry {
  getClassRef?: (instance: object) => ClassRef;
}

function fromRegistry(registry: ClassRefRegistry | undefined): NestClassResolver {
  const getClassRef = registry?.getClassRef ?? (registry as { default?: ClassRefRegistry } | undefined)?.default?.getClassRef;
  if (typeof getClassRef !== 'function') return { classOf: undefined };
  // Nest's own function, given an object with the instance's prototype: the answer Nest gets.
  return { classOf: (metatype) => getClassRef(Object.create(metatype.prototype as object) as object) };
}

/** Asks the app's `@nestjs/core` for its class-ref registry (see {@link importOptional} for how). */
export async function loadNestClassResolver(): Promise<NestClassResolver> {
  try {
    return fromRegistry(await importOptional<ClassRefRegistry>(CLASS_REF_REGISTRY));
  } catch {
    return { classOf: undefined }; // an older Nest: it reads `instance.constructor`, or we cannot tell
  }
}

/** What `context.getClass()` gives a guard for instances of `metatype`: their prototype's `constructor`. */
export function runtimeClassOf(metatype: ClassRef): ClassRef {
  const constructor = (metatype.prototype as { constructor?: unknown } | undefined)?.constructor;
  return typeof constructor === 'function' ? (constructor as ClassRef) : metatype;
}
