// Overload: a small queue (pipeline.queue_max_items: 2000) offered far more than it can take from
// many concurrent connections. Expected: some 429s, each with an integer Retry-After >= 1; no
// other failure answers or dropped connections; server RSS bounded; /healthz and /api/v1/status
// answer throughout; every batch acknowledged with 200 is retrievable afterwards; a graceful stop
// exits 0.
//
// Run: node --test test/integration/overload.test.mjs

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import {
  decodeRpcStatus,
  getJson,
  mapLimit,
  postOtlp,
  removeTempRoot,
  request,
  sleep,
  spanIdsOf,
  startServer,
  traceBodyFactory,
} from './harness.mjs';

const FLOOD_MS = 3500;
const CONNECTIONS = 48;
const SPANS_PER_BATCH = 100;
const RSS_LIMIT_KB = 400 * 1024;
const PROBE_TIMEOUT_MS = 3000;

test('overload: 429 with Retry-After, bounded memory, responsive health, durable acks', { timeout: 115000 }, async (t) => {
  let server = await startServer({
    config: { pipeline: { queue_max_items: 2000 }, log: { level: 'warn' } },
  });
  t.after(async () => {
    if (server) {
      await server.kill9();
      removeTempRoot(server.root);
    }
  });

  const factory = traceBodyFactory({ service: 'it-overload', n: SPANS_PER_BATCH, attrCount: 6, name: 'flood' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const probeAgent = new http.Agent({ keepAlive: false });  // a fresh connection per probe
  const statuses = {};
  const netErrors = [];
  const badRetryAfter = [];
  const retryAfterValues = {};
  let first429;
  const acked = [];
  let rssPeakKb = 0;
  const probes = [];
  let flooding = true;
  const floodEnd = Date.now() + FLOOD_MS;

  const sender = async () => {
    while (Date.now() < floodEnd) {
      const batch = factory.make();
      let res;
      try {
        res = await postOtlp(server.otlp, 'traces', batch.body, { agent, timeoutMs: 20000 });
      } catch (err) {
        netErrors.push(err.code ?? err.message);
        continue;
      }
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 200) acked.push(batch);
      if (res.status === 429 || res.status === 503) {
        const ra = res.headers['retry-after'];
        retryAfterValues[ra] = (retryAfterValues[ra] ?? 0) + 1;
        if (res.status === 429) first429 ??= res;
        if (!(typeof ra === 'string' && /^\d+$/.test(ra) && Number(ra) >= 1)) badRetryAfter.push(`${res.status}: ${JSON.stringify(ra)}`);
      }
    }
  };

  const rssSampler = async () => {
    while (flooding) {
      const kb = server.rssKb();
      if (kb !== null) rssPeakKb = Math.max(rssPeakKb, kb);
      await sleep(50);
    }
  };

  const prober = async () => {
    while (flooding) {
      for (const path of ['/healthz', '/api/v1/status']) {
        const t0 = Date.now();
        try {
          const res = await request(`${server.http}${path}`, { agent: probeAgent, timeoutMs: PROBE_TIMEOUT_MS });
          probes.push({ path, status: res.status, ms: Date.now() - t0 });
        } catch (err) {
          probes.push({ path, status: err.code ?? err.message, ms: Date.now() - t0 });
        }
      }
      await sleep(100);
    }
  };

  const monitors = [rssSampler(), prober()];
  await Promise.all(Array.from({ length: CONNECTIONS }, sender));
  flooding = false;
  await Promise.all(monitors);
  agent.destroy();

  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  t.diagnostic(`answers ${JSON.stringify(statuses)} of ${total}; network errors ${netErrors.length}; ` +
    `Retry-After values ${JSON.stringify(retryAfterValues)}; RSS peak ${Math.round(rssPeakKb / 1024)} MB; probes ${probes.length}, slowest ${Math.max(...probes.map((p) => p.ms))} ms`);

  assert.ok(server.alive(), `server died under load:\n${server.logTail()}`);
  assert.ok((statuses[429] ?? 0) > 0, `some 429s expected, got ${JSON.stringify(statuses)}`);
  assert.ok((statuses[200] ?? 0) > 0, `some 200s expected, got ${JSON.stringify(statuses)}`);
  const others = Object.keys(statuses).filter((s) => !['200', '429'].includes(s));
  assert.deepEqual(others, [], `only 200 and 429 expected under overload: ${JSON.stringify(statuses)}`);
  // A protobuf request gets a protobuf google.rpc.Status: code 8 = RESOURCE_EXHAUSTED.
  assert.match(String(first429.headers['content-type']), /application\/x-protobuf/);
  const st429 = decodeRpcStatus(first429.body);
  assert.equal(st429.code, 8, `429 body: ${JSON.stringify(st429)}`);
  assert.ok(st429.message.length > 0, '429 body has a message');
  assert.deepEqual(badRetryAfter.slice(0, 5), [], `Retry-After must be integer seconds >= 1 (${badRetryAfter.length} bad)`);
  assert.deepEqual(netErrors.slice(0, 5), [], `connections failed under overload (${netErrors.length})`);
  assert.ok(rssPeakKb > 0 && rssPeakKb < RSS_LIMIT_KB, `RSS peak ${rssPeakKb} kB (limit ${RSS_LIMIT_KB} kB)`);
  const failedProbes = probes.filter((p) => p.status !== 200);
  assert.deepEqual(failedProbes.slice(0, 5), [], `health/status probes failed during the flood (${failedProbes.length} of ${probes.length})`);
  for (const path of ['/healthz', '/api/v1/status']) {
    assert.ok(probes.filter((p) => p.path === path).length >= 3, `${path} probed during the flood`);
  }

  // The status endpoint is JSON.
  const status = await getJson(`${server.http}/api/v1/status`);
  assert.equal(status.status, 200);
  assert.ok(status.body && typeof status.body === 'object', `JSON from /api/v1/status: ${status.raw.slice(0, 200)}`);

  // Once the flood is over the queue drains and a new request is accepted.
  const fresh = factory.make();
  let accepted = false;
  for (let attempt = 0; attempt < 50 && !accepted; attempt++) {
    const res = await postOtlp(server.otlp, 'traces', fresh.body);
    if (res.status === 200) accepted = true;
    else await sleep(100);
  }
  assert.ok(accepted, 'a request after the flood is accepted');
  acked.push(fresh);

  // Every acknowledged batch is complete.
  const problems = [];
  await mapLimit(acked, 8, async (batch) => {
    const res = await getJson(`${server.http}/api/v1/traces/${batch.traceId}`);
    if (res.status !== 200) {
      problems.push(`${batch.traceId}: ${res.status}`);
      return;
    }
    const ids = new Set(spanIdsOf(res.body.resourceSpans));
    const missing = batch.spanIds.filter((id) => !ids.has(id)).length;
    if (missing || ids.size !== batch.spanIds.length) problems.push(`${batch.traceId}: ${ids.size} spans, ${missing} missing`);
  });
  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} of ${acked.length} acknowledged batches incomplete`);

  const { root } = server;
  const st = await server.stop();
  const tail = server.logTail();
  server = null;
  removeTempRoot(root);
  assert.equal(st.code, 0, `graceful stop after overload: ${JSON.stringify(st)}\n${tail}`);
});

// Slow uploads: clients that announce large bodies and trickle them hold memory while they are
// read. The global body budget (otlp_http.max_inflight_body_bytes) refuses what does not fit with
// 503 + Retry-After before reading it, keeps the server's memory bounded, and frees up as soon
// as the slow clients go away.
test('slow uploads: body budget answers 503 + Retry-After and recovers', { timeout: 60000 }, async () => {
  const net = await import('node:net');
  const MiB = 1024 * 1024;
  const server = await startServer({
    config: { otlp_http: { max_body_bytes: 4 * MiB, max_inflight_body_bytes: 8 * MiB } },
  });
  const port = Number(new URL(server.otlp).port);
  const slow = [];
  try {
    // Two clients reserve 4 MiB each and send one byte: the budget is full.
    for (let i = 0; i < 2; i++) {
      const s = net.connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${4 * MiB}\r\n\r\nx`);
      slow.push(s);
    }
    await sleep(200);
    const refused = await request(`${server.otlp}/v1/traces`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.alloc(1000),
    });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(decodeRpcStatus(refused.body).message, /too many request bodies/);
    const metrics = await (await fetch(`${server.http}/metrics`)).text();
    assert.match(metrics, /avtrace_http_body_budget_rejected_total\{server="otlp_http"\} [1-9]/);
    assert.match(metrics, new RegExp(`avtrace_http_body_bytes_in_flight\\{server="otlp_http"\\} ${8 * MiB}`));
    // The slow clients leave: the budget is free again and an ordinary export succeeds.
    for (const s of slow) s.destroy();
    await sleep(200);
    const ok = await request(`${server.otlp}/v1/traces`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.alloc(0),
    });
    assert.equal(ok.status, 200);
  } finally {
    for (const s of slow) s.destroy();
    assert.equal((await server.stop()).code, 0);
    removeTempRoot(server.root);
  }
});
