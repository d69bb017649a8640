/**
 * Tokens that must never appear in any output. Tests register every configured and presented
 * token; `test/setup/no-token-leaks.ts` fails the test that printed one (or a long part of one).
 */
const registry: Set<string> = ((globalThis as Record<string, unknown>).__daprAuthSecrets ??= new Set<string>()) as Set<string>;

export function registerSecret(...tokens: string[]): void {
  for (const token of tokens) registry.add(token);
}

/** Shortest slice of a secret that counts as a leak. */
export const LEAK_SLICE_LENGTH = 8;

/** The first secret (or 8-character slice of one) found in `text`, if any. */
export function findLeak(text: string): string | undefined {
  for (const secret of registry) {
    if (secret.length < LEAK_SLICE_LENGTH) {
      if (text.includes(secret)) return secret;
      continue;
    }
    for (let i = 0; i + LEAK_SLICE_LENGTH <= secret.length; i++) {
      if (text.includes(secret.slice(i, i + LEAK_SLICE_LENGTH))) return secret;
    }
  }
  return undefined;
}

const lines: string[] = ((globalThis as Record<string, unknown>).__daprAuthOutput ??= []) as string[];

/** The live buffer of what the current test printed (filled by the leak-check setup). */
export function capturedLines(): string[] {
  return lines;
}

/** Everything printed since the current test started, for tests that assert on logs. */
export function capturedOutput(): string {
  return lines.join('');
}
