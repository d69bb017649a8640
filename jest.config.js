/** @type {import('jest').Config} */
export default {
  // Node's environment; what tests print is shown for failed tests only (TEST_LOGS=1: everything).
  testEnvironment: '<rootDir>/test/setup/quiet-environment.js',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/libs', '<rootDir>/test', '<rootDir>/src'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  moduleNameMapper: {
    // Tests exercise the library's sources; `npm pack` checks cover the built package.
    '^nestjs-dapr-auth$': '<rootDir>/libs/dapr-auth/src/index.ts',
    '^nestjs-dapr-auth/testing$': '<rootDir>/libs/dapr-auth/src/testing/index.ts',
    '^nestjs-dapr-auth/standalone$': '<rootDir>/libs/dapr-auth/src/standalone/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  setupFilesAfterEnv: ['<rootDir>/test/setup/no-token-leaks.ts'],
  testTimeout: 20000,
  collectCoverageFrom: ['libs/dapr-auth/src/**/*.ts'],
};
