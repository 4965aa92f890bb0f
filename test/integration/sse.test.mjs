// The m-trace SSE endpoint GET /api/stream-sessions/stream over real HTTP: committed playback
// events arrive as `event_appended` frames with id = ingest_sequence, Last-Event-ID backfills
// only newer events, heartbeats follow player.sse_heartbeat_ms, auth, and SIGTERM with an open
// stream exits 0 promptly.
//
// Run: node --test test/integration/sse.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { makeTempRoot, pollUntil, removeTempRoot, request, startServer } from './harness.mjs';

const TOKEN = 'demo-token';

function event(session, name = 'segment_loaded') {
  return {
    event_name: name,
    project_id: 'demo',
    session_id: session,
    client_timestamp: new Date().toISOString(),
    sdk: { name: '@avtrace/player', version: '0.1.0' },
  };
}

async function post(server, events) {
  const r = await request(`${server.http}/api/playback-events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-MTrace-Token': TOKEN },
    body: JSON.stringify({ schema_version: '1.0', events }),
  });
  assert.equal(r.status, 202);
}

// Opens a stream; collects frames (parsed) and raw text as they arrive.
async function open(server, { headers = {}, query = '' } = {}) {
  const ac = new AbortController();
  const res = await fetch(`${server.http}/api/stream-sessions/stream${query}`, {
    headers: { 'X-MTrace-Token': TOKEN, ...headers },
    signal: ac.signal,
  });
  const s = { res, frames: [], raw: '', ended: false, close: () => ac.abort() };
  if (res.status !== 200) return s;
  (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        const text = dec.decode(chunk, { stream: true });
        s.raw += text;
        buf += text;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) f.comment = line.slice(1).trim();
            else {
              const c = line.indexOf(':');
              f[line.slice(0, c)] = line.slice(c + 1).trimStart();
            }
          }
          if (f.data) f.json = JSON.parse(f.data);
          s.frames.push(f);
        }
      }
    } catch {
      // aborted
    }
    s.ended = true;
  })();
  return s;
}

const events = (s) => s.frames.filter((f) => f.event === 'event_appended');

test('SSE stream over HTTP', async (t) => {
  const root = makeTempRoot();
  const config = `
player:
  sse_heartbeat_ms: 200
  rate_limit: {capacity: 1000, refill_per_second: 1000}
`;
  const server = await startServer({ root, config });
  try {
    await t.test('auth and headers', async () => {
      const r = await fetch(`${server.http}/api/stream-sessions/stream`);
      assert.equal(r.status, 401);
      const bad = await fetch(`${server.http}/api/stream-sessions/stream`, { headers: { 'X-MTrace-Token': 'nope' } });
      assert.equal(bad.status, 401);
      const s = await open(server, { headers: { 'X-MTrace-Token': '' }, query: `?access_token=${TOKEN}` });
      assert.equal(s.res.status, 200);
      assert.equal(s.res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(s.res.headers.get('cache-control'), 'no-store');
      assert.equal(s.res.headers.get('content-length'), null);
      s.close();
    });

    let lastId;
    await t.test('live events with ids, then heartbeats', async () => {
      const s = await open(server);
      assert.equal(s.res.status, 200);
      await post(server, [event('sse-a', 'playback_started'), event('sse-a')]);
      const got = await pollUntil(() => (events(s).length >= 2 ? events(s) : null), { what: 'two frames' });
      assert.equal(got[0].json.event_name, 'playback_started');
      assert.equal(got[0].json.session_id, 'sse-a');
      assert.equal(got[0].json.project_id, 'demo');
      assert.equal(Number(got[0].id), got[0].json.ingest_sequence);
      assert.equal(Number(got[1].id), got[0].json.ingest_sequence + 1);
      lastId = Number(got[1].id);
      await pollUntil(() => s.frames.some((f) => f.comment === 'heartbeat'), { what: 'heartbeat' });
      s.close();
    });

    await t.test('Last-Event-ID backfills only newer events, then live ones', async () => {
      await post(server, [event('sse-b'), event('sse-b', 'rebuffer_started')]);
      const s = await open(server, { headers: { 'Last-Event-ID': String(lastId) } });
      const back = await pollUntil(() => (events(s).length >= 2 ? events(s) : null), { what: 'backfill' });
      assert.deepEqual(back.map((f) => Number(f.id)), [lastId + 1, lastId + 2]);
      assert.equal(back[1].json.event_name, 'rebuffer_started');
      await post(server, [event('sse-b', 'playback_ended')]);
      const all = await pollUntil(() => (events(s).length >= 3 ? events(s) : null), { what: 'live after backfill' });
      assert.deepEqual(all.map((f) => Number(f.id)), [lastId + 1, lastId + 2, lastId + 3]);
      s.close();
      // The query form works too.
      const q = await open(server, { query: `?last_event_id=${lastId + 2}` });
      const one = await pollUntil(() => (events(q).length >= 1 ? events(q) : null), { what: 'query backfill' });
      assert.equal(Number(one[0].id), lastId + 3);
      q.close();
    });

    await t.test('SIGTERM with an open stream exits 0 promptly', async () => {
      const s = await open(server);
      assert.equal(s.res.status, 200);
      const t0 = Date.now();
      const st = await server.stop({ timeoutMs: 10000 });
      assert.equal(st.escalated, false);
      assert.equal(st.code, 0);
      assert.ok(Date.now() - t0 < 5000, `shutdown took ${Date.now() - t0} ms`);
      await pollUntil(() => s.ended, { what: 'stream end' });
    });
  } finally {
    await server.stop();
    removeTempRoot(root);
  }
});
