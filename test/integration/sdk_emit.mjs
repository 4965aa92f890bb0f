// Emits a known set of traces, metrics and logs with the REAL OpenTelemetry JS SDK to an OTLP/HTTP
// endpoint, and returns what was sent (as the SDK's own OTLP/JSON serialisation) so a test can
// compare it with what the server returns. Used by otel_sdk.test.mjs.
//
// Two "services" are emitted, one per exporter flavour:
//   it-sdk-proto: exporter-*-otlp-proto (traces and metrics gzip-compressed, logs uncompressed)
//   it-sdk-json:  exporter-*-otlp-http  (JSON; traces and metrics uncompressed, logs gzip)
// Every exporter is wrapped in a "tee" that records the items handed to it and the export
// results, so a failed export fails the test with the exporter's error.

import crypto from 'node:crypto';

import { context, createTraceState, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPLogExporter as OTLPLogExporterHttp } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OTLPLogExporterProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { AggregationTemporalityPreference, OTLPMetricExporter as OTLPMetricExporterHttp } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPMetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterHttp } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonLogsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export const RESOURCE_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.26.0';
export const SCOPE_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.25.0';
const randomBytesHex = (n) => crypto.randomBytes(n).toString('hex');

let contextManagerInstalled = false;
function installContextManager() {
  if (contextManagerInstalled) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerInstalled = true;
}

// Wraps an exporter, recording items and results. Optional methods are forwarded only if the
// wrapped exporter has them (the metric reader probes for them).
function tee(inner) {
  const t = {
    items: [],
    results: [],
    export(items, done) {
      // Span and log exporters get arrays; a metric exporter gets one ResourceMetrics.
      if (Array.isArray(items)) t.items.push(...items);
      else t.items.push(items);
      inner.export(items, (result) => {
        t.results.push(result);
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => (inner.forceFlush ? inner.forceFlush() : Promise.resolve()),
  };
  if (inner.selectAggregationTemporality) {
    t.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
  }
  if (inner.selectAggregation) t.selectAggregation = inner.selectAggregation.bind(inner);
  return t;
}

function assertExportsOk(name, t) {
  if (t.results.length === 0) throw new Error(`${name}: exporter was never called`);
  for (const r of t.results) {
    if (r.code !== 0) {
      throw new Error(`${name}: export failed: ${r.error?.message ?? JSON.stringify(r)}`);
    }
  }
}

// Every AnyValue type a span attribute can carry through the JS API.
export const ALL_TYPES = {
  'str': 'hello wörld ✓',
  'str.empty': '',
  'str.escapes': 'quote" back\\slash\nnew line\ttab\u0000nul\u001fctl \u2028 😀 \u00e9',
  'bool.true': true,
  'bool.false': false,
  'int': 42,
  'int.zero': 0,
  'int.neg': -7,
  'int.max_safe': Number.MAX_SAFE_INTEGER,
  'double': 3.25,
  'double.neg': -0.5,
  'double.tiny': 1e-9,
  'arr.str': ['a', 'b', ''],
  'arr.bool': [true, false, true],
  'arr.int': [1, -2, 3],
  'arr.double': [1.5, 2.25, -0.125],
  'http.route': '/checkout',
};

// Histogram design: bounds [10,100,1000]; 40 values <= 10, 50 in (10,100], 10 in (100,1000].
export const HISTOGRAM = {
  name: 'it.latency',
  unit: 'ms',
  description: 'Request latency in the integration test',
  bounds: [10, 100, 1000],
  values: [...Array(40).fill(5), ...Array(50).fill(50), ...Array(10).fill(500)],
  bucketCounts: [40, 50, 10, 0],
  count: 100,
  sum: 40 * 5 + 50 * 50 + 10 * 500,
};

// Exponential histogram (through a view): 10 x 1 and 10 x 100.
export const EXP_HISTOGRAM = {
  name: 'it.exp.latency',
  values: [...Array(10).fill(1), ...Array(10).fill(100)],
  count: 20,
  sum: 1010,
};

// Emits the trace set with `tracer`; times are offsets (ms) from `base` (HrTime with a sub-ms part
// so that nanosecond precision is checked). Returns the span handles by role.
function emitTraces(tracer, at, runId, remoteIds) {
  const root = tracer.startSpan(
    'checkout',
    { kind: SpanKind.SERVER, startTime: at(0), attributes: { ...ALL_TYPES, 'test.run.id': runId } },
    ROOT_CONTEXT);
  root.addEvent('cart.loaded', { 'cart.items': 3, 'cart.total': 19.99, 'cart.currency': 'EUR', 'cart.flags': [true, false] }, at(10));
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);

  const db = tracer.startSpan(
    'db.query',
    { kind: SpanKind.CLIENT, startTime: at(100), attributes: { 'db.system': 'sqlite', 'db.rows': 12, 'test.run.id': runId } },
    rootCtx);
  db.addEvent('exception', { 'exception.type': 'IOError', 'exception.message': 'connection reset by peer' }, at(250));
  db.addEvent('retry', { 'retry.attempt': 2, 'retry.backoff': 0.25 }, at(260));
  db.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset by peer' });
  db.end(at(300));

  const cache = tracer.startSpan('cache.lookup', { kind: SpanKind.INTERNAL, startTime: at(320) }, rootCtx);
  cache.setStatus({ code: SpanStatusCode.OK });
  cache.end(at(470));

  const publish = tracer.startSpan(
    'publish',
    {
      kind: SpanKind.PRODUCER,
      startTime: at(500),
      links: [{ context: db.spanContext(), attributes: { 'link.reason': 'caused-by', 'link.weight': 0.5 } }],
    },
    rootCtx);
  publish.end(at(620));

  // Over the span limits (40 attributes, 4 events, 2 links): the dropped counts must survive.
  const many = {};
  for (let i = 0; i < 45; i++) many[`extra.${String(i).padStart(2, '0')}`] = i;
  const overflow = tracer.startSpan(
    'overflow',
    {
      kind: SpanKind.INTERNAL,
      startTime: at(640),
      attributes: many,
      links: [db, cache, publish].map((s) => ({ context: s.spanContext() })),
    },
    rootCtx);
  for (let i = 0; i < 6; i++) overflow.addEvent(`tick.${i}`, { i }, at(650 + i));
  overflow.end(at(770));
  root.end(at(1500));

  // A separate trace, linked to the producer span of the first one.
  const consume = tracer.startSpan(
    'consume',
    {
      kind: SpanKind.CONSUMER,
      startTime: at(2000),
      attributes: { 'test.run.id': runId, 'messaging.system': 'memory' },
      links: [{ context: publish.spanContext(), attributes: { 'messaging.batch.index': 0 } }],
    },
    ROOT_CONTEXT);
  consume.end(at(2050));

  // A trace continued from a remote parent (not sent) with a W3C tracestate: flags carry
  // "is remote", the children inherit the tracestate, and the trace has no root span.
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: remoteIds.traceId,
    spanId: remoteIds.spanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('vendor=abc,other=x:y'),
  });
  const remote = tracer.startSpan('remote.child', { kind: SpanKind.SERVER, startTime: at(2500), attributes: { 'test.run.id': runId } }, remoteParent);
  const grandchild = tracer.startSpan('remote.grandchild', { startTime: at(2510) }, trace.setSpan(remoteParent, remote));
  grandchild.end(at(2520));
  remote.end(at(2580));
  return { root, db, cache, publish, overflow, consume, remote, grandchild };
}

// Emits everything to `otlpBase` (e.g. http://127.0.0.1:4318). Returns what was sent.
export async function emitTelemetry(otlpBase, { runId, baseMs }) {
  installContextManager();
  const baseSec = Math.floor(baseMs / 1000);
  const baseNanos = (baseMs % 1000) * 1e6 + 123457;  // a sub-millisecond part on purpose
  const at = (offsetMs) => {
    let ns = baseNanos + Math.round(offsetMs * 1e6);
    const sec = baseSec + Math.floor(ns / 1e9);
    ns %= 1e9;
    return [sec, ns];
  };
  const resourceFor = (service) => resourceFromAttributes({
    'service.name': service,
    'service.version': '1.2.3',
    'deployment.environment.name': 'integration',
    'test.run.id': runId,
  }, { schemaUrl: RESOURCE_SCHEMA_URL });

  const out = { traces: {}, logs: {}, metrics: {}, at };

  // ---- traces
  const flavours = [
    { service: 'it-sdk-proto', exporter: new OTLPTraceExporterProto({ url: `${otlpBase}/v1/traces`, compression: 'gzip' }) },
    { service: 'it-sdk-json', exporter: new OTLPTraceExporterHttp({ url: `${otlpBase}/v1/traces` }) },
  ];
  for (const f of flavours) {
    const t = tee(f.exporter);
    const provider = new BasicTracerProvider({
      resource: resourceFor(f.service),
      spanProcessors: [new BatchSpanProcessor(t, { scheduledDelayMillis: 60000 })],
      spanLimits: { attributeCountLimit: 40, eventCountLimit: 4, linkCountLimit: 2 },
    });
    const tracer = provider.getTracer('it-tracer', '0.9.1', { schemaUrl: SCOPE_SCHEMA_URL });
    const remoteIds = { traceId: randomBytesHex(16), spanId: randomBytesHex(8) };
    const spans = emitTraces(tracer, at, runId, remoteIds);
    if (f.service === 'it-sdk-proto') {
      // Logs inside an active span (trace context via the AsyncLocalStorage context manager).
      out.logParent = tracer.startSpan('handle.request', { kind: SpanKind.SERVER, startTime: at(3000), attributes: { 'test.run.id': runId } }, ROOT_CONTEXT);
    }
    await provider.forceFlush();
    out.traces[f.service] = { tee: t, spans, provider, tracer };
  }

  // ---- logs
  const logFlavours = [
    { service: 'it-sdk-proto', exporter: new OTLPLogExporterProto({ url: `${otlpBase}/v1/logs` }) },
    { service: 'it-sdk-json', exporter: new OTLPLogExporterHttp({ url: `${otlpBase}/v1/logs`, compression: 'gzip' }) },
  ];
  for (const f of logFlavours) {
    const t = tee(f.exporter);
    const provider = new LoggerProvider({
      resource: resourceFor(f.service),
      processors: [new BatchLogRecordProcessor({ exporter: t, scheduledDelayMillis: 60000 })],
    });
    const logger = provider.getLogger('it-logger', '0.1.0', { schemaUrl: SCOPE_SCHEMA_URL });
    if (f.service === 'it-sdk-proto') {
      const parent = out.logParent;
      context.with(trace.setSpan(context.active(), parent), () => {
        logger.emit({
          eventName: 'disk.pressure',
          timestamp: at(3010),
          severityNumber: SeverityNumber.WARN,
          severityText: 'WARN',
          body: 'disk almost full: 91% used on /var',
          attributes: {
            'log.str': 'v',
            'log.int': 7,
            'log.double': 2.5,
            'log.bool': false,
            'log.arr': ['x', 'y'],
            'log.map': { k: 'v', n: 1, nested: { deep: true } },
            'log.bytes': new Uint8Array([1, 2, 3, 255]),
            'test.run.id': runId,
          },
        });
        logger.emit({
          timestamp: at(3020),
          severityNumber: SeverityNumber.ERROR2,
          severityText: 'ERROR2',
          body: { msg: 'structured failure', code: 503, ratio: 0.75, ok: false, tags: ['a', 'b'], inner: { retry: true } },
          attributes: { 'test.run.id': runId },
        });
      });
      logger.emit({
        timestamp: at(3200),
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        body: 'standalone log line without trace context',
        attributes: { 'test.run.id': runId },
      });
      parent.end(at(3100));
      await out.traces['it-sdk-proto'].provider.forceFlush();
    } else {
      logger.emit({
        timestamp: at(3300),
        severityNumber: SeverityNumber.DEBUG,
        severityText: 'DEBUG',
        body: 'json exporter log line',
        attributes: { 'test.run.id': runId, 'log.int': 99 },
      });
    }
    await provider.forceFlush();
    await provider.shutdown();
    out.logs[f.service] = { tee: t };
  }

  for (const f of Object.values(out.traces)) await f.provider.shutdown();

  // ---- metrics
  const metricFlavours = [
    { service: 'it-sdk-proto', exporter: new OTLPMetricExporterProto({ url: `${otlpBase}/v1/metrics`, compression: 'gzip' }) },
    { service: 'it-sdk-json', exporter: new OTLPMetricExporterHttp({ url: `${otlpBase}/v1/metrics` }) },
    {
      service: 'it-sdk-delta',
      exporter: new OTLPMetricExporterProto({ url: `${otlpBase}/v1/metrics`, temporalityPreference: AggregationTemporalityPreference.DELTA }),
    },
  ];
  for (const f of metricFlavours) {
    const t = tee(f.exporter);
    const reader = new PeriodicExportingMetricReader({ exporter: t, exportIntervalMillis: 60000 });
    const provider = new MeterProvider({
      resource: resourceFor(f.service),
      readers: [reader],
      views: [{ instrumentName: EXP_HISTOGRAM.name, aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = provider.getMeter('it-meter', '0.2.0');
    if (f.service === 'it-sdk-proto') {
      const requests = meter.createCounter('it.requests', { unit: '{request}', description: 'Requests served' });
      requests.add(5, { route: '/a' });
      requests.add(7, { route: '/a' });
      requests.add(3, { route: '/b' });
      const inflight = meter.createUpDownCounter('it.inflight', { unit: '{request}', description: 'Requests in flight' });
      inflight.add(10, { pool: 'p1' });
      inflight.add(-4, { pool: 'p1' });
      const latency = meter.createHistogram(HISTOGRAM.name, {
        unit: HISTOGRAM.unit,
        description: HISTOGRAM.description,
        advice: { explicitBucketBoundaries: HISTOGRAM.bounds },
      });
      for (const v of HISTOGRAM.values) latency.record(v, { route: '/a' });
      const temperature = meter.createObservableGauge('it.temperature', { unit: 'Cel', description: 'Room temperature' });
      temperature.addCallback((obs) => {
        obs.observe(21.5, { room: 'a' });
        obs.observe(-3.25, { room: 'b' });
      });
      const exp = meter.createHistogram(EXP_HISTOGRAM.name, { unit: 'ms', description: 'Exponential histogram' });
      for (const v of EXP_HISTOGRAM.values) exp.record(v);
    } else if (f.service === 'it-sdk-delta') {
      // Two collection cycles with delta temporality: points 4 and 6 (sum 10); 3 + 2 observations.
      const dc = meter.createCounter('it.delta.counter', { description: 'Delta counter' });
      const dh = meter.createHistogram('it.delta.latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
      dc.add(4);
      dh.record(1);
      dh.record(20);
      dh.record(200);
      await provider.forceFlush();
      dc.add(6);
      dh.record(5);
      dh.record(50);
    } else {
      const jc = meter.createCounter('it.json.counter', { unit: '1', description: 'Counter sent as OTLP/JSON' });
      jc.add(11, { kind: 'json' });
      const jh = meter.createHistogram('it.json.latency', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } });
      jh.record(0.05);
      jh.record(0.5);
      jh.record(5);
    }
    await provider.forceFlush();
    await provider.shutdown();
    out.metrics[f.service] = { tee: t };
  }

  // ---- all exports must have succeeded; build the expected OTLP/JSON.
  for (const [svc, f] of Object.entries(out.traces)) assertExportsOk(`traces ${svc}`, f.tee);
  for (const [svc, f] of Object.entries(out.logs)) assertExportsOk(`logs ${svc}`, f.tee);
  for (const [svc, f] of Object.entries(out.metrics)) assertExportsOk(`metrics ${svc}`, f.tee);

  const decode = (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8'));
  for (const f of Object.values(out.traces)) f.expected = decode(JsonTraceSerializer.serializeRequest(f.tee.items));
  for (const f of Object.values(out.logs)) f.expected = decode(JsonLogsSerializer.serializeRequest(f.tee.items));
  return out;
}
