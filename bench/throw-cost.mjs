// What a throw costs by how much optimised code comes before it in the function that throws, and
// when that code is a call of its own: `node bench/throw-cost.mjs`. Each guard runs `lines`
// statements of arithmetic, then throws a ready-made Error; each task calls it from code of its own
// inside a try (as bench/micro.ts does). bench/history.md ("What a throw costs", "Session 5") has
// the numbers and what they explain.
const ready = new Error('refused');
const pass = { v: 1 };
const fail = { v: 2 };
const statements = (lines) => Array.from({ length: lines }, (_, i) => `acc = (acc * 31 + context.v + ${i}) | 0;`).join('\n');
const guard = (lines, throwFirst) =>
  new Function(
    'ready',
    'pass',
    `return { canActivate(context) {
      let acc = 0;
      ${throwFirst ? 'if (context !== pass) throw ready;' : ''}
      ${statements(lines)}
      if (acc === 12345) return false;
      if (context === pass) return true;
      throw ready;
    } };`,
  )(ready, pass);
let made = 0;
// The same statements in a `decide()` of their own (too large for V8 to inline: over 460 bytes of
// bytecode), and a three-line shell that throws what it returns: the throw starts in a small frame.
const shell = (lines) =>
  new Function(
    'ready',
    'pass',
    `function decide${made++}(context) {
      let acc = 0;
      ${statements(lines)}
      if (acc === 12345) return ready;
      return context === pass ? undefined : ready;
    }
    return { decide: decide${made - 1}, canActivate(context) { const verdict = this.decide(context); if (verdict === undefined) return true; throw verdict; } };`,
  )(ready, pass);
const task = (target, context) =>
  new Function('guard', 'context', `return function task${made++}() { try { return guard.canActivate(context); } catch { return false; } };`)(target, context);

const guards = {
  'no statements': guard(0, false),
  '20 statements, then the throw': guard(20, false),
  '80 statements, then the throw': guard(80, false),
  '80 statements, the throw first': guard(80, true),
  '200 statements, then the throw': guard(200, false),
  '200 statements in a decide() of their own, the throw in a shell': shell(200),
};
const tasks = Object.entries(guards).map(([name, target]) => {
  const passing = task(target, pass);
  const failing = task(target, fail);
  for (let i = 0; i < 30_000; i++) (i % 2 === 0 ? passing : failing)(); // returns too: V8 optimises it
  const accepted = task(target, pass);
  for (let i = 0; i < 30_000; i++) accepted();
  return [name, failing, accepted];
});
const perRound = tasks.map(() => [[], []]);
for (let round = 0; round < 300; round++) {
  for (let k = 0; k < tasks.length; k++) {
    const index = (k + round) % tasks.length;
    for (const path of [0, 1]) {
      const call = tasks[index][1 + path];
      const start = process.hrtime.bigint();
      for (let i = 0; i < 500; i++) call();
      perRound[index][path].push(Number(process.hrtime.bigint() - start) / 500);
    }
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log('  thrown   returned   the throw itself');
for (const [i, [name]] of tasks.entries()) {
  const [thrown, returned] = perRound[i].map(median);
  console.log(`${thrown.toFixed(0).padStart(5)} ns ${returned.toFixed(0).padStart(7)} ns ${(thrown - returned).toFixed(0).padStart(8)} ns   ${name}`);
}
