// CI: every package `npm ci` warns about (EBADENGINE: it declares a newer Node than this one) is
// named in README.md's "Node 20" paragraph, so that paragraph stays true when dependencies move.
// Usage: npm ci 2>&1 | tee npm-ci.log; node scripts/check-engine-warnings.mjs npm-ci.log
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = readFileSync(process.argv[2], 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const paragraph = readme.slice(readme.indexOf('**Node 20.**'), readme.indexOf('\n\n', readme.indexOf('**Node 20.**')));
const warned = [...new Set([...log.matchAll(/EBADENGINE\s+package: '((?:@[^/']+\/)?[^@']+)@[^']+'/g)].map((match) => match[1]))].sort();
const count = [...log.matchAll(/EBADENGINE Unsupported engine/g)].length;
const missing = warned.filter((name) => !paragraph.includes(`\`${name}\``));
const stated = /prints (\d+) `EBADENGINE` warnings/.exec(paragraph)?.[1];
const problems = [
  ...missing.map((name) => `README.md's "Node 20" paragraph does not name ${name}, which npm ci warns about`),
  ...(stated !== undefined && Number(stated) !== count ? [`README.md says ${stated} EBADENGINE warnings, npm ci printed ${count}`] : []),
];
if (problems.length > 0) {
  console.error(`engine warnings: ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`engine warnings: the README names all ${warned.length} packages of npm ci's ${count} EBADENGINE warnings`);
