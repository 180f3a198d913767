#!/usr/bin/env node
// Runs Biome from its platform package. The npm registry this project installs from carries
// only Biome's Linux binaries, so `@biomejs/biome` (which lists every platform as an optional
// dependency) cannot be locked and `npm ci` fails; the Linux CLI packages are installed
// directly as optional dependencies instead.
const { spawnSync } = require('node:child_process');
const { join, dirname } = require('node:path');

const pkg = `@biomejs/cli-${process.platform}-${process.arch}`;
let binary;
try {
  binary = join(
    dirname(require.resolve(`${pkg}/package.json`)),
    process.platform === 'win32' ? 'biome.exe' : 'biome',
  );
} catch {
  console.error(
    `biome: ${pkg} is not installed. Only Linux (x64, arm64) binaries are available from this project's registry.`,
  );
  process.exit(2);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: 'inherit' });
process.exit(result.status ?? 1);
