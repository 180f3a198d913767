// A small jest transform: esbuild strips the types (tsc checks them separately in
// `npm run typecheck`), which keeps the suite fast and avoids ts-jest's TS-version pin.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: filename.endsWith('.tsx') ? 'tsx' : /\.m?js$/.test(filename) ? 'js' : 'ts',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: filename,
    });
    return { code, map };
  },
};
