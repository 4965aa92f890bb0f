// m-trace compatibility of avtrace's player API over real HTTP, in lab mode (no `projects:`:
// project "demo", token "demo-token", origins http://localhost:5173 and http://localhost:3000).
//
// m-trace's contract fixtures (contract-fixtures/api) have no playback-events, session or SSE
// cases (see shared/reference/mtrace-backend.md §10), so this file uses:
//  - hand-made batches per m-trace's contracts/event-schema.json and the check order of its
//    handler (401 → 413 → 400 → 401 → 403 → 429 → 400 → 422 → 202), and the session lifecycle
//    and read shapes (§2);
//  - every case of test/data/player/beacon_cases.json replayed through the HTTP route (the unit
//    suite feeds the same table to the decoder directly; here the route, CORS and store are in
//    the loop).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  REPO,
  api,
  avtraceBin,
  finishE2eRoot,
  getJson,
  makeE2eRoot,
  request,
  sleep,
  startServer,
  wireEvent,
} from './harness.mjs';

if (!fs.existsSync(avtraceBin())) throw new Error(`avtrace binary ${avtraceBin()} missing (set AVTRACE_BIN)`);

const TOKEN = 'demo-token';
const ORIGIN = 'http://localhost:5173';
let root;
let server;
let client;
let failed = false;

before(async () => {
  try {
    root = makeE2eRoot('avtrace-e2e-compat-');
    server = await startServer({ root });
    client = api(server.http, TOKEN);
  } catch (err) {
    failed = true;  // keep the temp dir: the server log is there
    throw err;
  }
});

after(async () => {
  if (server) {
    const st = await server.stop();
    if (st.code !== 0) {
      failed = true;
      console.error(`# avtrace exited ${JSON.stringify(st)}; log ${server.logPath}`);
    }
  }
  finishE2eRoot(root, { failed });
});

const sid = () => `compat-${crypto.randomUUID()}`;
const batch = (events, extra = {}) => ({ schema_version: '1.0', events, ...extra });

// POST that waits out a 429 (Retry-After) unless the caller expects one: the cases below share
// the rate limiter's client-IP bucket (capacity 100, refill 100/s).
async function post(body, opts = {}, { allow429 = false } = {}) {
  for (let attempt = 0; ; attempt++) {
    const res = await client.postBatch(body, opts);
    if (res.status !== 429 || allow429 || attempt >= 8) return res;
    await sleep(Math.min(2000, 1000 * Number(res.headers['retry-after'] ?? 1)));
  }
}

async function expectStatus(body, status, opts = {}, message = '') {
  const res = await post(body, opts);
  try {
    assert.equal(res.status, status, `${message} -> ${res.status} ${res.text().slice(0, 300)}`);
  } catch (err) {
    failed = true;
    throw err;
  }
  return res;
}

const json = (res) => JSON.parse(res.text());

describe('POST /api/playback-events: m-trace answers', () => {
  test('202 {"accepted":N}; unknown fields ignored; events and session read back', async () => {
    const s = sid();
    const events = [
      wireEvent({ session_id: s, event_name: 'manifest_loaded', sequence_number: 0, future_field: 1,
        meta: { 'network.kind': 'manifest', 'network.detail_status': 'available', 'network.redacted_url': 'http://cdn.example/live/x.m3u8', 'timing.ttfb_ms': 12 } }),
      wireEvent({ session_id: s, event_name: 'startup_time_measured', sequence_number: 1, meta: { duration_ms: 420 } }),
    ];
    const res = await expectStatus(batch(events, { extra: { a: 1 } }), 202);
    assert.deepEqual(json(res), { accepted: 2 });
    const d = await client.session(s);
    assert.ok(d, 'session readable right after 202');
    assert.equal(d.session.state, 'active');
    assert.equal(d.session.project_id, 'demo');
    assert.equal(d.session.event_count, 2);
    assert.equal(d.session.end_source ?? null, null);
    assert.deepEqual(d.session.network_signal_absent, []);
    assert.equal(d.events.length, 2);
    assert.deepEqual(d.events.map((e) => e.event_name), ['manifest_loaded', 'startup_time_measured']);
    const [m, st] = d.events;
    assert.equal(m.meta['timing.ttfb_ms'], 12);
    assert.equal(st.meta.duration_ms, 420);
    assert.equal(m.sequence_number, 0);
    assert.deepEqual(m.sdk, { name: '@avtrace/e2e', version: '0.0.1' });
    assert.ok(st.ingest_sequence > m.ingest_sequence);
    assert.equal(m.correlation_id, d.session.correlation_id);
    assert.ok(m.server_received_at);
  });

  test('401 without a token (before the body is read, even when oversize); 401 unknown token', async () => {
    await expectStatus(batch([wireEvent()]), 401, { token: null });
    await expectStatus(null, 401, { token: null, raw: 'x'.repeat(300 * 1024) }, 'no token, 300 KiB');
    const r = await expectStatus(batch([wireEvent()]), 401, { token: 'not-a-token' });
    assert.equal(r.text().trim(), '{}');
  });

  test('413 over 262144 bytes; 400 not JSON', async () => {
    const big = batch([wireEvent({ meta: { pad: 'x'.repeat(262144) } })]);
    await expectStatus(big, 413);
    await expectStatus(null, 400, { raw: '{"schema_version":' });
    await expectStatus(null, 400, { raw: 'hello' });
  });

  test('403 for an origin outside the project; 202 and CORS echo for an allowed one', async () => {
    await expectStatus(batch([wireEvent({ session_id: sid() })]), 403, { origin: 'https://evil.example' });
    const ok = await expectStatus(batch([wireEvent({ session_id: sid() })]), 202, { origin: ORIGIN });
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    assert.match(String(ok.headers.vary), /Origin/);
    const no = await post(batch([wireEvent({ session_id: sid() })]), { origin: 'https://evil.example' });
    assert.equal(no.headers['access-control-allow-origin'], undefined);
  });

  test('400 schema_version other than "1.0"', async () => {
    await expectStatus({ ...batch([wireEvent()]), schema_version: '2.0' }, 400);
    await expectStatus({ ...batch([wireEvent()]), schema_version: '1' }, 400);
  });

  test('422 events missing, empty or more than 100; 100 accepted', async () => {
    await expectStatus({ schema_version: '1.0' }, 422);
    await expectStatus(batch([]), 422);
    const s = sid();
    const many = (n) => Array.from({ length: n }, (_, i) => wireEvent({ session_id: s, sequence_number: i, event_name: 'metrics_sampled' }));
    // m-trace charges the rate limiter len(events) tokens before the size check, so with the
    // default bucket (capacity 100) a 101-event batch is refused with 429 before it can get 422.
    const over = await post(batch(many(101)), {}, { allow429: true });
    assert.ok(over.status === 422 || over.status === 429, `101 events -> ${over.status}`);
    const r = await expectStatus(batch(many(100)), 202);
    assert.deepEqual(json(r), { accepted: 100 });
  });

  test('422 per event: required fields, timestamps, reserved meta; 401 project mismatch', async () => {
    for (const field of ['event_name', 'project_id', 'session_id', 'client_timestamp', 'sdk']) {
      const e = wireEvent();
      delete e[field];
      await expectStatus(batch([e]), 422, {}, `missing ${field}`);
    }
    await expectStatus(batch([wireEvent({ client_timestamp: 'yesterday' })]), 422, {}, 'bad timestamp');
    await expectStatus(batch([wireEvent({ project_id: 'other' })]), 401, {}, 'project mismatch');
    const bad = {
      'network.kind': 'playlist',
      'network.detail_status': 'maybe',
      'webrtc.foo': 1,
      'webrtc.sample_id': -1,
      'webrtc.connection_state': 'melting',
      'webrtc.error_code': 'oops',
      session_sample_rate: 0,
      'timing.ttfb_ms': true,
    };
    for (const [k, v] of Object.entries(bad)) {
      await expectStatus(batch([wireEvent({ meta: { [k]: v } })]), 422, {}, `meta ${k}=${JSON.stringify(v)}`);
    }
    await expectStatus(batch([wireEvent({ meta: { 'network.unavailable_reason': 'cors_timing_blocked' } })]), 422,
      {}, 'unavailable_reason without detail_status');
    const good = {
      'network.kind': 'segment', 'network.detail_status': 'network_detail_unavailable',
      'network.unavailable_reason': 'cors_timing_blocked', 'webrtc.sample_id': 3,
      'webrtc.connection_state': 'connected', 'webrtc.bytes_received': 10, session_sample_rate: 0.5,
      'timing.start': '2024-05-01T12:00:00.000Z', 'rtc.recv_kbps': 1.5, custom: 'x',
    };
    await expectStatus(batch([wireEvent({ session_id: sid(), meta: good })]), 202, {}, 'valid reserved meta');
  });

  test('session_boundaries: invalid → 422 and nothing persisted; boundary-only → 422; valid → listed', async () => {
    const s = sid();
    const boundary = (over = {}) => ({
      kind: 'network_signal_absent', project_id: 'demo', session_id: s, network_kind: 'segment',
      adapter: 'native_hls', reason: 'native_hls_unavailable', client_timestamp: new Date().toISOString(), ...over,
    });
    await expectStatus(batch([wireEvent({ session_id: s })], { session_boundaries: [boundary({ session_id: 'elsewhere' })] }), 422);
    assert.equal(await client.session(s), null, 'nothing of a rejected batch is stored');
    await expectStatus({ schema_version: '1.0', session_boundaries: [boundary()] }, 422);
    await expectStatus(batch([wireEvent({ session_id: s })], { session_boundaries: [boundary({ adapter: 'shaka' })] }), 422);
    await expectStatus(batch([wireEvent({ session_id: s })], { session_boundaries: [boundary(), boundary()] }), 202);
    const d = await client.session(s);
    // m-trace's read shape: `kind` is the network signal kind (manifest|segment), not the
    // boundary kind (sessions_handlers.go networkSignalAbsentWire).
    assert.deepEqual(d.session.network_signal_absent, [{ kind: 'segment', adapter: 'native_hls', reason: 'native_hls_unavailable' }]);
  });

  test('duplicate sequence numbers are still accepted; invalid traceparent is no 4xx', async () => {
    const s = sid();
    const e = wireEvent({ session_id: s, sequence_number: 5 });
    await expectStatus(batch([e]), 202);
    const r = await expectStatus(batch([e, e]), 202);
    assert.deepEqual(json(r), { accepted: 2 });
    await expectStatus(batch([wireEvent({ session_id: s })]), 202, { extraHeaders: { traceparent: 'garbage' } });
    const d = await client.session(s);
    assert.equal(d.session.event_count, 4);
  });

  test('session_ended → ended / end_source client, idempotent; later events still counted', async () => {
    const s = sid();
    await expectStatus(batch([wireEvent({ session_id: s, sequence_number: 0 })]), 202);
    await expectStatus(batch([wireEvent({ session_id: s, sequence_number: 1, event_name: 'session_ended' })]), 202);
    let d = await client.session(s);
    assert.equal(d.session.state, 'ended');
    assert.equal(d.session.end_source, 'client');
    assert.ok(d.session.ended_at);
    const endedAt = d.session.ended_at;
    await expectStatus(batch([wireEvent({ session_id: s, sequence_number: 2, event_name: 'session_ended' })]), 202);
    await expectStatus(batch([wireEvent({ session_id: s, sequence_number: 3, event_name: 'metrics_sampled' })]), 202);
    d = await client.session(s);
    assert.equal(d.session.state, 'ended');
    assert.equal(d.session.end_source, 'client');
    assert.equal(d.session.ended_at, endedAt);
    assert.equal(d.session.event_count, 4);
  });

  test('CORS preflight: 204, echo only for a known origin; wrong method 405 with Allow', async () => {
    const pre = (origin) => request(`${server.http}/api/playback-events`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-mtrace-token,traceparent' },
    });
    const ok = await pre(ORIGIN);
    assert.equal(ok.status, 204);
    assert.equal(ok.body.length, 0);
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    assert.match(String(ok.headers['access-control-allow-methods']), /POST/);
    for (const h of ['x-mtrace-token', 'traceparent', 'content-type']) {
      assert.match(String(ok.headers['access-control-allow-headers']).toLowerCase(), new RegExp(h));
    }
    assert.equal(ok.headers['access-control-max-age'], '600');
    const no = await pre('https://evil.example');
    assert.equal(no.status, 204);
    assert.equal(no.headers['access-control-allow-origin'], undefined);
    assert.equal(no.headers['access-control-allow-methods'], undefined);
    const wrong = await request(`${server.http}/api/playback-events`, { method: 'GET' });
    assert.equal(wrong.status, 405);
    assert.match(String(wrong.headers.allow), /POST/);
  });

  test('429 with Retry-After once the bucket (100 events) is empty', async () => {
    const s = sid();
    const full = batch(Array.from({ length: 100 }, (_, i) => wireEvent({ session_id: s, sequence_number: i })));
    let limited = null;
    for (let i = 0; i < 5 && !limited; i++) {
      const r = await post(full, {}, { allow429: true });
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 202);
    }
    assert.ok(limited, 'no 429 after 5 back-to-back 100-event batches');
    assert.ok(Number(limited.headers['retry-after']) >= 1, JSON.stringify(limited.headers));
    assert.equal(limited.text().trim(), '{}');
  });
});

describe('GET /api/stream-sessions', () => {
  test('401 without a token; list shape and order; 404 unknown id; 400 bad limit', async () => {
    const no = await getJson(`${server.http}/api/stream-sessions`);
    assert.equal(no.status, 401);
    const bad = await getJson(`${server.http}/api/stream-sessions`, { headers: { 'X-MTrace-Token': 'nope' } });
    assert.equal(bad.status, 401);
    const s = sid();
    await expectStatus(batch([wireEvent({ session_id: s })]), 202);
    const list = await getJson(`${server.http}/api/stream-sessions?limit=1000`, { headers: { 'X-MTrace-Token': TOKEN } });
    assert.equal(list.status, 200);
    const sessions = list.body.sessions;
    assert.ok(Array.isArray(sessions) && sessions.some((x) => x.session_id === s));
    for (const x of sessions) {
      for (const k of ['session_id', 'project_id', 'state', 'started_at', 'last_event_at', 'event_count', 'correlation_id', 'network_signal_absent']) {
        assert.ok(k in x, `${k} in ${JSON.stringify(x)}`);
      }
    }
    for (let i = 1; i < sessions.length; i++) {
      const a = sessions[i - 1];
      const b = sessions[i];
      assert.ok(a.started_at > b.started_at || (a.started_at === b.started_at && a.session_id < b.session_id),
        `order: started_at desc, session_id asc (${a.started_at} ${a.session_id} / ${b.started_at} ${b.session_id})`);
    }
    const page = await getJson(`${server.http}/api/stream-sessions?limit=2`, { headers: { 'X-MTrace-Token': TOKEN } });
    assert.equal(page.body.sessions.length, 2);
    assert.ok(page.body.next_cursor, 'next_cursor when more sessions exist');
    const next = await getJson(`${server.http}/api/stream-sessions?limit=2&cursor=${encodeURIComponent(page.body.next_cursor)}`,
      { headers: { 'X-MTrace-Token': TOKEN } });
    assert.equal(next.status, 200);
    assert.notEqual(next.body.sessions[0].session_id, page.body.sessions[0].session_id);
    const missing = await getJson(`${server.http}/api/stream-sessions/${sid()}`, { headers: { 'X-MTrace-Token': TOKEN } });
    assert.equal(missing.status, 404);
    const badLimit = await getJson(`${server.http}/api/stream-sessions?limit=abc`, { headers: { 'X-MTrace-Token': TOKEN } });
    assert.equal(badLimit.status, 400);
    assert.deepEqual(badLimit.body, { error: 'limit_invalid' });
  });

  test('GET /api/health → 200 {"status":"ok"}', async () => {
    const health = await getJson(`${server.http}/api/health`);
    assert.equal(health.status, 200, health.raw);
    assert.deepEqual(health.body, { status: 'ok' });
  });
});

describe('beacon_cases.json over HTTP', () => {
  const cases = JSON.parse(fs.readFileSync(path.join(REPO, 'test', 'data', 'player', 'beacon_cases.json'), 'utf8'));
  test(`${cases.length} cases: status and body as the decoder table says`, async () => {
    const failures = [];
    for (const c of cases) {
      const now = new Date().toISOString();
      const raw = c.raw ?? JSON.stringify(c.body).replaceAll('"NOW"', JSON.stringify(now));
      const headers = { 'Content-Type': 'application/json' };
      const token = c.token ?? TOKEN;
      if (token !== '') headers['X-MTrace-Token'] = token;
      if (c.origin) headers.Origin = c.origin;
      if (c.authorization) headers.Authorization = c.authorization;
      if (c.session_token) headers['X-MTrace-Session-Token'] = c.session_token;
      let res;
      for (let attempt = 0; attempt < 8; attempt++) {
        res = await request(`${server.http}/api/playback-events`, { method: 'POST', headers, body: raw });
        if (res.status !== 429) break;
        await sleep(Math.min(2000, 1000 * Number(res.headers['retry-after'] ?? 1)));
      }
      const body = res.text();
      const want = c.expect_body ?? (c.status === 202 ? null : '{}');
      if (c.name === '101 events' && res.status === 429) continue;  // see the 101-event note above
      if (res.status !== c.status || (want !== null && body.trim() !== want.trim())) {
        failures.push(`${c.name}: want ${c.status} ${want ?? ''} got ${res.status} ${body.slice(0, 120)}`);
      }
    }
    if (failures.length) failed = true;
    assert.deepEqual(failures, []);
  });
});
