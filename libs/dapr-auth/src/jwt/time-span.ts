/**
 * jose's time spans, read exactly as jose reads them (its `secs()` in lib/jwt_claims_set.js):
 * `'30s'`, `'5 minutes'`, `'1.5h'`, `'2 days'`, `'1w'`, `'1 year'` (365.25 days), case-insensitive,
 * rounded to whole seconds. The ONE parser for `clockTolerance` and `maxTokenAge`: the options
 * check, the verified-token cache and the token tool all use it, and jose then gets the number.
 */
const SPAN = /^(\+|-)? ?(\d+|\d+\.\d+) ?(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)(?: (ago|from now))?$/i;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31557600 };

/**
 * Seconds of a duration given as jose takes it: a number of seconds, or a time-span string.
 * `undefined` for anything jose would refuse, and for negative spans (`'-5s'`, `'5s ago'`), which
 * jose refuses for both options at verification time.
 */
export function timeSpanSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SPAN.exec(value);
  if (!match || (match[4] && match[1])) return undefined;
  const seconds = Math.round(parseFloat(match[2]) * UNIT_SECONDS[match[3][0].toLowerCase()]);
  if (!Number.isFinite(seconds) || match[1] === '-' || match[4]?.toLowerCase() === 'ago') return seconds === 0 ? 0 : undefined;
  return seconds;
}
