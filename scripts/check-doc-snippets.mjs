// `npm run docs:check`: every ```ts block of the user documentation compiles, strictly, against
// the BUILT package (run `npm run build` first), once as an ES module (`module: nodenext`, a Nest
// 12 app) and once as CommonJS (`module: commonjs`, how most Nest 11 apps compile).
//
// A block is a whole file, as a reader pastes it. Names it takes from the reader's own app are
// listed in a visible comment line inside the block:
//   // Assumed: AppModule, VaultService (what they are)
// and the checker declares each of them as `any` (a value and a type). Nothing else is added.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = [
  'README.md',
  'libs/dapr-auth/README.md',
  'SECURITY.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const work = join(root, '.doc-snippets');

if (!existsSync(join(root, 'libs/dapr-auth/dist/esm/index.d.ts'))) {
  console.error('docs:check: the package is not built; run `npm run build` first.');
  process.exit(2);
}

/** The ```ts blocks of a document, with the line each starts on. */
function blocksOf(doc) {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const blocks = [];
  let current;
  lines.forEach((line, index) => {
    if (current === undefined && /^```(ts|typescript)\s*$/.test(line)) current = { doc, line: index + 2, code: [] };
    else if (current !== undefined && /^```\s*$/.test(line)) {
      blocks.push({ ...current, code: current.code.join('\n') });
      current = undefined;
    } else if (current !== undefined) current.code.push(line);
  });
  return blocks;
}

function assumedNames(code) {
  return [...code.matchAll(/^\s*\/\/ Assumed: ([^(\n]+)/gm)].flatMap((match) =>
    match[1]
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
}

const blocks = DOCS.flatMap(blocksOf);
const VARIANTS = [
  { name: 'esm', type: 'module', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  { name: 'cjs', type: 'commonjs', compilerOptions: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, ignoreDeprecations: '6.0' } },
];
let failed = false;
rmSync(work, { recursive: true, force: true });
for (const variant of VARIANTS) {
  const dir = join(work, variant.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: variant.type }));
  const files = new Map();
  blocks.forEach((block, index) => {
    const names = assumedNames(block.code);
    const prelude = names.map((name) => `declare const ${name}: any; type ${name} = any;`);
    const file = `snippet-${index}.ts`;
    files.set(file, { block, offset: prelude.length });
    writeFileSync(join(dir, file), `${[...prelude, block.code].join('\n')}\nexport {};\n`);
  });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        types: ['node'],
        ...variant.compilerOptions,
      },
      include: ['*.ts'],
    }),
  );
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    failed = true;
    // Point each error at the document and its line, not at the generated file.
    const output = String(error.stdout ?? error.message).replace(/(snippet-\d+\.ts)\((\d+),(\d+)\)/g, (match, file, line, column) => {
      const entry = files.get(file);
      return entry ? `${entry.block.doc}:${entry.block.line + Number(line) - 1 - entry.offset}:${column}` : match;
    });
    console.error(`docs:check (${variant.name}): a snippet does not compile:\n${output}`);
  }
}
rmSync(work, { recursive: true, force: true });
if (failed) process.exit(1);
console.log(`docs:check: ${blocks.length} ts blocks from ${DOCS.length} documents compile as ES modules and as CommonJS`);
