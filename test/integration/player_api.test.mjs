// Player telemetry over real HTTP: the m-trace beacon contract (check order rows, dedup, time
// skew, traceparent), durable 202s (kill -9), session lifecycle with the sweeper (short timeouts
// via config), session list/detail with cursors, the CMCD endpoint and CORS preflights.
//
// Run: node --test test/integration/player_api.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { getJson, makeTempRoot, pollUntil, removeTempRoot, request, startServer } from './harness.mjs';

const TOKEN = 'demo-token';
const ORIGIN = 'http://localhost:5173';
let seq = 0;

function event(session, { name = 'segment_loaded', sequence, ts, project = 'demo', meta } = {}) {
  const e = {
    event_name: name,
    project_id: project,
    session_id: session,
    client_timestamp: ts ?? new Date().toISOString(),
    sdk: { name: '@avtrace/player', version: '0.1.0' },
  };
  if (sequence !== undefined) e.sequence_number = sequence;
  if (meta) e.meta = meta;
  return e;
}

function post(server, body, { headers = {}, query = '' } = {}) {
  return request(`${server.http}/api/playback-events${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const auth = { 'X-MTrace-Token': TOKEN };
const batch = (events) => ({ schema_version: '1.0', events });

test('player API over HTTP', async (t) => {
  const root = makeTempRoot();
  const config = `
player:
  rate_limit: {capacity: 1000, refill_per_second: 1000}
  session: {stall_after_ms: 1500, end_after_ms: 3000, sweep_interval_ms: 100}
projects:
  - id: demo
    tokens: [demo-token]
    allowed_origins: ["${ORIGIN}"]
  - id: tight
    tokens: [tight-token]
`;
  let server = await startServer({ root, config });
  try {
    await t.test('check order rows', async () => {
      const big = 'x'.repeat(300 * 1024);
      // 1: no credential -> 401 even with an oversized body (answered before the body is read)
      let r = await post(server, big);
      assert.equal(r.status, 401);
      // 2: credential + body > 256 KiB -> 413
      r = await post(server, big, { headers: auth });
      assert.equal(r.status, 413);
      // 3: not JSON -> 400
      r = await post(server, '{nope', { headers: auth });
      assert.equal(r.status, 400);
      // 4: unknown token -> 401
      r = await post(server, batch([event('s-x')]), { headers: { 'X-MTrace-Token': 'wrong' } });
      assert.equal(r.status, 401);
      // 5: origin not allowed -> 403
      r = await post(server, batch([event('s-x')]), { headers: { ...auth, Origin: 'http://evil.test' } });
      assert.equal(r.status, 403);
      // 7: schema version -> 400
      r = await post(server, { schema_version: '2.0', events: [event('s-x')] }, { headers: auth });
      assert.equal(r.status, 400);
      // 8: empty events -> 422
      r = await post(server, batch([]), { headers: auth });
      assert.equal(r.status, 422);
      // 9: bad timestamp -> 422; foreign project -> 401
      r = await post(server, batch([event('s-x', { ts: 'yesterday' })]), { headers: auth });
      assert.equal(r.status, 422);
      r = await post(server, batch([event('s-x', { project: 'tight' })]), { headers: auth });
      assert.equal(r.status, 401);
      // 11: accepted, with CORS for a known origin
      r = await post(server, batch([event('s-ok', { sequence: 1 })]), { headers: { ...auth, Origin: ORIGIN } });
      assert.equal(r.status, 202);
      assert.deepEqual(r.json(), { accepted: 1 });
      assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
      assert.match(r.headers['access-control-expose-headers'], /Retry-After/);
      // sendBeacon form: token as a query argument, text/plain body
      r = await post(server, JSON.stringify(batch([event('s-ok', { sequence: 2 })])), {
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        query: `?access_token=${TOKEN}`,
      });
      assert.equal(r.status, 202);
    });

    await t.test('rate limit -> 429 with Retry-After', async () => {
      const r = await post(server, batch(Array.from({ length: 100 }, (_, i) => event('s-rl', { sequence: i }))), {
        headers: auth,
      });
      assert.equal(r.status, 202);
      // 1000 capacity: 11 more batches of 100 must hit the limit
      let limited = null;
      for (let i = 0; i < 12 && !limited; ++i) {
        const x = await post(server, batch(Array.from({ length: 100 }, () => event('s-rl'))), { headers: auth });
        if (x.status === 429) limited = x;
        else assert.equal(x.status, 202);
      }
      assert.ok(limited, 'expected a 429');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
    });

    await t.test('dedup, time skew, traceparent, detail and cursors', async () => {
      const sid = `s-detail-${++seq}`;
      const old = new Date(Date.now() - 3600_000).toISOString();
      const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      let r = await post(server, batch([event(sid, { sequence: 1, name: 'manifest_loaded' }),
        event(sid, { sequence: 2, ts: old })]), { headers: { ...auth, traceparent: tp } });
      assert.equal(r.status, 202);
      r = await post(server, batch([event(sid, { sequence: 2 }), event(sid, { sequence: 3 })]), { headers: auth });
      assert.equal(r.status, 202);
      const d = await getJson(`${server.http}/api/stream-sessions/${sid}?events_limit=3`, { headers: auth });
      assert.equal(d.status, 200, d.raw);
      assert.equal(d.body.session.state, 'active');
      assert.equal(d.body.session.event_count, 4);
      assert.match(d.body.session.correlation_id, /^[0-9a-f-]{36}$/);
      assert.equal(d.body.events.length, 3);
      assert.equal(d.body.events[0].trace_id, '0af7651916cd43dd8448eb211c80319c');
      assert.equal(d.body.events[1].time_skew_warning, true);
      assert.ok(d.body.next_cursor);
      const d2 = await getJson(`${server.http}/api/stream-sessions/${sid}?events_cursor=${d.body.next_cursor}`, { headers: auth });
      assert.equal(d2.status, 200, d2.raw);
      assert.equal(d2.body.events.length, 1);
      assert.equal(d2.body.next_cursor, undefined);
      // avtrace's own detail shows delivery_status and QoE
      const own = await getJson(`${server.http}/api/v1/sessions/demo/${sid}`);
      assert.equal(own.status, 200, own.raw);
      const statuses = own.body.events.map((e) => e.delivery_status);
      assert.deepEqual(statuses.filter((s) => s === 'duplicate_suspected').length, 1);
      assert.ok(own.body.session.qoe);
      // errors
      assert.equal((await getJson(`${server.http}/api/stream-sessions/nope`, { headers: auth })).status, 404);
      assert.equal((await getJson(`${server.http}/api/stream-sessions/${sid}`)).status, 401);
      const bad = await getJson(`${server.http}/api/stream-sessions?limit=0`, { headers: auth });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body, { error: 'limit_invalid' });
      const badc = await getJson(`${server.http}/api/stream-sessions?cursor=%%%`, { headers: auth });
      assert.equal(badc.status, 400);
      const legacy = Buffer.from(JSON.stringify({ v: 1 })).toString('base64url');
      const leg = await getJson(`${server.http}/api/stream-sessions?cursor=${legacy}`, { headers: auth });
      assert.equal(leg.body.error, 'cursor_invalid_legacy');
    });

    await t.test('session list pages without gaps', async () => {
      for (let i = 0; i < 7; ++i) {
        const r = await post(server, batch([event(`s-list-${i}`, { sequence: 0 })]), { headers: auth });
        assert.equal(r.status, 202);
      }
      const seen = [];
      let cursor = '';
      for (let guard = 0; guard < 50; ++guard) {
        const res = await getJson(`${server.http}/api/stream-sessions?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { headers: auth });
        assert.equal(res.status, 200, res.raw);
        seen.push(...res.body.sessions.map((s) => s.session_id));
        if (!res.body.next_cursor) break;
        cursor = res.body.next_cursor;
      }
      assert.equal(new Set(seen).size, seen.length);
      for (let i = 0; i < 7; ++i) assert.ok(seen.includes(`s-list-${i}`));
    });

    await t.test('CMCD endpoint', async () => {
      const cmcd = encodeURIComponent('br=3200,bs,d=4004,ot=v,sid="cmcd-1",sf=h,su');
      let r = await request(`${server.http}/api/cmcd?CMCD=${cmcd}`, { headers: auth });
      assert.equal(r.status, 202, r.text());
      r = await request(`${server.http}/api/cmcd`, {
        headers: { ...auth, 'CMCD-Session': 'sid="cmcd-1",sf=h', 'CMCD-Object': 'br=4000,d=4004' },
      });
      assert.equal(r.status, 202, r.text());
      r = await request(`${server.http}/api/cmcd?CMCD=${encodeURIComponent('br=abc,sid="x"')}`, { headers: auth });
      assert.equal(r.status, 400);
      r = await request(`${server.http}/api/cmcd?CMCD=x`);
      assert.equal(r.status, 401);
      const d = await getJson(`${server.http}/api/stream-sessions/cmcd-1`, { headers: auth });
      assert.equal(d.status, 200, d.raw);
      assert.equal(d.body.events.length, 2);
    });

    await t.test('CORS preflight', async () => {
      let r = await request(`${server.http}/api/playback-events`, {
        method: 'OPTIONS',
        headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(r.status, 204);
      assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
      assert.match(r.headers['access-control-allow-methods'], /POST/);
      r = await request(`${server.http}/api/playback-events`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://evil.test', 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(r.status, 204);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    });

    await t.test('lifecycle: client end, sweeper stall and end', async () => {
      const a = `s-life-a-${++seq}`;
      const b = `s-life-b-${seq}`;
      let r = await post(server, batch([event(a, { sequence: 1 }), event(b, { sequence: 1 })]), { headers: auth });
      assert.equal(r.status, 202);
      r = await post(server, batch([event(a, { sequence: 2, name: 'session_ended' })]), { headers: auth });
      assert.equal(r.status, 202);
      const sa = await getJson(`${server.http}/api/stream-sessions/${a}`, { headers: auth });
      assert.equal(sa.body.session.state, 'ended');
      assert.equal(sa.body.session.end_source, 'client');
      await pollUntil(async () => {
        const s = await getJson(`${server.http}/api/stream-sessions/${b}`, { headers: auth });
        return s.body.session.state === 'stalled';
      }, { timeoutMs: 5000, what: 'stalled' });
      await pollUntil(async () => {
        const s = await getJson(`${server.http}/api/stream-sessions/${b}`, { headers: auth });
        return s.body.session.state === 'ended' && s.body.session.end_source === 'sweeper';
      }, { timeoutMs: 6000, what: 'ended by sweeper' });
      const own = await getJson(`${server.http}/api/v1/sessions?state=ended&project=demo`);
      assert.ok(own.body.sessions.some((s) => s.session_id === b));
    });

    await t.test('202-acknowledged events survive kill -9', async () => {
      const sid = `s-durable-${++seq}`;
      const acked = [];
      for (let i = 0; i < 20; ++i) {
        const r = await post(server, batch(Array.from({ length: 5 }, (_, k) => event(sid, { sequence: i * 5 + k }))), { headers: auth });
        if (r.status === 202) acked.push(i);
      }
      await server.kill9();
      server = await startServer({ root, config });
      const d = await getJson(`${server.http}/api/stream-sessions/${sid}?events_limit=1000`, { headers: auth });
      assert.equal(d.status, 200, d.raw);
      assert.equal(d.body.events.length, acked.length * 5);
      // the session continues (no duplicate session, dedup state restored)
      const r = await post(server, batch([event(sid, { sequence: 0 })]), { headers: auth });
      assert.equal(r.status, 202);
      const own = await getJson(`${server.http}/api/v1/sessions/demo/${sid}?events_limit=1000`);
      assert.equal(own.body.events.at(-1).delivery_status, 'duplicate_suspected');
      assert.equal(own.body.session.event_count, acked.length * 5 + 1);
    });
  } finally {
    const st = await server.stop();
    assert.equal(st.code, 0, server.logTail());
    removeTempRoot(root);
  }
});
