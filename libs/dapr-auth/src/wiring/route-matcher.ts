/**
 * Matches a path daprd posts to against a route path as Nest serves it on Express or Fastify, in
 * time linear in the path: the path comes from daprd's metadata (up to 4,096 characters, and what
 * answers may not be daprd), so a backtracking regular expression built from a route such as
 * `/reports/:y.:m.:d` or `/{*a}/x/{*b}` could take minutes on one path. The route is compiled to
 * a small program that a Pike VM runs over the path once, every alternative in step (each
 * instruction at most once per character).
 */

type Instruction =
  | { op: 'char'; code: number } // one character, compared in lower case
  | { op: 'segment' } // any character but `/`
  | { op: 'any' } // any character
  | { op: 'split'; to: [number, number] }
  | { op: 'jump'; to: number }
  | { op: 'match' };

/** A compiled route: `matches(path)`, and `steps` (instructions run by the last call: at most (path length + 1) × program length). */
export interface RouteMatcher {
  matches(path: string): boolean;
  readonly steps: number;
}

/**
 * The matcher for a route path: `:param` (with a Fastify `(regex)`, read as any segment, or `?`:
 * optional), `*`, `*splat`, `{*splat}`, `(.*)`, optional `{…}` groups; in any letter case (Express
 * matches so by default) and tolerant of a trailing slash. It errs towards matching: a route it
 * takes for a subscription's that is not only misses a warning, where one it missed could hide a
 * `@DaprPublic()` handler that serves the subscription. A pattern it cannot read matches everything.
 */
export function compileRoute(pattern: string): RouteMatcher {
  const program = compile(pattern);
  if (program === undefined) return { matches: () => true, steps: 0 };
  let steps = 0;
  return {
    matches(path: string): boolean {
      const result = run(program, path.toLowerCase());
      steps = result.steps;
      return result.matched;
    },
    get steps() {
      return steps;
    },
  };
}

/** A parameter's name: path-to-regexp's (letters, digits, `_`, `$`, or quoted) and find-my-way's. */
const NAME = String.raw`(?:"[^"]*"|[$\w]+)`;
/** Route syntax: `{*splat}`, `*splat` / `*`, `:param`, `:param(regex)`, `:param?`, `(.*)`, `\x` (a literal x), `{`, `}`. */
const TOKENS = new RegExp(String.raw`(\{\*[^}]*\}|\*[$\w]*|:${NAME}(?:\([^)]*\))?\??|\(\.\*\)|\\.|\{|\})`);
/** `/:param?`: the parameter and the slash before it are optional together (Express 4, Fastify). */
const OPTIONAL_SEGMENT = new RegExp(String.raw`\/(:${NAME}(?:\([^)]*\))?)\?(?=\/|$)`, 'g');

function compile(pattern: string): Instruction[] | undefined {
  const program: Instruction[] = [];
  const openGroups: number[] = []; // where each open `{` put its split
  const parts = pattern.replace(OPTIONAL_SEGMENT, '{/$1}').split(TOKENS);
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index];
    if (index % 2 === 0) {
      for (const character of part.toLowerCase()) program.push({ op: 'char', code: character.codePointAt(0)! });
    } else if (part.startsWith('\\')) {
      program.push({ op: 'char', code: part.toLowerCase().codePointAt(1)! }); // an escaped character: itself
    } else if (part === '{') {
      openGroups.push(program.length);
      program.push({ op: 'split', to: [program.length + 1, -1] }); // its second branch is set at `}`
    } else if (part === '}') {
      const split = openGroups.pop();
      if (split === undefined) return undefined;
      (program[split] as { to: [number, number] }).to[1] = program.length;
    } else if (part.startsWith(':') && !part.endsWith('?')) {
      // One or more characters of a segment.
      program.push({ op: 'segment' }, { op: 'split', to: [program.length, program.length + 2] });
    } else {
      // Zero or more: an optional parameter within a segment, a wildcard across segments.
      const loop = program.length;
      program.push({ op: 'split', to: [loop + 1, loop + 3] }, part.startsWith(':') ? { op: 'segment' } : { op: 'any' }, { op: 'jump', to: loop });
    }
  }
  if (openGroups.length > 0) return undefined;
  // A trailing slash, optional.
  program.push({ op: 'split', to: [program.length + 1, program.length + 2] }, { op: 'char', code: 0x2f }, { op: 'match' });
  return program;
}

/** Runs every alternative in step over the path (Pike VM): each instruction is entered at most once per position. */
function run(program: readonly Instruction[], path: string): { matched: boolean; steps: number } {
  const seenAt = new Int32Array(program.length).fill(-1);
  let steps = 0;
  let current: number[] = [];
  let next: number[] = [];
  const add = (list: number[], pc: number, position: number): void => {
    // Epsilon moves followed with a stack, so that a long program cannot overflow the call stack.
    const pending = [pc];
    while (pending.length > 0) {
      const at = pending.pop()!;
      if (seenAt[at] === position) continue;
      seenAt[at] = position;
      steps++;
      const instruction = program[at];
      if (instruction.op === 'split') pending.push(instruction.to[1], instruction.to[0]);
      else if (instruction.op === 'jump') pending.push(instruction.to);
      else list.push(at);
    }
  };
  add(current, 0, 0);
  let position = 0;
  for (const character of path) {
    const code = character.codePointAt(0)!;
    position++;
    next.length = 0;
    for (const pc of current) {
      const instruction = program[pc];
      const consumed = instruction.op === 'any' || (instruction.op === 'segment' && code !== 0x2f) || (instruction.op === 'char' && instruction.code === code);
      if (consumed) add(next, pc + 1, position);
    }
    [current, next] = [next, current];
    if (current.length === 0) return { matched: false, steps };
  }
  return { matched: current.some((pc) => program[pc].op === 'match'), steps };
}
