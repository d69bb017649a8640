// ESLint (flat config) with typescript-eslint: type-aware rules for the library, where a
// floating promise or an unsafe `any` is a bug users inherit; the recommended rules elsewhere.
// Formatting is Prettier's job (`npm run format`), so no stylistic rules here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'bench/dist/**', 'coverage/**', '.doc-snippets/**', 'libs/*/.build-cjs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed parameters are the documented way to say "unused on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['libs/dapr-auth/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      // grpc-js clients built from .proto files at run time have no static types: tests call them through `any`.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
