// Crash durability: an acknowledged (200) OTLP request survives SIGKILL.
//
// Several clients stream protobuf trace batches (one fresh trace of SPANS_PER_BATCH spans per
// request, random ids) and record every batch answered 200. The server is SIGKILLed (by its own
// PID) mid-stream, after a different number of acknowledgements each round, then restarted on the
// same data dir. Every batch acknowledged in any earlier round must be retrievable, complete and
// without duplicates, through GET /api/v1/traces/{id}. Finally a graceful SIGTERM must exit 0.
//
// Run: node --test test/integration/kill9.test.mjs

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import {
  getJson,
  makeTempRoot,
  mapLimit,
  postOtlp,
  removeTempRoot,
  spanIdsOf,
  startServer,
  traceBodyFactory,
} from './harness.mjs';

const SPANS_PER_BATCH = [20, 200];  // workers alternate small and large batches
const CONCURRENCY = 8;
// Acknowledgements after which each round's server is killed (varied on purpose; 1 = right after
// the first commit of a fresh process; the large rounds let deferred index work pile up).
const KILL_AFTER_ACKS = [60, 1, 400, 25, 1200, 7, 250, 700];
const ROUND_TIMEOUT_MS = 15000;  // a round that gets no acks at all fails instead of hanging

async function verifyAcked(server, acked) {
  const problems = [];
  await mapLimit(acked, 8, async (batch) => {
    const res = await getJson(`${server.http}/api/v1/traces/${batch.traceId}`);
    if (res.status !== 200) {
      problems.push(`round ${batch.round}: trace ${batch.traceId} -> ${res.status} ${res.raw.slice(0, 200)}`);
      return;
    }
    const ids = spanIdsOf(res.body.resourceSpans);
    const want = [...batch.spanIds].sort();
    const have = [...ids].sort();
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      problems.push(`round ${batch.round}: trace ${batch.traceId}: ${have.length} spans back (want ${want.length}, ` +
        `missing ${want.filter((x) => !ids.includes(x)).length}, duplicates ${have.length - new Set(have).size})`);
    }
  });
  return problems;
}

test('every acknowledged span survives SIGKILL and restart', { timeout: 110000 }, async (t) => {
  const root = makeTempRoot('avtrace-kill9-');
  let server;
  t.after(async () => {
    if (server) await server.kill9();
    removeTempRoot(root);
  });

  const factories = SPANS_PER_BATCH.map((n) => traceBodyFactory({ service: 'it-kill9', n, attrCount: 3, name: 'kill9' }));
  const acked = [];
  const started = Date.now();

  for (let round = 0; round < KILL_AFTER_ACKS.length; round++) {
    server = await startServer({ root, config: { log: { level: 'warn' } } });

    // Everything acknowledged in earlier rounds is back after the restart.
    const problems = await verifyAcked(server, acked);
    assert.deepEqual(problems, [], `after restart ${round}: ${problems.length} acknowledged batches lost or damaged`);

    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const killAt = KILL_AFTER_ACKS[round];
    let acksThisRound = 0;
    let killing = null;
    const statuses = {};
    const victim = server;
    const kill = () => {
      killing ??= victim.kill9();
      return killing;
    };
    const timer = setTimeout(kill, ROUND_TIMEOUT_MS);

    const worker = async (_, w) => {
      const factory = factories[w % factories.length];
      while (!killing) {
        const batch = factory.make();
        let res;
        try {
          res = await postOtlp(victim.otlp, 'traces', batch.body, { agent, timeoutMs: 10000 });
        } catch {
          continue;  // connection reset by the kill: not acknowledged
        }
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 200) {
          acked.push({ traceId: batch.traceId, spanIds: batch.spanIds, round });
          if (++acksThisRound >= killAt) kill();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    clearTimeout(timer);
    const st = await kill();
    agent.destroy();
    server = null;
    assert.equal(st.signal, 'SIGKILL', `round ${round}: server ended by ${JSON.stringify(st)} before the kill`);
    assert.ok(acksThisRound >= killAt, `round ${round}: only ${acksThisRound} acks in ${ROUND_TIMEOUT_MS} ms (statuses ${JSON.stringify(statuses)})`);
    const unexpected = Object.keys(statuses).filter((s) => s !== '200');
    assert.deepEqual(unexpected, [], `round ${round}: non-200 answers ${JSON.stringify(statuses)}`);
    t.diagnostic(`round ${round}: ${acksThisRound} batches acknowledged, killed; total ${acked.length}`);
  }

  server = await startServer({ root, config: { log: { level: 'warn' } } });
  const problems = await verifyAcked(server, acked);
  assert.deepEqual(problems, [], `final: ${problems.length} acknowledged batches lost or damaged`);
  const st = await server.stop();
  server = null;
  assert.equal(st.code, 0, `graceful stop after the crashes: ${JSON.stringify(st)}`);
  const spans = acked.reduce((n, b) => n + b.spanIds.length, 0);
  t.diagnostic(`${acked.length} batches (${spans} spans) verified in ${Date.now() - started} ms`);
});

test('SIGTERM mid-stream drains: exit 0, every acknowledged batch durable', { timeout: 60000 }, async (t) => {
  const root = makeTempRoot('avtrace-sigterm-');
  let server;
  t.after(async () => {
    if (server) await server.kill9();
    removeTempRoot(root);
  });
  server = await startServer({ root, config: { log: { level: 'warn' } } });
  const factory = traceBodyFactory({ service: 'it-sigterm', n: 50, attrCount: 3, name: 'drain' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const acked = [];
  const statuses = {};
  const badRetryAfter = [];
  let ackedBeforeTerm = 0;
  let stopping = null;
  const victim = server;

  const worker = async () => {
    for (;;) {
      const batch = factory.make();
      let res;
      try {
        res = await postOtlp(victim.otlp, 'traces', batch.body, { agent, timeoutMs: 20000 });
      } catch (err) {
        if (stopping) return;  // listener closed: the server is going away
        throw err;
      }
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 200) {
        acked.push({ traceId: batch.traceId, spanIds: batch.spanIds, round: 'sigterm' });
        if (!stopping && ++ackedBeforeTerm >= 300) stopping = victim.stop({ timeoutMs: 30000 });
      } else if (res.status === 503 && stopping) {
        const ra = res.headers['retry-after'];
        if (!/^\d+$/.test(String(ra))) badRetryAfter.push(ra);
        return;
      } else {
        throw new Error(`unexpected ${res.status}: ${res.text().slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const st = await stopping;
  agent.destroy();
  server = null;
  t.diagnostic(`answers ${JSON.stringify(statuses)}; ${acked.length} acknowledged`);
  assert.equal(st.escalated, false, 'exited within 30 s of SIGTERM');
  assert.equal(st.code, 0, `exit status ${JSON.stringify(st)}`);
  assert.deepEqual(badRetryAfter, [], '503 during shutdown carries Retry-After');

  server = await startServer({ root, config: { log: { level: 'warn' } } });
  const problems = await verifyAcked(server, acked);
  assert.deepEqual(problems, [], `${problems.length} acknowledged batches lost after a graceful stop`);
  const st2 = await server.stop();
  server = null;
  assert.equal(st2.code, 0);
});
