// Builds dist/: ESM (dist/index.js), the IIFE global `AvtracePlayer`
// (dist/avtrace-player.iife.js, minified) and type declarations (dist/types). No player library is
// bundled: the adapters use structural types only.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esm, iife } from './bundle_options.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
rmSync('dist', { recursive: true, force: true });

await build({ ...esm, sourcemap: true, outfile: 'dist/index.js' });
await build({ ...iife, sourcemap: true, outfile: 'dist/avtrace-player.iife.js' });
execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
console.log('built dist/index.js, dist/avtrace-player.iife.js, dist/types/');
