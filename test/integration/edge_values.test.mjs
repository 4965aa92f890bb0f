// Edge values that the JS SDK cannot produce, sent as hand-made OTLP protobuf and read back:
// non-finite and extreme doubles, int64 limits, bytes and kvlist span attributes, empty values,
// huge strings, span flags/tracestate/dropped counts; metric points the receiver must reject
// (partial success) next to valid ones; and a NaN gauge point.
//
// Run: node --test test/integration/edge_values.test.mjs

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  PbWriter,
  attrs,
  decodePartialSuccess,
  encodeKeyValues,
  encodeTraceRequest,
  flattenSpans,
  getJson,
  getOk,
  makeTrace,
  postOtlp,
  removeTempRoot,
  startServer,
} from './harness.mjs';

let server;

before(async () => {
  server = await startServer({ config: { log: { level: 'warn' } } });
});

after(async () => {
  if (!server) return;
  const { root } = server;
  const tail = server.logTail();
  const st = await server.stop();
  server = null;
  removeTempRoot(root);
  assert.equal(st.code, 0, `graceful stop: ${JSON.stringify(st)}\n${tail}`);
});

test('span: extreme values survive protobuf -> store -> OTLP/JSON', async () => {
  const t = makeTrace({ service: 'it-edge', n: 2 });
  const [span, child] = t.req.resourceSpans[0].scopeSpans[0].spans;
  span.attributes = [
    { key: 'nan', value: { doubleValue: NaN } },
    { key: 'inf', value: { doubleValue: Infinity } },
    { key: 'ninf', value: { doubleValue: -Infinity } },
    { key: 'denormal', value: { doubleValue: 5e-324 } },
    { key: 'max', value: { doubleValue: 1.7976931348623157e308 } },
    { key: 'i64min', value: { intValue: '-9223372036854775808' } },
    { key: 'i64max', value: { intValue: '9223372036854775807' } },
    { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 2, 255]).toString('base64') } },
    { key: 'kvlist', value: { kvlistValue: { values: [{ key: 'a', value: { stringValue: 'b' } }, { key: 'n', value: { arrayValue: { values: [{ intValue: '1' }] } } }] } } },
    { key: 'empty.array', value: { arrayValue: { values: [] } } },
    { key: 'empty.kvlist', value: { kvlistValue: { values: [] } } },
    { key: 'no.value' },
    { key: '', value: { stringValue: 'empty key' } },
    { key: 'control', value: { stringValue: '\u0000\u0001\u007f\u2028\u2029"\\/' } },
    { key: 'big', value: { stringValue: 'x'.repeat(3000) + 'ü'.repeat(3000) } },
  ];
  span.droppedAttributesCount = 7;
  span.traceState = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
  span.flags = 0x301;
  span.events = [{ timeUnixNano: '0', name: '', attributes: attrs({ e: true }), droppedAttributesCount: 4 }];
  span.droppedEventsCount = 3;
  span.links = [{ traceId: t.traceId, spanId: child.spanId, traceState: 'k=v', flags: 0x101, attributes: attrs({ l: 1.5 }), droppedAttributesCount: 5 }];
  span.droppedLinksCount = 2;
  span.status = { code: 2, message: 'ünïcödé error' };
  child.kind = 0;  // SPAN_KIND_UNSPECIFIED
  child.name = '';

  const res = await postOtlp(server.otlp, 'traces', encodeTraceRequest(t.req));
  assert.equal(res.status, 200, res.text());
  const body = await getOk(`${server.http}/api/v1/traces/${t.traceId}`);
  const want = flattenSpans(t.req.resourceSpans);
  const got = flattenSpans(body.resourceSpans);
  for (const [id, w] of want) {
    assert.deepEqual(got.get(id)?.span, w.span, `span ${id}`);
  }
});

// ExportMetricsServiceRequest with one resource and scope; `metrics` are (w) => void writers.
function metricsRequest(service, metrics) {
  const w = new PbWriter();
  w.message(1, (rm) => {
    rm.message(1, (r) => encodeKeyValues(r, 1, attrs({ 'service.name': service })));
    rm.message(2, (sm) => {
      sm.message(1, (s) => s.string(1, 'it-edge'));
      for (const m of metrics) sm.message(2, m);
    });
  });
  return w.finish();
}
const nowNs = () => BigInt(Date.now()) * 1000000n;

function histogram(name, { counts, bounds, count, sum }) {
  return (m) => {
    m.string(1, name);
    m.message(9, (h) => {
      h.message(1, (dp) => {
        dp.fixed64(3, nowNs());
        dp.fixed64(4, count);
        dp.double(5, sum);
        for (const c of counts) dp.fixed64(6, c);
        for (const b of bounds) dp.double(7, b);
      });
      h.varint(2, 2);
    });
  };
}
function gauge(name, points) {
  return (m) => {
    m.string(1, name);
    m.message(5, (g) => {
      for (const p of points) {
        g.message(1, (dp) => {
          dp.fixed64(3, nowNs());
          if (p.double !== undefined) dp.double(4, p.double);
          if (p.int !== undefined) dp.sfixed64(6, p.int);
          if (p.flags) dp.varint(8, p.flags);
          encodeKeyValues(dp, 7, attrs(p.attrs));
        });
      }
    });
  };
}

test('metrics: invalid points are rejected by partial success, their valid siblings stored', async () => {
  const body = metricsRequest('it-edge-metrics', [
    histogram('edge.hist.ok', { counts: [1, 2, 3], bounds: [1, 10], count: 6, sum: 30 }),
    histogram('edge.hist.counts', { counts: [1, 2, 3, 4], bounds: [1], count: 10, sum: 3 }),
    histogram('edge.hist.bounds', { counts: [1, 1, 1], bounds: [10, 5], count: 3, sum: 3 }),
    gauge('', [{ double: 1, attrs: { k: 'no-name' } }]),
    gauge('edge.gauge', [
      { double: 2.5, attrs: { k: 'ok' } },
      { attrs: { k: 'missing' } },  // neither as_double nor as_int, no NO_RECORDED_VALUE flag
      { int: -9223372036854775808n, attrs: { k: 'i64min' } },
    ]),
  ]);
  const res = await postOtlp(server.otlp, 'metrics', body);
  assert.equal(res.status, 200);
  const ps = decodePartialSuccess(res.body);
  assert.equal(ps.rejected, 4, `partial success: ${JSON.stringify(ps)}`);
  assert.ok(ps.errorMessage.length > 0);

  const list = await getOk(`${server.http}/api/v1/metrics?prefix=edge.`);
  const names = list.metrics.map((m) => m.name).sort();
  assert.deepEqual(names, ['edge.gauge', 'edge.hist.ok'], 'only metrics with valid points are listed');
  const g = await getOk(`${server.http}/api/v1/metrics/edge.gauge/series`);
  const byK = new Map(g.series.map((s) => [s.labels.k, s.points.map((p) => p.v)]));
  assert.deepEqual(byK.get('ok'), [2.5]);
  assert.deepEqual(byK.get('i64min'), [-9223372036854775808]);
  assert.equal(byK.has('missing'), false);
  const h = await getOk(`${server.http}/api/v1/metrics/edge.hist.ok/series`);
  assert.equal(Number(h.series[0].points[0].count), 6);
  assert.equal(Number(h.series[0].points[0].sum), 30);
});

// Known server bug at the time of writing: SQLite stores a bound NaN double as NULL, so a NaN
// gauge point is acknowledged (200, no partial_success) and creates its series, but the read
// path then sees "no value" and drops it. Remove `todo` once fixed.
test('metrics: a NaN gauge point is acknowledged and read back (as null), not dropped', { todo: 'NaN points are stored as SQL NULL and vanish on read' }, async () => {
  const res = await postOtlp(server.otlp, 'metrics', metricsRequest('it-edge-nan', [
    gauge('edge.nan', [{ double: NaN, attrs: { k: 'nan' } }, { double: Infinity, attrs: { k: 'inf' } }]),
  ]));
  assert.equal(res.status, 200);
  assert.equal(decodePartialSuccess(res.body).rejected, 0);
  const g = await getJson(`${server.http}/api/v1/metrics/edge.nan/series`);
  assert.equal(g.status, 200, g.raw);
  const byK = new Map(g.body.series.map((s) => [s.labels.k, s.points]));
  assert.equal(byK.get('inf')?.length, 1, 'the +Inf point');
  assert.equal(byK.get('nan')?.length, 1, `the NaN point: ${g.raw}`);
});
