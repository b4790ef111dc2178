/** Type-checking is `tsc --noEmit` in `npm test`; with isolatedModules in tsconfig.json ts-jest only transpiles. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.cjs'],
};
