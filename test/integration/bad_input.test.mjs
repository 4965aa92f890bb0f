// Bad input on the OTLP/HTTP front door: a table of malformed, oversized and mis-labelled requests,
// each with the status it must get and a pattern its error message must match. Valid requests are
// interleaved to show that good data still gets in; afterwards the data acknowledged before and
// during the table is intact, nothing from rejected requests was stored, the server is alive and
// a graceful stop exits 0.
//
// Run: node --test test/integration/bad_input.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';

import {
  PbWriter,
  attrs,
  decodePartialSuccess,
  encodeKeyValues,
  encodeTraceRequest,
  getJson,
  makeTrace,
  postOtlp,
  randomHex,
  removeTempRoot,
  request,
  responseMessage,
  spanIdsOf,
  startServer,
} from './harness.mjs';

const MAX_BODY = 1 << 20;  // otlp_http.max_body_bytes for this server
const BOMB_BYTES = 200 * 1024 * 1024;
const PB = 'application/x-protobuf';
const JSON_CT = 'application/json';

let server;
const mustExist = [];   // {traceId, spanIds, why}
const mustNotExist = [];  // {traceId, why}

before(async () => {
  server = await startServer({
    config: { otlp_http: { max_body_bytes: MAX_BODY }, log: { level: 'warn' } },
  });
});

after(async () => {
  if (!server) return;
  const { root } = server;
  const st = await server.stop();
  const tail = server.logTail();
  server = null;
  removeTempRoot(root);
  assert.equal(st.code, 0, `graceful stop: ${JSON.stringify(st)}\n${tail}`);
});

// ---------------------------------------------------------------------------------------------
// Bodies.

const hasZstd = spawnSync('zstd', ['--version']).status === 0;
function zstdCompress(buf) {
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: buf, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout;
}

let bombCache;
function bombs() {
  if (!bombCache) {
    const zeros = Buffer.alloc(BOMB_BYTES);
    bombCache = {
      gzip: zlib.gzipSync(zeros, { level: 1 }),
      deflate: zlib.deflateSync(zeros, { level: 1 }),
      zstd: hasZstd ? zstdCompress(zeros) : null,
    };
  }
  return bombCache;
}

// A valid trace sent as protobuf/JSON; remembers whether it must or must not be stored.
function pbTrace(service, n = 2) {
  const t = makeTrace({ service, n });
  return { ...t, body: encodeTraceRequest(t.req), json: Buffer.from(JSON.stringify(t.req)) };
}

// ExportTraceServiceRequest with one resource/scope and the given raw Span message bodies.
function wrapSpans(spanBodies, service = 'it-bad-input') {
  const w = new PbWriter();
  w.message(1, (rs) => {
    rs.message(1, (r) => encodeKeyValues(r, 1, attrs({ 'service.name': service })));
    rs.message(2, (ss) => {
      for (const b of spanBodies) ss.bytes(2, b);
    });
  });
  return w.finish();
}

// A Span message with the usual fields; `mutate(w)` adds or replaces fields at the end.
function spanBody({ traceId = randomHex(16), spanId = randomHex(8), name = 'op', nameBytes, extra } = {}) {
  const w = new PbWriter();
  w.bytes(1, Buffer.from(traceId, 'hex'));
  w.bytes(2, Buffer.from(spanId, 'hex'));
  if (nameBytes) w.bytes(5, nameBytes);
  else w.string(5, name);
  w.varint(6, 1);
  const now = BigInt(Date.now()) * 1000000n;
  w.fixed64(7, now - 1000000n);
  w.fixed64(8, now);
  extra?.(w);
  return w.finish();
}

// AnyValue nested `depth` levels deep as array_value{values:[...]} around a string, written
// front to back (a naive bottom-up concat would be quadratic).
function deeplyNestedAnyValue(depth) {
  const vlen = (n) => {
    let l = 1;
    while (n >= 0x80) {
      n = Math.floor(n / 128);
      l++;
    }
    return l;
  };
  const anyLen = new Array(depth + 1);
  const arrLen = new Array(depth);
  anyLen[depth] = 3;  // {string_value: "x"}
  for (let k = depth - 1; k >= 0; k--) {
    arrLen[k] = 1 + vlen(anyLen[k + 1]) + anyLen[k + 1];
    anyLen[k] = 1 + vlen(arrLen[k]) + arrLen[k];
  }
  const out = Buffer.alloc(anyLen[0]);
  let i = 0;
  const putVarint = (n) => {
    while (n >= 0x80) {
      out[i++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    out[i++] = n;
  };
  for (let k = 0; k < depth; k++) {
    out[i++] = 0x2a;  // AnyValue.array_value (5, LEN)
    putVarint(arrLen[k]);
    out[i++] = 0x0a;  // ArrayValue.values (1, LEN)
    putVarint(anyLen[k + 1]);
  }
  out[i++] = 0x0a;
  out[i++] = 1;
  out[i++] = 0x78;  // "x"
  assert.equal(i, out.length);
  return out;
}

function deeplyNestedJson(depth, traceId) {
  const open = '{"arrayValue":{"values":['.repeat(depth);
  const close = ']}}'.repeat(depth);
  const now = BigInt(Date.now()) * 1000000n;
  return Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${traceId}","spanId":"${randomHex(8)}",` +
    `"name":"deep","startTimeUnixNano":"${now - 1000n}","endTimeUnixNano":"${now}",` +
    `"attributes":[{"key":"deep","value":${open}{"stringValue":"x"}${close}}]}]}]}]}`);
}

function jsonTraceWith(mutateSpan, { extraValidSpan = false } = {}) {
  const t = makeTrace({ service: 'it-bad-json', n: 1 });
  const spans = t.req.resourceSpans[0].scopeSpans[0].spans;
  mutateSpan(spans[0]);
  let valid;
  if (extraValidSpan) {
    valid = makeTrace({ service: 'it-bad-json', n: 1 });
    spans.push(valid.req.resourceSpans[0].scopeSpans[0].spans[0]);
  }
  return { t, valid, body: Buffer.from(JSON.stringify(t.req)) };
}

// ---------------------------------------------------------------------------------------------
// The table. expect: {status, message?, partial?: {rejected, message}} or oneOf for rows where
// two answers are both correct (e.g. 400 or partial success).

const ERR_TRUNC = /exceeds the remaining|truncat|unexpected end|end of (input|buffer|data|message)|incomplete|too short|premature|eof/i;
const ERR_LIMIT = /limit|too large|too big|exceed|max_body_bytes|maximum|size/i;

const rows = [];
const row = (name, spec) => rows.push({ name, ...spec });

// -- valid requests first: "earlier accepted data" ---------------------------------------------
{
  const t = pbTrace('it-bad-input-ok', 3);
  row('valid protobuf (before the table)', { send: () => postOtlp(server.otlp, 'traces', t.body), expect: { status: 200 }, stored: t });
  const j = pbTrace('it-bad-input-ok', 2);
  row('valid JSON with charset parameter', {
    send: () => postOtlp(server.otlp, 'traces', j.json, { contentType: 'application/json; charset=utf-8' }),
    expect: { status: 200 },
    stored: j,
  });
}

// -- malformed protobuf ---------------------------------------------------------------------------
{
  const t = pbTrace('it-bad-input');
  row('truncated protobuf', {
    send: () => postOtlp(server.otlp, 'traces', t.body.subarray(0, t.body.length - 7)),
    expect: { status: 400, message: ERR_TRUNC },
    notStored: t,
  });
}
row('wrong wire type at the top (resource_spans as varint)', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.from([0x08, 0x05])),
  expect: { status: 400, message: /wire.?type/i },
});
{
  const traceId = randomHex(16);
  const body = wrapSpans([spanBody({ traceId, extra: (w) => w.varint(5, 7) })]);  // Span.name as varint
  row('wrong wire type deep inside (Span.name as varint)', {
    send: () => postOtlp(server.otlp, 'traces', body),
    expect: { status: 400, message: /wire.?type/i },
    notStored: { traceId },
  });
}
row('huge length prefix (2^64-1)', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.concat([Buffer.from([0x0a]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Buffer.alloc(16, 0x0a)])),
  expect: { status: 400, message: /length|truncat|exceed|bounds|overflow|too (large|long)|invalid/i },
});
row('length prefix 2^31 on a 20-byte body', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08]), Buffer.alloc(14, 0x0a)])),
  expect: { status: 400, message: /length|truncat|exceed|bounds|overflow|too (large|long)|invalid/i },
});
row('varint longer than 10 bytes', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.alloc(12, 0xff)),
  expect: { status: 400, message: /varint|overflow|too long|malformed|invalid/i },
});
{
  const traceId = randomHex(16);
  const body = wrapSpans([spanBody({ traceId, nameBytes: Buffer.from([0x63, 0xff, 0xfe, 0x64]) })]);
  row('invalid UTF-8 in a span name', {
    send: () => postOtlp(server.otlp, 'traces', body),
    expect: { oneOf: [{ status: 400, message: /utf-?8/i }, { status: 200, partial: { rejected: 1, message: /utf-?8/i } }] },
    notStored: { traceId },
  });
}
{
  const w = new PbWriter();
  w.bytes(1, Buffer.alloc(15, 0x11));  // 15-byte trace id
  w.bytes(2, Buffer.alloc(8, 0x22));
  w.string(5, 'short-id');
  const body = wrapSpans([w.finish()]);
  row('15-byte trace id', {
    send: () => postOtlp(server.otlp, 'traces', body),
    expect: { oneOf: [{ status: 400, message: /trace.?id/i }, { status: 200, partial: { rejected: 1, message: /trace.?id/i } }] },
  });
}
{
  const valid = { traceId: randomHex(16), spanId: randomHex(8) };
  const body = wrapSpans([spanBody({ traceId: '00'.repeat(16) }), spanBody(valid)]);
  row('zero trace id next to a valid span (protobuf) -> partial success', {
    send: () => postOtlp(server.otlp, 'traces', body),
    expect: { status: 200, partial: { rejected: 1, message: /trace.?id/i } },
    stored: { traceId: valid.traceId, spanIds: [valid.spanId] },
  });
}
{
  const valid = { traceId: randomHex(16), spanId: randomHex(8) };
  const zeroSpan = randomHex(16);
  const body = wrapSpans([spanBody({ traceId: zeroSpan, spanId: '00'.repeat(8) }), spanBody(valid)]);
  row('zero span id next to a valid span -> partial success', {
    send: () => postOtlp(server.otlp, 'traces', body),
    expect: { status: 200, partial: { rejected: 1, message: /span.?id/i } },
    stored: { traceId: valid.traceId, spanIds: [valid.spanId] },
    notStored: { traceId: zeroSpan },
  });
}
{
  const traceId = randomHex(16);
  const nested = deeplyNestedAnyValue(100000);
  const body = wrapSpans([spanBody({
    traceId,
    name: 'deep-pb',
    extra: (w) => w.message(9, (kv) => {
      kv.string(1, 'deep');
      kv.bytes(2, nested);
    }),
  })]);
  row(`AnyValue nested 100000 deep (${Math.round(body.length / 1024)} KiB protobuf): no crash`, {
    send: () => postOtlp(server.otlp, 'traces', body),
    expect: { oneOf: [{ status: 400, message: /depth|nest|deep|recurs/i }, { status: 200 }] },
    readBack: traceId,  // if accepted, reading it back must not crash the server either
  });
}

// -- malformed JSON -------------------------------------------------------------------------------
row('JSON syntax error', {
  json: true,
  send: () => postOtlp(server.otlp, 'traces', Buffer.from('{"resourceSpans": [{"scopeSpans": ['), { contentType: JSON_CT }),
  expect: { status: 400, message: /json|syntax|parse|unexpected|unclosed|incomplete/i },
});
{
  const j = jsonTraceWith((s) => { s.traceId = 'zz'.repeat(16); });
  row('JSON traceId that is not hex', {
    json: true,
    send: () => postOtlp(server.otlp, 'traces', j.body, { contentType: JSON_CT }),
    expect: { oneOf: [{ status: 400, message: /trace.?id|hex/i }, { status: 200, partial: { rejected: 1, message: /trace.?id|hex/i } }] },
    notStored: j.t,
  });
}
{
  const j = jsonTraceWith((s) => { s.spanId = 'abcd'; });
  row('JSON spanId of the wrong length', {
    json: true,
    send: () => postOtlp(server.otlp, 'traces', j.body, { contentType: JSON_CT }),
    expect: { oneOf: [{ status: 400, message: /span.?id|length|hex/i }, { status: 200, partial: { rejected: 1, message: /span.?id|length|hex/i } }] },
    notStored: j.t,
  });
}
row('JSON "spans": 5', {
  json: true,
  send: () => postOtlp(server.otlp, 'traces', Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":5}]}]}'), { contentType: JSON_CT }),
  expect: { status: 400, message: /spans|array|expected/i },
});
row('JSON "resourceSpans": "x"', {
  json: true,
  send: () => postOtlp(server.otlp, 'traces', Buffer.from('{"resourceSpans":"x"}'), { contentType: JSON_CT }),
  expect: { status: 400, message: /resourceSpans|array|expected/i },
});
{
  const j = jsonTraceWith((s) => { s.startTimeUnixNano = 'soon'; });
  row('JSON startTimeUnixNano "soon"', {
    json: true,
    send: () => postOtlp(server.otlp, 'traces', j.body, { contentType: JSON_CT }),
    expect: { status: 400, message: /startTimeUnixNano|integer|number/i },
    notStored: j.t,
  });
}
{
  const j = jsonTraceWith((s) => { s.attributes = [{ key: 'n', value: { intValue: 'abc' } }]; });
  row('JSON intValue "abc"', {
    json: true,
    send: () => postOtlp(server.otlp, 'traces', j.body, { contentType: JSON_CT }),
    expect: { status: 400, message: /intValue|integer|number/i },
    notStored: j.t,
  });
}
{
  const j = jsonTraceWith((s) => { s.traceId = '0'.repeat(32); }, { extraValidSpan: true });
  row('JSON zero trace id next to a valid span -> partial success', {
    json: true,
    send: () => postOtlp(server.otlp, 'traces', j.body, { contentType: JSON_CT }),
    expect: { status: 200, partial: { rejected: 1, message: /trace.?id/i } },
    stored: j.valid,
  });
}
{
  const traceId = randomHex(16);
  const body = deeplyNestedJson(20000, traceId);
  row(`JSON AnyValue nested 20000 deep (${Math.round(body.length / 1024)} KiB): no crash`, {
    json: true,
    send: () => postOtlp(server.otlp, 'traces', body, { contentType: JSON_CT }),
    expect: { oneOf: [{ status: 400, message: /depth|nest|deep|recurs/i }, { status: 200 }] },
    readBack: traceId,
  });
}

// -- HTTP level -----------------------------------------------------------------------------------
{
  const t = pbTrace('it-bad-input');
  row('wrong content type (text/plain) -> 415', {
    send: () => postOtlp(server.otlp, 'traces', t.body, { contentType: 'text/plain' }),
    expect: { status: 415, message: /content.?type|media type|text\/plain/i },
    notStored: t,
  });
  row('no content type -> 415', {
    send: () => request(`${server.otlp}/v1/traces`, { method: 'POST', body: t.body }),
    expect: { status: 415, message: /content.?type|media type/i },
    notStored: t,
  });
}
row('GET /v1/traces -> 405', {
  send: () => request(`${server.otlp}/v1/traces`),
  expect: { status: 405, message: /method|GET|POST/i },
});
row('PUT /v1/logs -> 405', {
  send: () => request(`${server.otlp}/v1/logs`, { method: 'PUT', headers: { 'Content-Type': PB }, body: Buffer.alloc(0) }),
  expect: { status: 405 },
});
row('unknown path /v1/profiles-ish -> 404', {
  send: () => postOtlp(server.otlp, 'nope', Buffer.alloc(0)),
  expect: { status: 404 },
});
{
  const t = pbTrace('it-bad-input');
  row('unsupported Content-Encoding (br)', {
    send: () => postOtlp(server.otlp, 'traces', t.body, { encoding: 'br' }),
    expect: { oneOf: [{ status: 415, message: /encoding|br/i }, { status: 400, message: /encoding|br/i }] },
    notStored: t,
  });
  row('corrupt gzip body', {
    send: () => postOtlp(server.otlp, 'traces', t.body, { encoding: 'gzip' }),
    expect: { status: 400, message: /gzip|decompress|compress|inflate|header/i },
    notStored: t,
  });
}
row('raw body over max_body_bytes (Content-Length) -> 413', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.alloc(MAX_BODY + 4096, 0x0a)),
  expect: { status: 413, message: ERR_LIMIT },
});
row('raw body over max_body_bytes (chunked, no Content-Length) -> 413', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.alloc(MAX_BODY * 2, 0x0a), { chunked: true }),
  expect: { status: 413, message: ERR_LIMIT },
});
// OTLP/HTTP: the answer uses the request's Content-Type, and failures carry google.rpc.Status,
// also when the HTTP layer refuses the body before decoding.
row('413 for a protobuf request is a protobuf google.rpc.Status (Content-Length)', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.alloc(MAX_BODY + 4096, 0x0a)),
  expect: { status: 413, message: ERR_LIMIT, contentType: /application\/x-protobuf/ },
});
row('413 for a protobuf request is a protobuf google.rpc.Status (chunked)', {
  send: () => postOtlp(server.otlp, 'traces', Buffer.alloc(MAX_BODY * 2, 0x0a), { chunked: true }),
  expect: { status: 413, message: ERR_LIMIT, contentType: /application\/x-protobuf/ },
});
row(`gzip bomb (${BOMB_BYTES >> 20} MiB of zeros) -> 413`, {
  send: () => postOtlp(server.otlp, 'traces', bombs().gzip, { encoding: 'gzip' }),
  expect: { status: 413, message: ERR_LIMIT, contentType: /application\/x-protobuf/ },
  rssBelowKb: 256 * 1024,
});
row(`deflate bomb (${BOMB_BYTES >> 20} MiB of zeros) -> 413`, {
  send: () => postOtlp(server.otlp, 'traces', bombs().deflate, { encoding: 'deflate' }),
  expect: { status: 413, message: ERR_LIMIT },
  rssBelowKb: 256 * 1024,
});
if (hasZstd) {
  row(`zstd bomb (${BOMB_BYTES >> 20} MiB of zeros) -> 413`, {
    send: () => postOtlp(server.otlp, 'traces', bombs().zstd, { encoding: 'zstd' }),
    expect: { status: 413, message: ERR_LIMIT },
    rssBelowKb: 256 * 1024,
  });
}

// -- valid requests with every encoding, after the bad ones ---------------------------------------
{
  const g = pbTrace('it-bad-input-ok');
  row('valid gzip protobuf', { send: () => postOtlp(server.otlp, 'traces', zlib.gzipSync(g.body), { encoding: 'gzip' }), expect: { status: 200 }, stored: g });
  const d = pbTrace('it-bad-input-ok');
  row('valid deflate (zlib) protobuf', { send: () => postOtlp(server.otlp, 'traces', zlib.deflateSync(d.body), { encoding: 'deflate' }), expect: { status: 200 }, stored: d });
  if (hasZstd) {
    const z = pbTrace('it-bad-input-ok');
    row('valid zstd protobuf', { send: () => postOtlp(server.otlp, 'traces', zstdCompress(z.body), { encoding: 'zstd' }), expect: { status: 200 }, stored: z });
  }
  const c = pbTrace('it-bad-input-ok');
  row('valid chunked protobuf (as the OTel exporters send)', { send: () => postOtlp(server.otlp, 'traces', c.body, { chunked: true }), expect: { status: 200 }, stored: c });
  const gj = pbTrace('it-bad-input-ok');
  row('valid gzip JSON', { send: () => postOtlp(server.otlp, 'traces', zlib.gzipSync(gj.json), { contentType: JSON_CT, encoding: 'gzip' }), expect: { status: 200 }, stored: gj });
  // A body just under the limit after decompression is fine.
  const big = makeTrace({ service: 'it-bad-input-ok', n: 1, attributes: { pad: 'p'.repeat(MAX_BODY - 2048) } });
  const bigBody = encodeTraceRequest(big.req);
  row(`valid gzip protobuf of ${bigBody.length} bytes (just under the limit)`, {
    send: () => postOtlp(server.otlp, 'traces', zlib.gzipSync(bigBody), { encoding: 'gzip' }),
    expect: { status: 200 },
    stored: big,
  });
}
row('empty protobuf body -> 200', { send: () => postOtlp(server.otlp, 'traces', Buffer.alloc(0)), expect: { status: 200 } });
row('empty JSON object -> 200', { send: () => postOtlp(server.otlp, 'traces', Buffer.from('{}'), { contentType: JSON_CT }), expect: { status: 200 } });
row('empty metrics and logs requests -> 200', {
  send: async () => {
    const m = await postOtlp(server.otlp, 'metrics', Buffer.alloc(0));
    const l = await postOtlp(server.otlp, 'logs', Buffer.from('{"resourceLogs":[]}'), { contentType: JSON_CT });
    return m.status === 200 ? l : m;
  },
  expect: { status: 200 },
});

// ---------------------------------------------------------------------------------------------

function partialOf(res) {
  const ct = String(res.headers['content-type'] ?? '');
  if (ct.includes('json')) {
    if (res.body.length === 0) return { present: false, rejected: 0, errorMessage: '' };
    const ps = JSON.parse(res.body.toString('utf8')).partialSuccess;
    if (!ps) return { present: false, rejected: 0, errorMessage: '' };
    return { present: true, rejected: Number(ps.rejectedSpans ?? ps.rejectedDataPoints ?? ps.rejectedLogRecords ?? 0), errorMessage: ps.errorMessage ?? '' };
  }
  return decodePartialSuccess(res.body);
}

function matches(res, exp) {
  const why = [];
  if (res.status !== exp.status) why.push(`status ${res.status}, want ${exp.status}`);
  if (exp.contentType && !exp.contentType.test(String(res.headers['content-type']))) {
    why.push(`content type ${res.headers['content-type']}, want ${exp.contentType}`);
  }
  if (exp.message) {
    const msg = responseMessage(res);
    if (!exp.message.test(msg)) why.push(`message ${JSON.stringify(msg.slice(0, 300))} does not match ${exp.message}`);
  }
  if (exp.status === 200) {
    let ps;
    try {
      ps = partialOf(res);
    } catch (err) {
      why.push(`undecodable 200 body (${err.message})`);
    }
    if (ps && exp.partial) {
      if (!ps.present || ps.rejected !== exp.partial.rejected) why.push(`partial_success ${JSON.stringify(ps)}, want rejected=${exp.partial.rejected}`);
      if (exp.partial.message && !exp.partial.message.test(ps.errorMessage)) why.push(`partial error_message ${JSON.stringify(ps.errorMessage)} does not match ${exp.partial.message}`);
    } else if (ps && ps.rejected) {
      why.push(`unexpected partial_success ${JSON.stringify(ps)}`);
    }
  }
  return why;
}

test('bad-input table', { timeout: 100000 }, async (t) => {
  for (const r of rows) {
    await t.test(r.name, { todo: r.todo }, async (st) => {
      assert.ok(server.alive(), 'server is down (it died on an earlier row)');
      let res;
      try {
        res = await r.send();
      } catch (err) {
        throw new Error(`${r.name}: ${err.code ?? err.message}; server alive: ${server.alive()}\n${server.logTail()}`);
      }
      st.diagnostic(`${res.status} ${responseMessage(res).slice(0, 200)}`);
      const options = r.expect.oneOf ?? [r.expect];
      const failures = options.map((exp) => matches(res, exp));
      const ok = failures.some((f) => f.length === 0);
      assert.ok(ok, `${r.name}: ${failures.map((f) => f.join('; ')).join(' | OR | ')}`);
      // Errors answer in the request's own content type (OTLP/HTTP spec).
      if (res.status === 400) {
        const ct = String(res.headers['content-type'] ?? '');
        assert.match(ct, r.json ? /application\/json/ : /application\/x-protobuf/, `content type of the 400 answer: ${ct}`);
      }
      assert.ok(server.alive(), `server died on "${r.name}":\n${server.logTail()}`);
      if (r.rssBelowKb) {
        const kb = server.rssKb();
        assert.ok(kb < r.rssBelowKb, `RSS ${kb} kB after "${r.name}" (limit ${r.rssBelowKb} kB): body buffered beyond max_body_bytes?`);
      }
      if (r.stored && res.status === 200) mustExist.push({ ...r.stored, why: r.name });
      // Rows with notStored only pass when the data was rejected (400/415/... or partial success).
      if (r.notStored) mustNotExist.push({ traceId: r.notStored.traceId, why: r.name });
      if (r.readBack && res.status === 200) {
        const back = await getJson(`${server.http}/api/v1/traces/${r.readBack}`);
        assert.ok(server.alive(), `server died reading back "${r.name}":\n${server.logTail()}`);
        assert.equal(back.status, 200, `read back of ${r.name}: ${back.raw.slice(0, 200)}`);
      }
    });
  }
});

test('after the table: accepted data intact, rejected data absent, a new request succeeds', async () => {
  assert.ok(server.alive(), 'server still running');
  const fresh = pbTrace('it-bad-input-ok', 4);
  const res = await postOtlp(server.otlp, 'traces', fresh.body);
  assert.equal(res.status, 200);
  mustExist.push({ ...fresh, why: 'final valid request' });

  assert.ok(mustExist.length >= 8, 'the valid rows were recorded');
  for (const e of mustExist) {
    const back = await getJson(`${server.http}/api/v1/traces/${e.traceId}`);
    assert.equal(back.status, 200, `${e.why}: trace ${e.traceId} -> ${back.status} ${back.raw.slice(0, 200)}`);
    assert.deepEqual(spanIdsOf(back.body.resourceSpans).sort(), [...e.spanIds].sort(), `${e.why}: span ids`);
  }
  for (const e of mustNotExist) {
    const back = await getJson(`${server.http}/api/v1/traces/${e.traceId}`);
    assert.equal(back.status, 404, `${e.why}: data from a rejected request is readable (trace ${e.traceId})`);
  }

  const metrics = await (await fetch(`${server.http}/metrics`)).text();
  const rejected = [...metrics.matchAll(/^avtrace_otlp_http_rejected_total(?:\{[^}]*\})?\s+(\S+)/gm)].map((m) => Number(m[1]));
  assert.ok(rejected.reduce((a, b) => a + b, 0) > 0, 'avtrace_otlp_http_rejected_total counts the rejections');
});
