// A real Prometheus (Debian 2.42, /usr/bin/prometheus) scrapes avtrace's /metrics every second.
// After some spans are sent, Prometheus must report up{job="avtrace"} == 1 and a positive
// avtrace_otlp_http_accepted_total. On failure the target's lastError is in the message.
//
// Run: node --test test/integration/prometheus.test.mjs   (PROMETHEUS_BIN overrides the binary)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';

import {
  encodeTraceRequest,
  getJson,
  makeTempRoot,
  makeTrace,
  pollUntil,
  postOtlp,
  removeTempRoot,
  spawnTracked,
  startServer,
  stopChild,
} from './harness.mjs';

const PROMETHEUS = process.env.PROMETHEUS_BIN || '/usr/bin/prometheus';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

test('Prometheus 2.42 scrapes avtrace /metrics', { timeout: 90000, skip: !fs.existsSync(PROMETHEUS) && `${PROMETHEUS} missing` }, async (t) => {
  const server = await startServer({ config: { log: { level: 'warn' } } });
  const promRoot = makeTempRoot('avtrace-prom-');
  let prom;
  t.after(async () => {
    if (prom) await stopChild(prom, { signal: 'SIGTERM', timeoutMs: 15000 });
    await server.stop();
    removeTempRoot(promRoot);
    removeTempRoot(server.root);
  });

  // Some traffic first, so the counter is non-zero whenever the first scrape happens.
  for (let i = 0; i < 5; i++) {
    const tr = makeTrace({ service: 'it-prom', n: 4 });
    const res = await postOtlp(server.otlp, 'traces', encodeTraceRequest(tr.req));
    assert.equal(res.status, 200);
  }

  const target = server.ports.http;  // host:port
  const configPath = path.join(promRoot, 'prometheus.yml');
  fs.writeFileSync(configPath, [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: "avtrace"',
    '    scrape_interval: 1s',
    '    scrape_timeout: 1s',
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: ["${target}"]`,
    '',
  ].join('\n'));

  // Prometheus can only be given a fixed port; retry with a new one if it was taken meanwhile.
  let promUrl;
  for (let attempt = 0; attempt < 3 && !promUrl; attempt++) {
    const port = await freePort();
    prom = spawnTracked(PROMETHEUS, [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${path.join(promRoot, `data${attempt}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { logPath: path.join(promRoot, `prometheus-${attempt}.log`) });
    try {
      await pollUntil(async () => {
        if (prom.exitStatus) {
          throw Object.assign(new Error(`prometheus exited: ${JSON.stringify(prom.exitStatus)}\n${prom.logTail()}`), { fatal: true });
        }
        const r = await getJson(`http://127.0.0.1:${port}/-/ready`, { timeoutMs: 1000 });
        return r.status === 200;
      }, { timeoutMs: 20000, intervalMs: 50, what: 'prometheus /-/ready' });
      promUrl = `http://127.0.0.1:${port}`;
    } catch (err) {
      if (!/address already in use/.test(prom.logTail()) || attempt === 2) throw err;
      await stopChild(prom, { signal: 'SIGKILL' });
    }
  }

  const query = async (expr) => {
    const r = await getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { timeoutMs: 3000 });
    if (r.status !== 200 || r.body?.status !== 'success') throw new Error(`query ${expr}: ${r.status} ${r.raw.slice(0, 300)}`);
    return r.body.data.result;
  };
  const targetError = async () => {
    try {
      const r = await getJson(`${promUrl}/api/v1/targets`, { timeoutMs: 3000 });
      return JSON.stringify((r.body?.data?.activeTargets ?? []).map((x) => ({ health: x.health, lastError: x.lastError, scrapeUrl: x.scrapeUrl })));
    } catch (err) {
      return err.message;
    }
  };

  try {
    await pollUntil(async () => {
      const up = await query('up{job="avtrace"}');
      return up.length === 1 && up[0].value[1] === '1';
    }, { timeoutMs: 30000, intervalMs: 250, what: 'up{job="avtrace"} == 1' });
    const accepted = await pollUntil(async () => {
      const res = await query('sum(avtrace_otlp_http_accepted_total)');
      const v = res.length ? Number(res[0].value[1]) : 0;
      return v > 0 ? v : null;
    }, { timeoutMs: 30000, intervalMs: 250, what: 'avtrace_otlp_http_accepted_total > 0' });
    t.diagnostic(`prometheus sees avtrace_otlp_http_accepted_total = ${accepted}`);
    const series = await query('avtrace_otlp_http_accepted_total');
    assert.ok(series.length >= 1);
    for (const s of series) assert.equal(s.metric.job, 'avtrace');
    // Exactly the 5 x 4 spans sent above, under the signal label.
    const traces = await query('avtrace_otlp_http_accepted_total{signal="traces"}');
    assert.equal(traces.length, 1);
    assert.equal(Number(traces[0].value[1]), 20);
    // Histograms parsed as histograms: histogram_quantile over the buckets gives a number.
    const commitP50 = await query('histogram_quantile(0.5, avtrace_store_commit_seconds_bucket{job="avtrace"})');
    assert.equal(commitP50.length, 1, 'avtrace_store_commit_seconds buckets usable by histogram_quantile');
    assert.ok(Number.isFinite(Number(commitP50[0].value[1])), `commit p50 ${commitP50[0].value[1]}`);
    const scraped = await query('scrape_samples_scraped{job="avtrace"}');
    assert.ok(Number(scraped[0].value[1]) > 10, `samples per scrape: ${scraped[0].value[1]}`);
  } catch (err) {
    err.message += `\nprometheus targets: ${await targetError()}\nprometheus log: ${prom.logTail().slice(-2000)}`;
    throw err;
  }

  const st = await stopChild(prom, { signal: 'SIGTERM', timeoutMs: 15000 });
  prom = null;
  assert.equal(st.escalated, false, 'prometheus stopped on SIGTERM');
});
