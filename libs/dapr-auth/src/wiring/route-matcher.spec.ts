import { compileRoute } from './route-matcher.js';

describe('compileRoute (subscription paths against the routes Nest serves)', () => {
  it.each([
    ['/orders', '/orders', true],
    ['/orders', '/Orders/', true],
    ['/orders', '/orders/42', false],
    ['/orders/:id', '/orders/42', true],
    ['/orders/:id', '/orders/', false],
    ['/orders/:id', '/orders/4/2', false],
    ['/orders/:id?', '/orders/', true],
    ['/orders/:id(^\\d+)', '/orders/42', true],
    ['/reports/:y.:m.:d', '/reports/2026.12.03', true],
    ['/reports/:y.:m.:d', '/reports/2026-12-03', false],
    ['/files/*', '/files/a/b/c', true],
    ['/files/{*rest}', '/files/a/b', true],
    ['/files/*rest', '/files/a/b', true],
    ['/files(.*)', '/files/a', true],
    ['/orders{/:id}', '/orders', true],
    ['/orders{/:id}', '/orders/42', true],
    ['/orders{/:id}', '/orders/4/2', false],
    ['/a.b+c$', '/a.b+c$', true], // regular-expression characters are literals
    ['/a.b', '/axb', false],
    ['/événements', '/ÉVÉNEMENTS', true],
    ['/ev2\\:publish', '/ev2:publish', true], // an escaped colon is a literal
    ['/ev2\\:publish', '/ev2x', false],
    ['/ev3/:$id', '/ev3/x', true],
    ['/ev3/:"quoted name"', '/ev3/x', true],
    ['/ev1/:id?', '/ev1', true], // the slash goes with the optional parameter
    ['/ev1/:id?', '/ev1/7', true],
    ['/ev1/:id?/x', '/ev1/x', true],
  ])('%s against %s: %s', (pattern, path, expected) => {
    expect(compileRoute(pattern).matches(path)).toBe(expected);
  });

  it('a pattern it cannot read (an unbalanced group) matches everything: it errs towards matching', () => {
    expect(compileRoute('/orders{/:id').matches('/anything')).toBe(true);
    expect(compileRoute('/orders}').matches('/anything')).toBe(true);
  });

  // A backtracking regular expression took 0.4 s on one 1,000-character path against the first
  // pattern and did not finish 20 paths of 4,000 in ten minutes (third outside review).
  it.each([
    ['/x/:a.:b.:c', `/x/${'a.'.repeat(2045)}/q`],
    ['/reports/:y.:m.:d.:h.:s', `/reports/${'1.'.repeat(2040)}/q`],
    ['/{*a}/x/{*b}/y/{*c}/z', `/${'/x/y'.repeat(818)}/q`],
    ['/*a/*b/*c/*d', `/${'x'.repeat(4092)}//`],
  ])('does work linear in the path on a hostile path (about 4,096 characters, no match) against %s', (pattern, path) => {
    const matcher = compileRoute(pattern);
    expect(matcher.matches(path)).toBe(false);
    // Each instruction is entered at most once per position: (length + 1) x program length, where
    // the program has at most three instructions per character of the pattern, and three more.
    expect(matcher.steps).toBeGreaterThan(path.length);
    expect(matcher.steps).toBeLessThanOrEqual((path.length + 1) * (pattern.length * 3 + 3));
  });
});
