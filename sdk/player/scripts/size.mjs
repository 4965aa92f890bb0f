// Size budget: the IIFE bundle (no player libraries inside) must stay at or under 15 KiB gzip.
// Exits 1 when over budget or when the bundle pulls in hls.js or dashjs.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET = 15 * 1024;
const file = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/avtrace-player.iife.js');
const src = readFileSync(file);
const gz = gzipSync(src, { level: 9 }).length;
console.log(`avtrace-player.iife.js: ${src.length} B raw, ${gz} B gzip (${(gz / 1024).toFixed(2)} KiB), budget ${BUDGET} B`);
const text = src.toString('utf8');
if (/hls\.js is|Dash-Industry-Forum|MediaPlayerFactory/.test(text)) {
  console.error('size: the bundle contains a player library');
  process.exit(1);
}
if (gz > BUDGET) {
  console.error(`size: over budget by ${gz - BUDGET} B`);
  process.exit(1);
}
console.log('size: within budget');
