/**
 * daprd's token-less health probe: a `GET` / `HEAD` whose path (before `?`) is exactly
 * `healthCheckPath`, nothing decoded. The one URL the library reads: without Nest there is no
 * handler to decide on at start-up (docs/dapr-server.md). Variants need the token: fail closed.
 */
export function isDaprHealthProbe(method: string | undefined, url: string | undefined, healthCheckPath: string): boolean {
  if ((method !== 'GET' && method !== 'HEAD') || typeof url !== 'string') return false;
  const query = url.indexOf('?');
  return query === -1 ? url === healthCheckPath : query === healthCheckPath.length && url.startsWith(healthCheckPath);
}
