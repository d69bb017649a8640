import base from './jest.config.js';

/**
 * `npm run test:dapr`: the example app behind a real daprd (test/dapr). Builds daprd first when
 * it is not cached yet (scripts/dapr/install-daprd.mjs), which can take a few minutes once.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  roots: ['<rootDir>/test/dapr'],
  testMatch: ['**/*.dapr-spec.ts'],
  globalSetup: '<rootDir>/test/dapr/build-daprd.global-setup.mjs',
  testTimeout: 60000,
  // One daprd pair at a time: 2 cores, and each daprd takes a moment to start.
  maxWorkers: 1,
};
