import type { Logger } from '@nestjs/common';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';

/** The variable daprd reads to require a token on its own API, and that the app then has too. */
export const DAPR_API_TOKEN_ENV_VAR = 'DAPR_API_TOKEN';

const RISK =
  "trust the caller app id daprd forwards (dapr-caller-app-id), which anything that reaches this app's own daprd API can forge: " +
  'it invokes the app through that daprd (self-invocation), adds its own dapr-caller-app-id, and daprd (v1.18.3 and earlier) ' +
  'forwards it alone, with the valid app token. Only a daprd whose API requires DAPR_API_TOKEN keeps such clients out';

/**
 * The start-up rule for caller rules: they are only as good as the daprd API they come through, so
 * an app with a caller rule starts only if `DAPR_API_TOKEN` is set in its environment (on
 * Kubernetes from the Secret named by `dapr.io/api-token-secret`, which the injector gives to daprd
 * only; `dapr run` passes it to both), or with `allowForgeableCallers` (warned at every start). Where the app knows its daprd
 * (`DAPR_HTTP_PORT`), whether daprd really requires the token is checked after start, in the background, and the rules
 * refuse every call until it is proven (sidecar-api-check.ts).
 *
 * @param ruleSites where the rules are, for the message (`option callers`, `POST /orders/:id/cancel`...)
 * @throws DaprAuthConfigError naming the fix, when neither holds.
 */
export function checkCallerTrust(ruleSites: readonly string[], allowForgeableCallers: boolean, env: NodeJS.ProcessEnv, logger: Logger): void {
  if (ruleSites.length === 0 || (env[DAPR_API_TOKEN_ENV_VAR] ?? '') !== '') return;
  const where = `${ruleSites.slice(0, 5).join(', ')}${ruleSites.length > 5 ? ` and ${ruleSites.length - 5} more` : ''}`;
  if (allowForgeableCallers) {
    logger.warn(
      `allowForgeableCallers is on: the caller rules (${where}) ${RISK}, and ${DAPR_API_TOKEN_ENV_VAR} is not set here. ` +
        'Any client of that daprd API can pass for an allowed app.',
    );
    return;
  }
  throw new DaprAuthConfigError(
    `caller rules (${where}) ${RISK}; ${DAPR_API_TOKEN_ENV_VAR} is not set in this app's environment. Fix: on Kubernetes, annotate the ` +
      'pod with dapr.io/api-token-secret: <Secret name> (daprd then requires it) and give the app container DAPR_API_TOKEN from the ' +
      "same Secret's key `token` (the injector gives it to daprd only); self-hosted, start with DAPR_API_TOKEN=<token> dapr run ... " +
      '(dapr run passes it to daprd and the app). To start anyway, accepting forgeable caller ids (local development): ' +
      'allowForgeableCallers: true.',
  );
}
