// Times the npm HLS/DASH parsers on the files analyzer_bench generates, in the same run, and
// prints one table with avtrace's medians and the ratios.
//
//   node bench/analyzer/compare.mjs [path/to/analyzer_bench]
//     (default: $AVTRACE_ANALYZER_BENCH, else build/bench/analyzer/analyzer_bench)
//
// avtrace is timed on parse + every rule (AnalyzeBytes); the npm parsers only parse: their
// numbers are a lower bound of what a validator built on them would cost.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Parser as M3u8Parser } from 'm3u8-parser';
import HLS from 'hls-parser';
import { parse as parseMpd } from 'mpd-parser';

const here = dirname(fileURLToPath(import.meta.url));
const bench = process.argv[2] ?? process.env.AVTRACE_ANALYZER_BENCH ??
  join(here, '..', '..', 'build', 'bench', 'analyzer', 'analyzer_bench');
const dataDir = join(here, 'data');
const avtrace = JSON.parse(execFileSync(bench, ['--json', '--data', dataDir], { encoding: 'utf8' }));

function median(fn, iterations) {
  const warm = Math.max(3, Math.floor(iterations / 10));
  for (let i = 0; i < warm; i++) fn();
  const t = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const parsers = {
  'm3u8-parser': (text) => {
    const p = new M3u8Parser();
    p.push(text);
    p.end();
    return p.manifest;
  },
  'hls-parser': (text) => HLS.parse(text),
  'mpd-parser': (text) => parseMpd(text, { manifestUri: 'https://cdn.example.com/live.mpd' }),
};
const forCase = {
  media_1000: ['m3u8-parser', 'hls-parser'],
  master_50: ['m3u8-parser', 'hls-parser'],
  live_mpd: ['mpd-parser'],
};

const rows = [];
for (const c of avtrace.cases) {
  const text = readFileSync(join(avtrace.dir, c.file), 'utf8');
  rows.push([c.name, 'avtrace (parse + all rules)', c.median_ms, '1.0x']);
  for (const name of forCase[c.name] ?? []) {
    const ms = median(() => parsers[name](text), c.iterations);
    rows.push([c.name, `${name} (parse only)`, ms, `${(ms / c.median_ms).toFixed(1)}x slower`]);
  }
}
const header = ['case', 'implementation', 'median ms', 'vs avtrace'];
console.log(`node ${process.version}, analyzer_bench ${bench}`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const [c, impl, ms, ratio] of rows)
  console.log(`| ${c} | ${impl} | ${ms.toFixed(4)} | ${ratio} |`);
