// passport-headerapikey ships no types (and @types/passport-headerapikey does not exist).
declare module 'passport-headerapikey' {
  export class HeaderAPIKeyStrategy {
    constructor(header: { header: string; prefix: string }, passReqToCallback: boolean, verify?: (...args: unknown[]) => void);
    authenticate(request: unknown, options?: unknown): void;
  }
}
