// Real OpenTelemetry JS SDK -> avtrace -> query API, compared field by field.
//
// sdk_emit.mjs sends traces (exporter-trace-otlp-proto with gzip, and exporter-trace-otlp-http
// JSON), metrics (counter, up-down counter, histogram with explicit buckets, observable gauge) and
// logs (string and structured bodies, inside an active span) and returns the SDK's own OTLP/JSON
// serialisation of what it sent. This file reads all of it back and compares.
//
// Run: node --test test/integration/otel_sdk.test.mjs   (AVTRACE_BIN overrides the binary)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  flattenLogs,
  flattenSpans,
  getJson,
  getOk,
  normAnyValue,
  randomHex,
  removeTempRoot,
  startServer,
} from './harness.mjs';
import { EXP_HISTOGRAM, HISTOGRAM, emitTelemetry } from './sdk_emit.mjs';

// Query-parameter encodings of the query API (one place, in case the API's formats change).
const q = {
  time: (unixNanos) => String(unixNanos),            // start= / end=: Unix nanoseconds
  duration: (ms) => String(BigInt(ms) * 1000000n),   // minDuration= / maxDuration=: nanoseconds
  step: (seconds) => `${seconds}s`,                  // step=: duration
};

let server;
let sent;
const runId = randomHex(6);
const baseMs = Date.now() - 120000;  // two minutes ago: inside the default query windows
const baseNanos = (ms) => BigInt(baseMs) * 1000000n + 123457n + BigInt(ms) * 1000000n;

before(async () => {
  server = await startServer({
    config: {
      log: { level: 'warn' },
      storage: { indexed_attributes: ['service.name', 'test.run.id', 'http.route'] },
    },
  });
  sent = await emitTelemetry(server.otlp, { runId, baseMs });
});

after(async () => {
  if (!server) return;
  const { root } = server;
  const tail = server.logTail();
  const st = await server.stop();
  server = null;
  removeTempRoot(root);
  assert.equal(st.escalated, false, 'server did not exit within 30 s of SIGTERM');
  assert.equal(st.code, 0, `server exit status after SIGTERM: ${JSON.stringify(st)}\n${tail}`);
});

// traceId -> Map(spanId -> {resource, scope, span}) of what the SDK sent for `service`.
function expectedTraces(service) {
  const flat = flattenSpans(sent.traces[service].expected.resourceSpans);
  const byTrace = new Map();
  for (const [spanId, entry] of flat) {
    if (!byTrace.has(entry.span.traceId)) byTrace.set(entry.span.traceId, new Map());
    byTrace.get(entry.span.traceId).set(spanId, entry);
  }
  return byTrace;
}

const api = (path) => `${server.http}${path}`;
const traceIdOf = (service, role) => sent.traces[service].spans[role].spanContext().traceId;

function attrMap(normAttrs) {
  return new Map(normAttrs);
}

async function searchTraces(params) {
  const qs = new URLSearchParams(params);
  const body = await getOk(api(`/api/v1/traces?${qs}`));
  assert.ok(Array.isArray(body.traces), `traces array in ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

async function searchIds(params) {
  return new Set((await searchTraces({ limit: '100', ...params })).traces.map((t) => t.traceId.toLowerCase()));
}

describe('traces', () => {
  for (const service of ['it-sdk-proto', 'it-sdk-json']) {
    test(`${service}: every span read back equals what the SDK sent`, async () => {
      const expected = expectedTraces(service);
      assert.ok(expected.size >= 2, 'SDK sent at least two traces');
      for (const [traceId, spans] of expected) {
        const body = await getOk(api(`/api/v1/traces/${traceId}`));
        assert.equal(String(body.traceId).toLowerCase(), traceId);
        const got = flattenSpans(body.resourceSpans);
        assert.deepEqual([...got.keys()].sort(), [...spans.keys()].sort(), `span ids of trace ${traceId}`);
        for (const [spanId, want] of spans) {
          const have = got.get(spanId);
          assert.deepEqual(have.span, want.span, `span ${want.span.name} (${spanId})`);
          assert.deepEqual(have.resource, want.resource, `resource of span ${want.span.name}`);
          assert.deepEqual(have.scope, want.scope, `scope of span ${want.span.name}`);
        }
      }
    });

    test(`${service}: attribute types, events, links, status and kinds survive`, async () => {
      const root = sent.traces[service].spans.root.spanContext();
      const body = await getOk(api(`/api/v1/traces/${root.traceId}`));
      const spans = [...flattenSpans(body.resourceSpans).values()].map((e) => e.span);
      const byName = new Map(spans.map((s) => [s.name, s]));
      const checkout = byName.get('checkout');
      assert.ok(checkout, 'root span present');
      const a = attrMap(checkout.attributes);
      assert.deepEqual(a.get('str'), { s: 'hello wörld ✓' });
      assert.deepEqual(a.get('str.empty'), { s: '' });
      assert.deepEqual(a.get('str.escapes'), { s: 'quote" back\\slash\nnew line\ttab\u0000nul\u001fctl \u2028 😀 \u00e9' }, 'JSON escapes');
      assert.deepEqual(a.get('bool.true'), { b: true });
      assert.deepEqual(a.get('bool.false'), { b: false });
      assert.deepEqual(a.get('int'), { i: '42' });
      assert.deepEqual(a.get('int.zero'), { i: '0' });
      assert.deepEqual(a.get('int.neg'), { i: '-7' });
      assert.deepEqual(a.get('int.max_safe'), { i: String(Number.MAX_SAFE_INTEGER) });
      assert.deepEqual(a.get('double'), { d: 3.25 });
      assert.deepEqual(a.get('double.neg'), { d: -0.5 });
      assert.deepEqual(a.get('double.tiny'), { d: 1e-9 });
      assert.deepEqual(a.get('arr.str'), { a: [{ s: 'a' }, { s: 'b' }, { s: '' }] });
      assert.deepEqual(a.get('arr.bool'), { a: [{ b: true }, { b: false }, { b: true }] });
      assert.deepEqual(a.get('arr.int'), { a: [{ i: '1' }, { i: '-2' }, { i: '3' }] });
      assert.deepEqual(a.get('arr.double'), { a: [{ d: 1.5 }, { d: 2.25 }, { d: -0.125 }] });
      assert.equal(checkout.kind, 2, 'SERVER');
      assert.equal(checkout.parentSpanId, '');
      assert.equal(checkout.startTimeUnixNano, String(baseNanos(0)), 'nanosecond start time');
      assert.equal(checkout.endTimeUnixNano, String(baseNanos(1500)));
      assert.deepEqual(checkout.events, [{
        timeUnixNano: String(baseNanos(10)),
        name: 'cart.loaded',
        attributes: [
          ['cart.currency', { s: 'EUR' }],
          ['cart.flags', { a: [{ b: true }, { b: false }] }],
          ['cart.items', { i: '3' }],
          ['cart.total', { d: 19.99 }],
        ],
        droppedAttributesCount: 0,
      }]);

      const db = byName.get('db.query');
      assert.equal(db.kind, 3, 'CLIENT');
      assert.equal(db.parentSpanId, root.spanId);
      assert.deepEqual(db.status, { code: 2, message: 'connection reset by peer' });
      assert.deepEqual(db.events.map((e) => e.name), ['exception', 'retry']);
      assert.deepEqual(attrMap(db.events[1].attributes).get('retry.backoff'), { d: 0.25 });

      const cache = byName.get('cache.lookup');
      assert.equal(cache.kind, 1, 'INTERNAL');
      assert.equal(cache.status.code, 1, 'OK');

      const publish = byName.get('publish');
      assert.equal(publish.kind, 4, 'PRODUCER');
      assert.equal(publish.links.length, 1);
      assert.equal(publish.links[0].traceId, root.traceId);
      assert.equal(publish.links[0].spanId, db.spanId);
      assert.deepEqual(publish.links[0].attributes, [['link.reason', { s: 'caused-by' }], ['link.weight', { d: 0.5 }]]);

      // Span limits on the SDK side: what was dropped is counted, and the counts survive.
      const overflow = byName.get('overflow');
      assert.equal(overflow.attributes.length, 40);
      assert.equal(overflow.droppedAttributesCount, 5);
      assert.equal(overflow.events.length, 4);
      assert.equal(overflow.droppedEventsCount, 2);
      assert.equal(overflow.links.length, 2);
      assert.equal(overflow.droppedLinksCount, 1);

      // The consumer span is in its own trace and links back across traces.
      const consumeCtx = sent.traces[service].spans.consume.spanContext();
      const other = await getOk(api(`/api/v1/traces/${consumeCtx.traceId}`));
      const [consume] = [...flattenSpans(other.resourceSpans).values()].map((e) => e.span);
      assert.equal(consume.kind, 5, 'CONSUMER');
      assert.equal(consume.links[0].traceId, root.traceId);
      assert.equal(consume.links[0].spanId, publish.spanId);

      // Continued from a remote parent with a tracestate: span flags 0x100 (has is-remote) |
      // 0x200 (parent is remote) | 0x01 (sampled); the local child has 0x101.
      const remoteCtx = sent.traces[service].spans.remote.spanContext();
      const rt = await getOk(api(`/api/v1/traces/${remoteCtx.traceId}`));
      const rspans = new Map([...flattenSpans(rt.resourceSpans).values()].map((e) => [e.span.name, e.span]));
      const rc = rspans.get('remote.child');
      assert.equal(rc.flags, 0x301);
      assert.equal(rc.traceState, 'vendor=abc,other=x:y');
      assert.equal(rc.parentSpanId.length, 16);
      const gc = rspans.get('remote.grandchild');
      assert.equal(gc.flags, 0x101);
      assert.equal(gc.traceState, 'vendor=abc,other=x:y');
      assert.equal(gc.parentSpanId, rc.spanId);
    });
  }

  test('unknown trace id -> 404, malformed id -> 400, both with an error body', async () => {
    const missing = await getJson(api(`/api/v1/traces/${randomHex(16)}`));
    assert.equal(missing.status, 404, missing.raw);
    assert.ok(missing.body?.error?.message, `error.message in ${missing.raw}`);
    assert.ok(missing.body.error.code !== undefined, `error.code in ${missing.raw}`);
    const bad = await getJson(api('/api/v1/traces/not-a-hex-id'));
    assert.equal(bad.status, 400, bad.raw);
    assert.ok(bad.body?.error?.message, `error.message in ${bad.raw}`);
  });
});

describe('trace search', () => {
  test('by service: summaries of the four it-sdk-proto traces', async () => {
    const svc = 'it-sdk-proto';
    const body = await searchTraces({ service: svc, limit: '100' });
    const ids = body.traces.map((t) => t.traceId.toLowerCase());
    const checkoutId = traceIdOf(svc, 'root');
    const consumeId = traceIdOf(svc, 'consume');
    const logParentId = sent.logParent.spanContext().traceId;
    const remoteId = traceIdOf(svc, 'remote');
    assert.deepEqual(new Set(ids), new Set([checkoutId, consumeId, logParentId, remoteId]));
    for (const t of body.traces) assert.equal(t.rootServiceName, svc);

    const checkout = body.traces.find((t) => t.traceId.toLowerCase() === checkoutId);
    assert.equal(checkout.rootSpanName, 'checkout');
    assert.equal(String(checkout.startTimeUnixNano), String(baseNanos(0)),
      'startTimeUnixNano exact (a JSON number would lose nanoseconds: send a string)');
    assert.equal(Number(checkout.durationNanos), 1.5e9);
    assert.equal(Number(checkout.spanCount), 5);
    assert.equal(Number(checkout.errorCount), 1);
    assert.deepEqual(checkout.services, [svc]);

    // A trace whose root was never received: named after its earliest span.
    const remote = body.traces.find((t) => t.traceId.toLowerCase() === remoteId);
    assert.equal(remote.rootSpanName, 'remote.child');
    assert.equal(Number(remote.spanCount), 2);
    assert.equal(String(remote.durationNanos), String(80000000n));

    // Newest first.
    const starts = body.traces.map((t) => BigInt(t.startTimeUnixNano));
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i - 1] >= starts[i], 'newest first');
  });

  test('by span name, by attribute (one and two filters)', async () => {
    assert.deepEqual(await searchIds({ name: 'db.query', service: 'it-sdk-json' }),
      new Set([traceIdOf('it-sdk-json', 'root')]));
    const allRuns = await searchIds({ attr: `test.run.id=${runId}` });
    assert.deepEqual(allRuns, new Set([
      traceIdOf('it-sdk-proto', 'root'), traceIdOf('it-sdk-proto', 'consume'), traceIdOf('it-sdk-proto', 'remote'),
      sent.logParent.spanContext().traceId,
      traceIdOf('it-sdk-json', 'root'), traceIdOf('it-sdk-json', 'consume'), traceIdOf('it-sdk-json', 'remote'),
    ]));
    const checkouts = new Set([traceIdOf('it-sdk-proto', 'root'), traceIdOf('it-sdk-json', 'root')]);
    assert.deepEqual(await searchIds({ attr: 'http.route=/checkout' }), checkouts);
    // Non-indexed keys, typed values compared by their text form, several filters on one span.
    const qs = new URLSearchParams([['attr', 'int=42'], ['attr', 'bool.true=true'], ['limit', '100']]);
    const both = await getOk(api(`/api/v1/traces?${qs}`));
    assert.deepEqual(new Set(both.traces.map((t) => t.traceId.toLowerCase())), checkouts);
    assert.equal((await searchIds({ attr: 'http.route=/nope' })).size, 0);
  });

  test('by duration, status and time window', async () => {
    const svc = 'it-sdk-proto';
    assert.deepEqual(await searchIds({ service: svc, minDuration: q.duration(1000) }), new Set([traceIdOf(svc, 'root')]));
    assert.equal((await searchIds({ service: svc, minDuration: q.duration(2000) })).size, 0);
    // consume (50 ms) and remote.grandchild (10 ms) are the only spans of <= 60 ms.
    assert.deepEqual(await searchIds({ service: svc, maxDuration: q.duration(60) }),
      new Set([traceIdOf(svc, 'consume'), traceIdOf(svc, 'remote')]));
    assert.deepEqual(await searchIds({ service: svc, minDuration: '1.2s', maxDuration: '1500ms' }),
      new Set([traceIdOf(svc, 'root')]), 'Go-syntax durations');
    assert.deepEqual(await searchIds({ status: 'error', attr: `test.run.id=${runId}` }),
      new Set([traceIdOf('it-sdk-proto', 'root'), traceIdOf('it-sdk-json', 'root')]));
    const window = await searchIds({ service: svc, start: q.time(baseNanos(1900)), end: q.time(baseNanos(2100)) });
    assert.deepEqual(window, new Set([traceIdOf(svc, 'consume')]));
    // The same window in RFC 3339 (millisecond precision is enough here).
    const iso = (ms) => new Date(baseMs + ms).toISOString();
    assert.deepEqual(await searchIds({ service: svc, start: iso(1900), end: iso(2100) }), new Set([traceIdOf(svc, 'consume')]));
  });

  test('pagination with limit and cursor visits every trace once', async () => {
    const seen = [];
    let cursor;
    for (let page = 0; page < 10; page++) {
      const params = { service: 'it-sdk-proto', limit: '1' };
      if (cursor) params.cursor = cursor;
      const body = await searchTraces(params);
      assert.ok(body.traces.length <= 1);
      seen.push(...body.traces.map((t) => t.traceId.toLowerCase()));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    assert.equal(seen.length, 4, `pages: ${JSON.stringify(seen)}`);
    assert.equal(new Set(seen).size, 4);
  });

  test('bad query parameters -> 400 naming the parameter', async () => {
    for (const [param, value] of [['limit', 'abc'], ['minDuration', 'soon'], ['status', 'purple'], ['attr', 'novalue']]) {
      const res = await getJson(api(`/api/v1/traces?${param}=${encodeURIComponent(value)}`));
      assert.equal(res.status, 400, `${param}=${value}: ${res.raw}`);
      assert.match(res.body?.error?.message ?? '', new RegExp(param.replace('.', '\\.'), 'i'), `${param}: ${res.raw}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const typeName = (t) => String(t).toLowerCase().replace(/^metric_type_/, '');
const temporalityName = (t) => {
  if (t === 2 || t === '2') return 'cumulative';
  if (t === 1 || t === '1') return 'delta';
  return String(t).toLowerCase().replace(/^aggregation_temporality_/, '');
};

async function series(name, params = {}) {
  const qs = new URLSearchParams({ fn: 'raw', ...params });
  const body = await getOk(api(`/api/v1/metrics/${encodeURIComponent(name)}/series?${qs}`));
  assert.ok(Array.isArray(body.series), `series array for ${name}: ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}
const lastPoint = (s) => [...s.points].sort((x, y) => (BigInt(x.t) < BigInt(y.t) ? -1 : 1)).at(-1);
const byLabel = (body, key) => new Map(body.series.map((s) => [s.labels[key], s]));

describe('metrics', () => {
  test('catalogue: type, unit, description, temporality, monotonic, series count', async () => {
    const body = await getOk(api('/api/v1/metrics'));
    const m = new Map(body.metrics.map((x) => [x.name, x]));
    const want = [
      ['it.requests', 'sum', '{request}', 'Requests served', 'cumulative', true, 2],
      ['it.inflight', 'sum', '{request}', 'Requests in flight', 'cumulative', false, 1],
      [HISTOGRAM.name, 'histogram', HISTOGRAM.unit, HISTOGRAM.description, 'cumulative', undefined, 1],
      ['it.temperature', 'gauge', 'Cel', 'Room temperature', undefined, undefined, 2],
      ['it.json.counter', 'sum', '1', 'Counter sent as OTLP/JSON', 'cumulative', true, 1],
      ['it.json.latency', 'histogram', 's', undefined, 'cumulative', undefined, 1],
      [EXP_HISTOGRAM.name, 'exponential_histogram', 'ms', 'Exponential histogram', 'cumulative', undefined, 1],
      ['it.delta.counter', 'sum', '', 'Delta counter', 'delta', true, 1],
      ['it.delta.latency', 'histogram', 'ms', undefined, 'delta', undefined, 1],
    ];
    for (const [name, type, unit, description, temporality, monotonic, seriesCount] of want) {
      const got = m.get(name);
      assert.ok(got, `metric ${name} listed (have: ${[...m.keys()].join(', ')})`);
      assert.equal(typeName(got.type), type, `${name}.type`);
      assert.equal(got.unit, unit, `${name}.unit`);
      if (description !== undefined) assert.equal(got.description, description, `${name}.description`);
      if (temporality !== undefined) assert.equal(temporalityName(got.temporality), temporality, `${name}.temporality`);
      if (monotonic !== undefined) assert.equal(got.monotonic, monotonic, `${name}.monotonic`);
      assert.equal(Number(got.seriesCount), seriesCount, `${name}.seriesCount`);
    }
  });

  test('counter, up-down counter and gauge values per series', async () => {
    const req = await series('it.requests');
    assert.equal(req.series.length, 2);
    const routes = byLabel(req, 'route');
    assert.equal(Number(lastPoint(routes.get('/a')).v), 12);
    assert.equal(Number(lastPoint(routes.get('/b')).v), 3);
    assert.equal(routes.get('/a').labels['service.name'], 'it-sdk-proto', 'resource attributes are labels');

    const only = await series('it.requests', { match: 'route=/b' });
    assert.equal(only.series.length, 1);
    assert.equal(only.series[0].labels.route, '/b');

    const inflight = await series('it.inflight');
    assert.equal(Number(lastPoint(inflight.series[0]).v), 6);

    const temp = byLabel(await series('it.temperature'), 'room');
    assert.equal(Number(lastPoint(temp.get('a')).v), 21.5);
    assert.equal(Number(lastPoint(temp.get('b')).v), -3.25);

    const json = await series('it.json.counter');
    assert.equal(Number(lastPoint(json.series[0]).v), 11);
    assert.equal(json.series[0].labels.kind, 'json');
  });

  test('histogram: count and sum, and quantiles that only the right buckets and bounds give', async () => {
    const h = await series(HISTOGRAM.name);
    assert.equal(h.series.length, 1);
    const p = lastPoint(h.series[0]);
    assert.equal(Number(p.count), HISTOGRAM.count);
    assert.equal(Number(p.sum), HISTOGRAM.sum);

    // What the SDK exported (sanity: the test's own design).
    const exported = sent.metrics['it-sdk-proto'].tee.items[0].scopeMetrics[0].metrics
      .find((m) => m.descriptor.name === HISTOGRAM.name).dataPoints[0].value;
    assert.deepEqual(exported.buckets, { boundaries: HISTOGRAM.bounds, counts: HISTOGRAM.bucketCounts });

    // Bucket counts [40, 50, 10, 0] over bounds [10, 100, 1000]: whatever the interpolation,
    // q=0.25 lies in the first bucket, q=0.5 in the second, q=0.95 in the third.
    const window = { start: q.time(BigInt(baseMs - 3600000) * 1000000n), end: q.time(BigInt(Date.now() + 60000) * 1000000n), step: q.step(7200) };
    const quantile = async (qq) => {
      const body = await series(HISTOGRAM.name, { ...window, fn: 'quantile', q: String(qq) });
      const values = body.series.flatMap((s) => s.points.map((pt) => Number(pt.v))).filter((v) => Number.isFinite(v));
      assert.ok(values.length >= 1, `a quantile value for q=${qq}: ${JSON.stringify(body).slice(0, 400)}`);
      return values;
    };
    for (const v of await quantile(0.25)) assert.ok(v >= 0 && v <= 10, `q=0.25 -> ${v}, want [0,10]`);
    for (const v of await quantile(0.5)) assert.ok(v >= 10 && v <= 100, `q=0.5 -> ${v}, want [10,100]`);
    for (const v of await quantile(0.95)) assert.ok(v >= 100 && v <= 1000, `q=0.95 -> ${v}, want [100,1000]`);

    const jh = await series('it.json.latency');
    const jp = lastPoint(jh.series[0]);
    assert.equal(Number(jp.count), 3);
    assert.ok(Math.abs(Number(jp.sum) - 5.55) < 1e-9, `sum ${jp.sum}`);
  });

  test('exponential histogram: count, sum and quantiles', async () => {
    const h = await series(EXP_HISTOGRAM.name);
    assert.equal(h.series.length, 1);
    const p = lastPoint(h.series[0]);
    assert.equal(Number(p.count), EXP_HISTOGRAM.count);
    assert.equal(Number(p.sum), EXP_HISTOGRAM.sum);
    const window = { start: q.time(BigInt(baseMs - 3600000) * 1000000n), end: q.time(BigInt(Date.now() + 60000) * 1000000n), step: q.step(7200) };
    for (const [qq, lo, hi] of [[0.25, 0.5, 2], [0.75, 50, 200]]) {
      const body = await series(EXP_HISTOGRAM.name, { ...window, fn: 'quantile', q: String(qq) });
      const values = body.series.flatMap((s) => s.points.map((pt) => pt.v));
      assert.ok(values.length >= 1 && values.every((v) => typeof v === 'number' && v >= lo && v <= hi),
        `q=${qq} of 10 x 1 and 10 x 100: ${JSON.stringify(values)}, want [${lo},${hi}]`);
    }
  });

  test('delta temporality: every point is kept as sent', async () => {
    const c = await series('it.delta.counter');
    assert.equal(c.series.length, 1);
    const total = c.series[0].points.reduce((a, pt) => a + Number(pt.v), 0);
    assert.equal(total, 10, `delta points ${JSON.stringify(c.series[0].points)}`);
    const h = await series('it.delta.latency');
    const count = h.series[0].points.reduce((a, pt) => a + Number(pt.count), 0);
    const sum = h.series[0].points.reduce((a, pt) => a + Number(pt.sum), 0);
    assert.equal(count, 5, `delta histogram points ${JSON.stringify(h.series[0].points)}`);
    assert.equal(sum, 276);
  });

  test('unknown metric -> 404 with an error body', async () => {
    const res = await getJson(api('/api/v1/metrics/no.such.metric/series'));
    assert.equal(res.status, 404, res.raw);
    assert.ok(res.body?.error?.message, res.raw);
  });
});

// ---------------------------------------------------------------------------------------------

describe('logs', () => {
  const expectedLogs = (service) => flattenLogs(sent.logs[service].expected.resourceLogs);
  const getLogs = async (params) => {
    const body = await getOk(api(`/api/v1/logs?${new URLSearchParams({ limit: '100', ...params })}`));
    assert.ok(Array.isArray(body.resourceLogs), JSON.stringify(body).slice(0, 300));
    return body;
  };

  test('by service: every record equals what the SDK sent (bodies, severity, attributes, ids)', async () => {
    for (const service of ['it-sdk-proto', 'it-sdk-json']) {
      const want = expectedLogs(service);
      const got = flattenLogs((await getLogs({ service })).resourceLogs);
      assert.equal(got.length, want.length, `${service}: record count`);
      for (let i = 0; i < want.length; i++) {
        assert.deepEqual(got[i].log, want[i].log, `${service} record ${i}`);
        assert.deepEqual(got[i].resource, want[i].resource, `${service} record ${i} resource`);
        assert.deepEqual(got[i].scope, want[i].scope, `${service} record ${i} scope`);
      }
    }
  });

  test('by trace id: the two records emitted inside the active span carry its context', async () => {
    const ctx = sent.logParent.spanContext();
    const got = flattenLogs((await getLogs({ traceId: ctx.traceId })).resourceLogs);
    assert.equal(got.length, 2);
    for (const e of got) {
      assert.equal(e.log.traceId, ctx.traceId);
      assert.equal(e.log.spanId, ctx.spanId);
      assert.equal(e.log.flags & 0xff, 1, 'sampled flag');
    }
    assert.deepEqual(got[0].log.body, { s: 'disk almost full: 91% used on /var' });
    assert.equal(got[0].log.severityNumber, 13);
    assert.equal(got[0].log.severityText, 'WARN');
    const a = new Map(got[0].log.attributes);
    assert.deepEqual(a.get('log.bytes'), { y: '010203ff' });
    assert.deepEqual(a.get('log.map'), { m: [['k', { s: 'v' }], ['n', { i: '1' }], ['nested', { m: [['deep', { b: true }]] }]] });
    assert.deepEqual(got[1].log.body, normAnyValue({
      kvlistValue: {
        values: [
          { key: 'msg', value: { stringValue: 'structured failure' } },
          { key: 'code', value: { intValue: '503' } },
          { key: 'ratio', value: { doubleValue: 0.75 } },
          { key: 'ok', value: { boolValue: false } },
          { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } } },
          { key: 'inner', value: { kvlistValue: { values: [{ key: 'retry', value: { boolValue: true } }] } } },
        ],
      },
    }));
    assert.equal(got[1].log.severityNumber, 18);
  });

  test('by minimum severity and by attribute', async () => {
    const warnUp = flattenLogs((await getLogs({ service: 'it-sdk-proto', minSeverity: 'warn' })).resourceLogs);
    assert.deepEqual(warnUp.map((e) => e.log.severityNumber).sort(), [13, 18]);
    const byAttr = flattenLogs((await getLogs({ attr: 'log.str=v' })).resourceLogs);
    assert.equal(byAttr.length, 1);
    assert.equal(byAttr[0].log.eventName, 'disk.pressure');
  });

  test('text search and limit/cursor', async () => {
    const disk = flattenLogs((await getLogs({ q: 'disk almost full' })).resourceLogs);
    assert.equal(disk.length, 1);
    assert.equal(disk[0].log.severityText, 'WARN');
    const structured = flattenLogs((await getLogs({ q: 'structured failure' })).resourceLogs);
    assert.equal(structured.length, 1, 'substring of a structured body');
    assert.equal(structured[0].log.severityNumber, 18);

    const seen = [];
    let cursor;
    for (let page = 0; page < 10; page++) {
      const params = { service: 'it-sdk-proto', limit: '1' };
      if (cursor) params.cursor = cursor;
      const body = await getLogs(params);
      const recs = flattenLogs(body.resourceLogs);
      assert.ok(recs.length <= 1);
      seen.push(...recs.map((r) => JSON.stringify(r.log)));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3);
  });
});

test('/healthz and /metrics answer; the OTLP counters saw the SDK traffic', async () => {
  const health = await getJson(api('/healthz'));
  assert.equal(health.status, 200);
  const res = await fetch(api('/metrics'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  const accepted = [...text.matchAll(/^avtrace_otlp_http_accepted_total(?:\{[^}]*\})?\s+(\S+)/gm)].map((m) => Number(m[1]));
  assert.ok(accepted.length > 0 && accepted.reduce((x, y) => x + y, 0) > 0, 'avtrace_otlp_http_accepted_total > 0');
});
