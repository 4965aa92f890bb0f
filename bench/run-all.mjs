// The benchmark suite: one fresh server, the raw-SQLite limit probe, then `avtrace bench` runs
// for traces (max rate, half rate for latency, 100k spans/s for memory), gzip, metrics and logs.
// Usage: node bench/run-all.mjs [--seconds 20] [--bin build/avtrace]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const seconds = Number(opt('seconds', '20'));
const bin = opt('bin', 'build/avtrace');
const limitBin = opt('limit-bin', bin.replace(/avtrace$/, 'bench/sqlite/sqlite_limit'));

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'avtrace-bench-'));
  const child = spawn(bin, ['serve', '--data-dir', dir, '--otlp-http-listen', '127.0.0.1:0',
    '--http-listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    if (existsSync(join(dir, 'ports.json'))) {
      const ports = JSON.parse(readFileSync(join(dir, 'ports.json'), 'utf8'));
      return { child, dir, ports };
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

async function stopServer(s) {
  s.child.kill('SIGTERM');
  await new Promise((r) => s.child.once('exit', r));
  rmSync(s.dir, { recursive: true, force: true });
}

function bench(server, kind, extra = []) {
  const out = join(server.dir, `bench-${Date.now()}.json`);
  const a = ['bench', kind, '--url', `http://${server.ports.otlp_http}`, '--server-pid',
    String(server.child.pid), '--json', out, ...extra];
  console.error(`$ avtrace ${a.join(' ')}`);
  const r = spawnSync(bin, a, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench ${kind} failed`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

// The limit: raw SQLite inserts of the same span rows the store writes (bench/sqlite), one thread.
function sqliteLimit() {
  if (!existsSync(limitBin)) return null;
  console.error(`$ ${limitBin}`);
  const r = spawnSync(limitBin, [], { encoding: 'utf8' });
  if (r.status !== 0) { console.error(r.stderr); return null; }
  console.error(r.stdout.trim());
  const m = /([\d.]+) rows\/s wall, ([\d.]+) rows\/CPU-s/.exec(r.stdout);
  return m ? { rows_per_second: Number(m[1]), rows_per_cpu_second: Number(m[2]) } : null;
}

const results = { date: new Date().toISOString(), seconds };
results.sqlite_limit = sqliteLimit();

let server = await startServer();
try {
  results.traces_max = bench(server, 'otlp-traces', ['--concurrency', '4', '--duration', `${seconds}s`]);
  const half = results.traces_max.items_per_second / 2 / 100;
  results.traces_half = bench(server, 'otlp-traces', ['--concurrency', '4', '--duration', `${seconds}s`, '--rate', String(Math.max(1, Math.round(half)))]);
} finally { await stopServer(server); }

server = await startServer();
try {
  results.traces_100k = bench(server, 'otlp-traces', ['--concurrency', '4', '--duration', `${seconds}s`, '--rate', '1000']);
  results.traces_gzip = bench(server, 'otlp-traces', ['--concurrency', '4', '--duration', `${seconds}s`, '--gzip']);
  results.metrics_max = bench(server, 'otlp-metrics', ['--concurrency', '4', '--duration', `${seconds}s`]);
  results.logs_max = bench(server, 'otlp-logs', ['--concurrency', '4', '--duration', `${seconds}s`]);
} finally { await stopServer(server); }

const t = results.traces_max;
const lim = results.sqlite_limit;
const summary = [
  ['spans per server CPU-second (target >= 300k)', Math.round(t.items_per_server_cpu_second)],
  ['accepted spans/s at max', Math.round(t.items_per_second)],
  ['raw SQLite limit, rows per CPU-second (same machine, same run)', lim ? Math.round(lim.rows_per_cpu_second) : 'n/a'],
  ['raw SQLite limit, rows/s wall', lim ? Math.round(lim.rows_per_second) : 'n/a'],
  ['ratio, spans per server CPU-s / limit rows per CPU-s (target >= 0.5)', lim ? (t.items_per_server_cpu_second / lim.rows_per_cpu_second).toFixed(2) : 'n/a'],
  ['ratio, accepted spans/s / limit rows/s wall', lim ? (t.items_per_second / lim.rows_per_second).toFixed(2) : 'n/a'],
  ['ack p99 at half the max rate, ms (target <= 20)', results.traces_half.p99_ms.toFixed(2)],
  ['server peak RSS at ~100k spans/s, MB (target <= 150)', (results.traces_100k.server_peak_rss_bytes / 1e6).toFixed(1)],
  ['gzip: spans per server CPU-second', Math.round(results.traces_gzip.items_per_server_cpu_second)],
  ['metric points per server CPU-second', Math.round(results.metrics_max.items_per_server_cpu_second)],
  ['log records per server CPU-second', Math.round(results.logs_max.items_per_server_cpu_second)],
];
console.log('\n| measure | value |\n|---|---|');
for (const [k, v] of summary) console.log(`| ${k} | ${v} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(join('bench/results', `${results.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
