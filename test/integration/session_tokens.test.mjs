// m-trace session tokens over real HTTP: a backend buys a short-lived HS256 token with its
// project token (POST /api/auth/session-tokens), the player sends beacons with it
// (Authorization: Bearer mtr_st_...), the events land in the token's project; TTL, auth, origin
// and session bindings are enforced; without a key ring the route does not exist.
//
// Run: node --test test/integration/session_tokens.test.mjs

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { getJson, pollUntil, removeTempRoot, request, startServer } from './harness.mjs';

const SECRET = crypto.randomBytes(32).toString('base64');
const ORIGIN = 'http://localhost:5173';

function beacon(session, extraHeaders) {
  return request(`${this_server.http}/api/playback-events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: ORIGIN, ...extraHeaders },
    body: JSON.stringify({
      schema_version: '1.0',
      events: [{
        event_name: 'playback_started', project_id: 'demo', session_id: session,
        client_timestamp: new Date().toISOString(), sdk: { name: '@avtrace/player', version: '0.1.0' },
      }],
    }),
  });
}
let this_server;

test('issue a session token, send beacons with it, bindings and errors', async () => {
  const server = await startServer({
    config: { player: { session_tokens: { keys: [`k1:${SECRET}`], active_kid: 'k1', max_ttl: '600s' } } },
  });
  this_server = server;
  const issue = (body, headers = { 'X-MTrace-Token': 'demo-token' }) =>
    request(`${server.http}/api/auth/session-tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ORIGIN, ...headers },
      body: body === undefined ? '' : JSON.stringify(body),
    });
  try {
    const r = await issue({ ttl_seconds: 120, session_id: 'sess-bound' });
    assert.equal(r.status, 201, r.text());
    assert.equal(r.headers['cache-control'], 'no-store');
    const t = r.json().session_token;
    assert.match(t.value, /^mtr_st_[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(t.project_id, 'demo');
    assert.equal(t.audience, 'playback-events');
    assert.equal(t.session_id, 'sess-bound');
    assert.ok(Math.abs(Date.parse(t.expires_at) - (Date.now() + 120000)) < 5000, t.expires_at);

    // The token replaces the project token; the events land in its project.
    const ok = await beacon('sess-bound', { Authorization: `Bearer ${t.value}` });
    assert.equal(ok.status, 202, ok.text());
    assert.deepEqual(ok.json(), { accepted: 1 });
    await pollUntil(async () => (await getJson(`${server.http}/api/v1/sessions/demo/sess-bound`)).status === 200,
      { what: 'session stored' });
    assert.equal((await beacon('sess-bound', { 'X-MTrace-Session-Token': t.value })).status, 202);
    // Bound to its session; a tampered token is refused with no fallback to X-MTrace-Token.
    assert.equal((await beacon('other-session', { Authorization: `Bearer ${t.value}` })).status, 403);
    const tampered = t.value.slice(0, -2) + (t.value.endsWith('AA') ? 'BB' : 'AA');
    assert.equal((await beacon('sess-bound', { Authorization: `Bearer ${tampered}`, 'X-MTrace-Token': 'demo-token' })).status, 401);

    // Issuance errors in m-trace's auth form.
    const cases = [
      [await issue({ ttl_seconds: 601 }), 422, 'auth_token_ttl_too_large'],
      [await issue({ ttl_seconds: 0 }), 422, 'auth_token_ttl_too_large'],
      [await issue({}, {}), 401, 'auth_token_invalid'],
      [await issue({}, { 'X-MTrace-Token': 'nope' }), 401, 'auth_token_invalid'],
      [await issue({ colour: 'red' }), 400, 'invalid_request'],
    ];
    for (const [res, status, code] of cases) {
      assert.equal(res.status, status, res.text());
      assert.equal(res.json().status, 'error');
      assert.equal(res.json().code, code);
    }
    // A default TTL (max_ttl) without a body.
    const d = (await issue(undefined)).json().session_token;
    assert.ok(Math.abs(Date.parse(d.expires_at) - (Date.now() + 600000)) < 5000);
    // The issuance quota: 30 per project, then 429 with Retry-After.
    let limited;
    for (let i = 0; i < 40 && !limited; i++) {
      const x = await issue({});
      if (x.status === 429) limited = x;
    }
    assert.ok(limited, 'no 429 within 40 issuances');
    assert.equal(limited.json().code, 'auth_issuance_rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  } finally {
    assert.equal((await server.stop()).code, 0);
    removeTempRoot(server.root);
  }
});

test('without a key ring there is no issuing route and session tokens are 401', async () => {
  const server = await startServer({});
  this_server = server;
  try {
    const r = await request(`${server.http}/api/auth/session-tokens`, {
      method: 'POST', headers: { 'X-MTrace-Token': 'demo-token' }, body: '{}',
    });
    assert.equal(r.status, 404);
    assert.equal((await beacon('s', { Authorization: 'Bearer mtr_st_a.b.c' })).status, 401);
  } finally {
    assert.equal((await server.stop()).code, 0);
    removeTempRoot(server.root);
  }
});

test('a bad key ring stops the server at startup with a clear message', async () => {
  await assert.rejects(
    startServer({ config: { player: { session_tokens: { keys: ['k1:c2hvcnQ='], active_kid: 'k1' } } } }),
    /player\.session_tokens.*at least 32/s);
});
