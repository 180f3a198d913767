/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/support/node-environment.cjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(tsx?|m?js)$': '<rootDir>/test/support/esbuild-transform.cjs' },
  // Middy 6 ships ES modules only; everything else in node_modules is CommonJS already.
  transformIgnorePatterns: ['/node_modules/(?!@middy/|cockatiel/)'],
  moduleNameMapper: {
    '^#domain/(.*)$': '<rootDir>/functions/shared/domain/$1',
    '^#adapters/(.*)$': '<rootDir>/functions/shared/adapters/$1',
    '^#shared/(.*)$': '<rootDir>/functions/shared/$1',
  },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json', 'node'],
  // Two cores here and in CI: keep the worker count honest.
  maxWorkers: 2,
  testTimeout: 30000,
};
