import { isDaprHealthProbe } from './health-probe.js';

describe('isDaprHealthProbe: the one place the library reads a URL', () => {
  it.each([
    ['GET', '/healthz'],
    ['HEAD', '/healthz'],
    ['GET', '/healthz?'],
    ['GET', '/healthz?a=1&b=/healthz'],
  ])('%s %s is the probe', (method, url) => {
    expect(isDaprHealthProbe(method, url, '/healthz')).toBe(true);
  });

  it.each([
    ['POST', '/healthz'],
    ['get', '/healthz'],
    ['OPTIONS', '/healthz'],
    [undefined, '/healthz'],
    ['GET', undefined],
    ['GET', ''],
    ['GET', '/healthz/'],
    ['GET', '/HEALTHZ'],
    ['GET', '/healthz%2F'],
    ['GET', '/%68ealthz'],
    ['GET', '//healthz'],
    ['GET', '/healthz/..'],
    ['GET', '/x/../healthz'],
    ['GET', '/healthz#x'],
    ['GET', '/healthz;x'],
    ['GET', '/healthzz'],
    ['GET', '/health'],
    ['GET', '/health?z'],
    ['GET', 'http://127.0.0.1/healthz'],
    ['GET', '?/healthz'],
  ])('%s %s is not: it needs the token', (method, url) => {
    expect(isDaprHealthProbe(method, url, '/healthz')).toBe(false);
  });

  it('compares the path part with the configured path, itself taken as written', () => {
    expect(isDaprHealthProbe('GET', '/api/health/live?x', '/api/health/live')).toBe(true);
    expect(isDaprHealthProbe('GET', '/api/health', '/api/health/live')).toBe(false);
    // A configured path with a query can never be the path part of a URL: nothing is exempt.
    expect(isDaprHealthProbe('GET', '/a?b', '/a?b')).toBe(false);
  });
});
