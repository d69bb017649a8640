import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The library's floors (CONTRIBUTING.md, "Where things are"): every import of a library file
 * (specs aside) goes to its own folder or to one listed for it here, so arrows run one way and no
 * folder imports a folder that depends on it. The one exception is inherent: decorators name the
 * guard (`UseGuards(DaprAuthGuard)`). A new feature that needs another arrow changes this table,
 * in review, instead of quietly making a cycle.
 */
const SRC = join(dirname(fileURLToPath(import.meta.url)), '../libs/dapr-auth/src');

/** Top-level files that everything may use: they import nothing of the library but each other. */
const FOUNDATION = new Set(['dapr-auth.constants.ts', 'dapr-auth.errors.ts', 'pipeline.types.ts', 'option-checks.ts', 'optional-import.ts']);

/** Which floors each floor may import (its own always). `spine`: the module, the guard, index.ts. */
const ALLOWED: Record<string, readonly string[]> = {
  foundation: [],
  transports: ['foundation'],
  tokens: ['foundation'],
  jwt: ['foundation', 'transports'],
  callers: ['foundation', 'transports'],
  options: ['foundation', 'tokens', 'jwt', 'callers'],
  access: ['foundation', 'transports', 'callers', 'options'],
  // what daprd's metadata says of how it calls the app, against what the app serves (read through the sidecar API check)
  wiring: ['foundation', 'callers'],
  observe: ['foundation', 'tokens', 'jwt', 'callers', 'options', 'access', 'wiring'],
  integrations: ['foundation', 'transports', 'tokens', 'jwt', 'callers', 'options', 'access', 'wiring', 'observe'],
  // options: `compare` reads the accepted token with the module's own start-up code, for the module's verdict
  cli: ['foundation', 'tokens', 'jwt', 'options'],
  // nestjs-dapr-auth/testing, its own entry point (never loaded by index.ts)
  testing: ['foundation', 'options'],
  // the check without Nest (nestjs-dapr-auth/standalone, also in index.ts): nothing that needs Nest at run time
  standalone: ['foundation', 'tokens', 'options', 'observe'],
  decorators: ['foundation', 'transports', 'jwt', 'callers', 'access', 'spine'],
  spine: ['foundation', 'transports', 'tokens', 'jwt', 'callers', 'options', 'access', 'wiring', 'observe', 'integrations', 'decorators', 'standalone'],
};

function floorOf(file: string): string {
  const [first, ...rest] = relative(SRC, file).split(/[\\/]/);
  if (rest.length > 0) return first;
  return FOUNDATION.has(first) ? 'foundation' : 'spine';
}

function libraryFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? libraryFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [join(dir, entry.name)] : [],
  );
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** Every relative import of the library, as [from file, floor, to file, floor]. */
const arrows = libraryFiles(SRC).flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) => {
    const target = normalize(join(dirname(file), (match[1] ?? match[2]).replace(/\.js$/, '.ts')));
    return { from: relative(SRC, file), fromFloor: floorOf(file), to: relative(SRC, target), toFloor: floorOf(target) };
  }),
);

type Arrow = (typeof arrows)[number];

/** The arrows that go to another floor not listed for theirs. */
function violations(list: readonly Arrow[]): string[] {
  return list
    .filter((arrow) => arrow.fromFloor !== arrow.toFloor && !ALLOWED[arrow.fromFloor].includes(arrow.toFloor))
    .map((arrow) => `${arrow.from} (${arrow.fromFloor}) -> ${arrow.to} (${arrow.toFloor})`);
}

describe('the library layout: arrows run one way', () => {
  it('reads the imports (the check can see something)', () => {
    expect(arrows.length).toBeGreaterThan(100);
    expect(arrows).toContainEqual(expect.objectContaining({ from: 'dapr-auth.guard.ts', toFloor: 'access' }));
  });

  it('every floor is known', () => {
    expect([...new Set(arrows.flatMap((arrow) => [arrow.fromFloor, arrow.toFloor]))].filter((floor) => !(floor in ALLOWED))).toEqual([]);
  });

  it('every import goes to the same floor or one listed for it', () => {
    expect(violations(arrows)).toEqual([]);
  });

  it('only decorators reach up to the spine (the guard), and nothing below imports a floor above it', () => {
    const up = arrows.filter((arrow) => arrow.toFloor === 'spine' && arrow.fromFloor !== 'spine').map((arrow) => `${arrow.from} -> ${arrow.to}`);
    expect(up.every((line) => line.startsWith('decorators/') && line.endsWith('dapr-auth.guard.ts'))).toBe(true);
  });

  it('the allowed arrows themselves have no cycle (besides decorators -> the guard)', () => {
    const edges = (floor: string) => ALLOWED[floor].filter((to) => !(floor === 'decorators' && to === 'spine'));
    const cycle = (floor: string, path: string[]): string[] | undefined => {
      if (path.includes(floor)) return [...path, floor];
      for (const next of edges(floor)) {
        const found = cycle(next, [...path, floor]);
        if (found) return found;
      }
      return undefined;
    };
    for (const floor of Object.keys(ALLOWED)) expect(cycle(floor, [])).toBeUndefined();
  });

  it('the check can fail: an import from tokens of the guard, or from transports of options, is refused', () => {
    const arrow = (from: string, to: string): Arrow => ({ from, fromFloor: floorOf(join(SRC, from)), to, toFloor: floorOf(join(SRC, to)) });
    expect(violations([arrow('tokens/token-set.ts', 'dapr-auth.guard.ts'), arrow('transports/http.adapter.ts', 'options/dapr-auth.options.ts')])).toEqual([
      'tokens/token-set.ts (tokens) -> dapr-auth.guard.ts (spine)',
      'transports/http.adapter.ts (transports) -> options/dapr-auth.options.ts (options)',
    ]);
    expect(violations([arrow('dapr-auth.guard.ts', 'tokens/token-set.ts'), arrow('tokens/token-set.ts', 'option-checks.ts')])).toEqual([]);
  });

  it('the standalone entry loads no Nest package: no file it reaches imports one at run time', () => {
    // What a file imports at run time: `import type` and imports of types only are erased.
    const runtimeImports = (file: string) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(import|export)\s([^'";]*?)from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g)]
        .filter(([, , clause]) => clause === undefined || !/^type\s|^\{(\s*type\s+\w+\s*,?)+\}\s*$/.test(clause.trim()))
        .map((match) => match[3] ?? match[4]);
    const reached = new Set<string>();
    const nest: string[] = [];
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const specifier of runtimeImports(file)) {
        if (specifier.startsWith('.')) visit(normalize(join(dirname(file), specifier.replace(/\.js$/, '.ts'))));
        else if (specifier.startsWith('@nestjs/')) nest.push(`${relative(SRC, file)} -> ${specifier}`);
      }
    };
    visit(join(SRC, 'standalone/index.ts'));
    expect(reached).toContain(join(SRC, 'tokens/file-token-source.ts'));
    expect(reached).toContain(join(SRC, 'options/resolve-dapr-auth-options.ts'));
    expect(nest).toEqual([]);
    // The walk can fail: the guard imports Nest.
    const guardImports = runtimeImports(join(SRC, 'dapr-auth.guard.ts'));
    expect(guardImports).toContain('@nestjs/common');
    expect(guardImports).not.toContain('./options/dapr-auth.options.js'); // a type-only import, erased
  });
});
