// Captures REAL OTLP/HTTP request bodies from the OpenTelemetry JS SDK, for avtrace's decoder tests.
//
// Usage: cd test && npm install && node tools/capture_otlp.mjs data/otlp
//
// A local HTTP listener (127.0.0.1, port 0) records every POST body. Each provider gets BOTH a
// protobuf and a JSON exporter (two span processors, two metric readers, two log processors), so
// js_<signal>.pb and js_<signal>.json describe the same spans / metrics / log records. The script
// then writes `protoc --decode_raw` output beside each .pb (if protoc is on the PATH).
// Nothing here is deterministic (ids, timestamps): the files are captured once and committed.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import * as api from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as LogsHttp } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsHttp } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TracesHttp } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import {
  AggregationType, MeterProvider, PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const outDir = path.resolve(process.argv[2] ?? 'data/otlp');
fs.mkdirSync(outDir, { recursive: true });

// --- listener -------------------------------------------------------------------------------
const received = [];  // {path, contentType, body}
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const contentType = req.headers['content-type'] ?? '';
    received.push({ path: req.url, contentType, body: Buffer.concat(chunks) });
    const json = contentType.startsWith('application/json');
    res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' });
    res.end(json ? '{}' : '');
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const resource = resourceFromAttributes({
  'service.name': 'player-sim',
  'service.version': '0.3.1',
  'service.instance.id': 'sim-1',
  'deployment.environment.name': 'test',
  'telemetry.sdk.language': 'nodejs',
}, { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });

// --- traces -----------------------------------------------------------------------------------
const tracerProvider = new BasicTracerProvider({
  resource,
  // A small attribute limit so that one span reports dropped attributes.
  spanLimits: { attributeCountLimit: 16 },
  spanProcessors: [
    new BatchSpanProcessor(new TracesProto({ url: `${base}/v1/traces` })),
    new BatchSpanProcessor(new TracesHttp({ url: `${base}/v1/traces` })),
  ],
});
const tracer = tracerProvider.getTracer('avtrace.capture', '1.2.3',
  { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });

// A remote parent with a trace state, as a CDN or a player would propagate it.
const remoteParent = api.trace.setSpanContext(api.ROOT_CONTEXT, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: api.TraceFlags.SAMPLED,
  traceState: api.createTraceState('vendor=abc,cdn=edge-7'),
  isRemote: true,
});

const session = tracer.startSpan('session.start', {
  kind: api.SpanKind.SERVER,
  attributes: {
    'session.id': 'c0ffee-01',
    'player.name': 'hls.js',
    'player.muted': true,
    'player.volume': 0.75,
    'segment.count': 42,
    'segment.sequence.negative': -7,
    'rendition.heights': [240, 360, 720, 1080],
    'rendition.bitrates.mbps': [0.4, 1.2, 3.5],
    'cdn.hosts': ['edge-1.example', 'edge-2.example'],
    'flags.seen': [true, false, true],
    'unicode.text': 'Grüße, 世界 🎬',
    'empty.string': '',
  },
}, remoteParent);
const sessionCtx = api.trace.setSpan(remoteParent, session);

const fetchSpan = tracer.startSpan('segment.fetch', {
  kind: api.SpanKind.CLIENT,
  attributes: { 'http.request.method': 'GET', 'url.full': 'https://edge-1.example/seg/42.ts',
    'http.response.status_code': 503 },
}, sessionCtx);
fetchSpan.addEvent('retry', { 'retry.attempt': 1, 'retry.delay_ms': 250.5 });
fetchSpan.addEvent('timeout');
fetchSpan.recordException(new Error('upstream unavailable'));
fetchSpan.setStatus({ code: api.SpanStatusCode.ERROR, message: 'HTTP 503 from edge-1' });
fetchSpan.end();

const produce = tracer.startSpan('beacon.publish', {
  kind: api.SpanKind.PRODUCER,
  links: [{ context: fetchSpan.spanContext(), attributes: { 'link.reason': 'retry-of' } }],
}, sessionCtx);
produce.end();

const consume = tracer.startSpan('beacon.consume', {
  kind: api.SpanKind.CONSUMER,
  links: [
    { context: produce.spanContext() },
    { context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331',
      traceFlags: 1, traceState: api.createTraceState('other=1') },
    attributes: { 'link.kind': 'foreign', 'link.weight': 2 } },
  ],
}, sessionCtx);
consume.end();

const internal = tracer.startSpan('abr.decide', { kind: api.SpanKind.INTERNAL }, sessionCtx);
for (let i = 0; i < 20; i++) internal.setAttribute(`abr.candidate.${i}`, i * 100);
internal.setStatus({ code: api.SpanStatusCode.OK });
internal.end();

session.end();

// --- metrics ----------------------------------------------------------------------------------
const meterProvider = new MeterProvider({
  resource,
  views: [{ instrumentName: 'player.segment.latency',
    aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 40 } } }],
  readers: [
    new PeriodicExportingMetricReader({ exporter: new MetricsProto({ url: `${base}/v1/metrics` }),
      exportIntervalMillis: 600000 }),
    new PeriodicExportingMetricReader({ exporter: new MetricsHttp({ url: `${base}/v1/metrics` }),
      exportIntervalMillis: 600000 }),
  ],
});
const meter = meterProvider.getMeter('avtrace.capture.metrics', '1.2.3',
  { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });
const stalls = meter.createCounter('player.stalls', { description: 'Stall count', unit: '{stall}' });
stalls.add(3, { cdn: 'edge-1', rendition: '720p' });
stalls.add(1, { cdn: 'edge-2', rendition: '360p' });
const inflight = meter.createUpDownCounter('player.requests.inflight', { unit: '{request}' });
inflight.add(5, { cdn: 'edge-1' });
inflight.add(-2, { cdn: 'edge-1' });
const ttff = meter.createHistogram('player.ttff', { description: 'Time to first frame', unit: 'ms' });
for (const v of [120, 340, 95.5, 1800, 42]) ttff.record(v, { player: 'hls.js' });
const latency = meter.createHistogram('player.segment.latency', { unit: 's' });
for (const v of [0.011, 0.2, 0.35, 1.5, 2.25, 0.0]) latency.record(v, { cdn: 'edge-1' });
latency.record(-0.5, { cdn: 'edge-1' });  // negative values are ignored by the SDK
const buffer = meter.createObservableGauge('player.buffer', { unit: 's' });
buffer.addCallback((r) => { r.observe(6.5, { rendition: '720p' }); r.observe(2, { rendition: '360p' }); });
const dropped = meter.createObservableCounter('player.frames.dropped', { valueType: api.ValueType.INT });
dropped.addCallback((r) => r.observe(17, { player: 'hls.js' }));

// --- logs -------------------------------------------------------------------------------------
const loggerProvider = new LoggerProvider({
  resource,
  processors: [
    new BatchLogRecordProcessor({ exporter: new LogsProto({ url: `${base}/v1/logs` }) }),
    new BatchLogRecordProcessor({ exporter: new LogsHttp({ url: `${base}/v1/logs` }) }),
  ],
});
const logger = loggerProvider.getLogger('avtrace.capture.logs', '1.2.3',
  { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0', attributes: { 'scope.kind': 'player' } });
logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'playback started',
  attributes: { 'session.id': 'c0ffee-01', 'startup.ms': 812 }, timestamp: new Date() });
logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR',
  body: { event: 'stall', durations: [1.5, 2, 'long'], nested: { ok: false, count: 3 } },
  attributes: { 'bytes.sample': new Uint8Array([0, 1, 2, 250, 255]),
    'map.attr': { a: 'x', b: [1, 2] } },
  context: sessionCtx });
logger.emit({ eventName: 'player.rendition_switch', severityNumber: SeverityNumber.WARN2,
  body: 42, attributes: { from: '360p', to: '720p' } });
logger.emit({ body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) });

// --- flush everything, then save --------------------------------------------------------------
await tracerProvider.forceFlush();
await meterProvider.forceFlush();
await loggerProvider.forceFlush();
await tracerProvider.shutdown();
await meterProvider.shutdown();
await loggerProvider.shutdown();
await new Promise((resolve) => server.close(resolve));

const seen = new Map();
for (const r of received) {
  const signal = r.path.replace('/v1/', '');
  const ext = r.contentType.startsWith('application/json') ? 'json' : 'pb';
  const key = `${signal}.${ext}`;
  if (seen.has(key) || r.body.length === 0) continue;  // first non-empty body per kind
  seen.set(key, true);
  const file = path.join(outDir, `js_${signal}.${ext}`);
  fs.writeFileSync(file, r.body);
  console.log(`${file}: ${r.body.length} bytes (${r.contentType})`);
  if (ext === 'pb') {
    try {
      const raw = execFileSync('protoc', ['--decode_raw'], { input: r.body });
      fs.writeFileSync(`${file.slice(0, -3)}.decode_raw.txt`, raw);
    } catch (e) {
      console.error(`protoc --decode_raw failed for ${file}: ${e.message}`);
    }
  }
}
const expected = ['traces.pb', 'traces.json', 'metrics.pb', 'metrics.json', 'logs.pb', 'logs.json'];
const missing = expected.filter((k) => !seen.has(k));
if (missing.length) {
  console.error(`missing bodies: ${missing.join(', ')}`);
  process.exit(1);
}
