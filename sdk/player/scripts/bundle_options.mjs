// esbuild options shared by scripts/build.mjs and the bundle smoke test.
export const common = {
  bundle: true,
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
};
export const iife = { ...common, entryPoints: ['src/iife.ts'], format: 'iife', globalName: 'AvtracePlayer', minify: true };
export const esm = { ...common, entryPoints: ['src/index.ts'], format: 'esm' };
