/** Type-checking is `tsc --noEmit` in `npm test`; with isolatedModules in tsconfig.json ts-jest only transpiles. */
module.exports = {
  testEnvironment: 'node',
  // Both cores: jest's default of cores minus one leaves one idle on the 2-core machines this runs on.
  maxWorkers: 2,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.cjs'],
};
