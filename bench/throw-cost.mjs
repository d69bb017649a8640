// What a throw costs by how much optimised code comes before it in the function that throws:
// `node bench/throw-cost.mjs`. Each guard runs `lines` statements of arithmetic, then throws a
// ready-made Error; each task calls it from code of its own inside a try (as bench/micro.ts does).
// bench/history.md ("What a throw costs") has the numbers and what they explain.
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
const task = (target, context) =>
  new Function('guard', 'context', `return function task${made++}() { try { return guard.canActivate(context); } catch { return false; } };`)(target, context);

const guards = {
  'no statements': guard(0, false),
  '20 statements, then the throw': guard(20, false),
  '80 statements, then the throw': guard(80, false),
  '80 statements, the throw first': guard(80, true),
  '200 statements, then the throw': guard(200, false),
};
const tasks = Object.entries(guards).map(([name, target]) => {
  const passing = task(target, pass);
  const failing = task(target, fail);
  for (let i = 0; i < 30_000; i++) (i % 2 === 0 ? passing : failing)(); // returns too: V8 optimises it
  return [name, failing];
});
const perRound = tasks.map(() => []);
for (let round = 0; round < 300; round++) {
  for (let k = 0; k < tasks.length; k++) {
    const index = (k + round) % tasks.length;
    const start = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) tasks[index][1]();
    perRound[index].push(Number(process.hrtime.bigint() - start) / 500);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const [i, [name]] of tasks.entries()) console.log(`${median(perRound[i]).toFixed(0).padStart(5)} ns  ${name}`);
