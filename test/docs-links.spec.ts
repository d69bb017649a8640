import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Every relative link in the documentation points at a file that exists, and every `#anchor` at
 * a heading of that file (GitHub's slugs), so moving a section never leaves a dead link behind.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'BENCHMARKS.md',
  'libs/dapr-auth/README.md',
  'libs/dapr-auth/CHANGELOG.md',
  'bench/history.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's heading anchors: lower case, punctuation dropped (but `-` and `_`), spaces to `-`, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** `[text](target)` links outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
}

describe('documentation links', () => {
  it.each(DOCS)('%s: every relative link and anchor resolves', (doc) => {
    const file = join(root, doc);
    const dead: string[] = [];
    for (const link of linksOf(readFileSync(file, 'utf8'))) {
      if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
      const [path, anchor] = link.split('#');
      const target = path === '' ? file : resolve(dirname(file), path);
      if (!existsSync(target)) {
        dead.push(`${link} (no ${relative(root, target)})`);
        continue;
      }
      if (anchor !== undefined && statSync(target).isFile() && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
        dead.push(`${link} (no heading #${anchor} in ${relative(root, target)})`);
      }
    }
    expect(dead).toEqual([]);
  });

  it('the checker can fail: a missing file and a missing anchor are found', () => {
    expect(anchorsOf('# A title\n## GRPC and `hybrid` apps\n## Step\n## Step\n')).toEqual(new Set(['a-title', 'grpc-and-hybrid-apps', 'step', 'step-1']));
    expect(linksOf('see [x](a.md#b), `[y](c.md)` and\n```\n[z](d.md)\n```\n')).toEqual(['a.md#b']);
  });
});
