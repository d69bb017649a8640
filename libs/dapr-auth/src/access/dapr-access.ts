/**
 * The value `@DaprPublic()` / `@DaprProtected()` / `@DaprOrAppGuard()` store; the one nearest the
 * handler wins. `'dapr-or-app-guard'`: a verified Dapr call, or else the app's own guard composed
 * with `daprOr()`, decides (docs/beside-user-auth.md).
 */
export type DaprAccess = 'public' | 'protected' | 'dapr-or-app-guard';
