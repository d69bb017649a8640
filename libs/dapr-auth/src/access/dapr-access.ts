/** The value `@DaprPublic()` / `@DaprProtected()` store; the one nearest the handler wins. */
export type DaprAccess = 'public' | 'protected';
