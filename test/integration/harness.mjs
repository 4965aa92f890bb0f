// Integration-test harness: runs the real `avtrace serve` binary in a temp data dir and talks to it.
//
// - startServer() spawns the binary with port-0 listeners, polls <data-dir>/ports.json until it
//   names the child's own PID, and returns a handle with the two base URLs.
// - Every spawned child is remembered; when the test process exits (normally, on an uncaught error
//   or on SIGINT/SIGTERM) the survivors are SIGKILLed by their own PID. Tests should still stop
//   servers explicitly from t.after() so the exit status of a graceful stop can be asserted.
// - request()/getJson()/postOtlp(): a thin node:http client that returns status, headers and body.
// - PbWriter / PbReader and encodeTraceRequest(): a small protobuf writer (varint, LEN, fixed32,
//   fixed64) used to hand-craft OTLP bodies, good or deliberately broken.
// - normalize*(): canonical forms of OTLP/JSON so that what the SDK sent and what the query API
//   returns can be compared field by field.
//
// Environment: AVTRACE_BIN (binary; default <repo>/build/avtrace), AVTRACE_IT_KEEP=1 keeps temp
// dirs (server logs are in <root>/server-<n>.log).

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function avtraceBin() {
  return process.env.AVTRACE_BIN || path.join(REPO, 'build', 'avtrace');
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every child we start, so none outlives the test process.

const liveChildren = new Set();

function killAllChildrenSync() {
  for (const child of liveChildren) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
}

process.on('exit', killAllChildrenSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAllChildrenSync();
    process.exit(128 + (os.constants.signals[sig] ?? 1));
  });
}

// Spawns `cmd` and tracks it. Output goes to `logPath` (and a ring buffer for error messages).
export function spawnTracked(cmd, args, { logPath, env, cwd } = {}) {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    cwd,
  });
  liveChildren.add(child);
  const log = logPath ? fs.createWriteStream(logPath) : null;
  let tail = '';
  const onData = (chunk) => {
    log?.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      liveChildren.delete(child);
      resolve({ code: null, signal: null, error: err });
    });
  });
  child.exitStatus = null;
  child.exited.then((st) => {
    child.exitStatus = st;
    log?.end();
  });
  child.logTail = () => tail;
  return child;
}

// Sends `signal` to the child's own PID and waits for it to exit; escalates to SIGKILL after
// `timeoutMs`. Returns {code, signal, escalated}.
export async function stopChild(child, { signal = 'SIGTERM', timeoutMs = 30000 } = {}) {
  if (child.exitStatus) return { ...child.exitStatus, escalated: false };
  try {
    process.kill(child.pid, signal);
  } catch {
    // raced with exit
  }
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const first = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  if (first !== 'timeout') return { ...first, escalated: false };
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // gone
  }
  const st = await child.exited;
  return { ...st, escalated: true };
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Temp dirs and polling.

export function makeTempRoot(prefix = 'avtrace-it-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempRoot(root) {
  if (!root || process.env.AVTRACE_IT_KEEP) return;
  fs.rmSync(root, { recursive: true, force: true });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws with the
// last value/error in the message). An error with `fatal: true` thrown by `fn` ends it at once.
export async function pollUntil(fn, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      if (err.fatal) throw err;  // no point in waiting any longer
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(intervalMs);
  }
}

// A minimal YAML emitter for the config file: nested objects, scalars, arrays of scalars.
export function toYaml(obj, indent = '') {
  let out = '';
  for (const [key, value] of Object.entries(obj)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out += `${indent}${key}:\n${toYaml(value, indent + '  ')}`;
    } else if (Array.isArray(value)) {
      out += `${indent}${key}:\n`;
      for (const v of value) out += `${indent}  - ${JSON.stringify(v)}\n`;
    } else {
      out += `${indent}${key}: ${typeof value === 'string' ? JSON.stringify(value) : value}\n`;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The server.

let serverSeq = 0;

// Starts `avtrace serve`. Options:
//   root:    temp root to use (created if absent; data dir is <root>/data) — pass the same root to
//            restart on the same data dir
//   config:  object (rendered to YAML) or YAML text; written to <root>/config.yaml
//   args:    extra CLI arguments; env: extra environment
// Returns a handle: {pid, child, root, dataDir, otlp, http, ports, stop(), kill9(), rssKb(), logTail()}.
export async function startServer({ root, config, args = [], env = {}, startTimeoutMs = 20000 } = {}) {
  const bin = avtraceBin();
  if (!fs.existsSync(bin)) throw new Error(`avtrace binary not found at ${bin} (set AVTRACE_BIN)`);
  const ownRoot = root === undefined;
  root ??= makeTempRoot();
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const portsPath = path.join(dataDir, 'ports.json');
  fs.rmSync(portsPath, { force: true });

  const argv = [
    'serve',
    '--data-dir', dataDir,
    '--otlp-http-listen', '127.0.0.1:0',
    '--http-listen', '127.0.0.1:0',
  ];
  if (config !== undefined) {
    const cfgPath = path.join(root, 'config.yaml');
    fs.writeFileSync(cfgPath, typeof config === 'string' ? config : toYaml(config));
    argv.push('--config', cfgPath);
  }
  argv.push(...args);

  const logPath = path.join(root, `server-${++serverSeq}.log`);
  const child = spawnTracked(bin, argv, { logPath, env });

  let ports;
  try {
    ports = await pollUntil(
      () => {
        if (child.exitStatus) {
          throw Object.assign(
            new Error(`avtrace exited during startup (${JSON.stringify(child.exitStatus)}):\n${child.logTail()}`),
            { fatal: true });
        }
        let text;
        try {
          text = fs.readFileSync(portsPath, 'utf8');
        } catch {
          return null;
        }
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          return null;  // partially written; poll again
        }
        if (parsed.pid !== undefined && parsed.pid !== child.pid) return null;  // stale
        return parsed.otlp_http && parsed.http ? parsed : null;
      },
      { timeoutMs: startTimeoutMs, intervalMs: 20, what: `${portsPath}` });
  } catch (err) {
    await stopChild(child, { signal: 'SIGKILL' });
    if (!err.message.includes('exited during startup')) {
      err.message += `\nserver log tail:\n${child.logTail()}`;
    }
    if (ownRoot) removeTempRoot(root);
    throw err;
  }

  const server = {
    pid: child.pid,
    child,
    root,
    dataDir,
    ports,
    logPath,
    otlp: `http://${ports.otlp_http}`,
    http: `http://${ports.http}`,
    logTail: () => child.logTail(),
    alive: () => !child.exitStatus && isAlive(child.pid),
    // Graceful stop: SIGTERM to our own child, wait for exit. Returns {code, signal, escalated}.
    stop: (opts) => stopChild(child, { signal: 'SIGTERM', ...opts }),
    kill9: () => stopChild(child, { signal: 'SIGKILL' }),
    rssKb: () => readRssKb(child.pid),
  };
  return server;
}

export function readRssKb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP client.

export const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// options: method, headers, body (Buffer|string), chunked (send without Content-Length),
// agent, timeoutMs. Resolves {status, headers, body: Buffer, text(), json()}; rejects on
// network errors (err.code: ECONNRESET, ECONNREFUSED, ...).
export function request(url, { method = 'GET', headers = {}, body, chunked = false, agent, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const hdrs = { ...headers };
    let payload = body;
    if (typeof payload === 'string') payload = Buffer.from(payload, 'utf8');
    if (payload && !chunked) hdrs['Content-Length'] = payload.length;
    if (chunked) hdrs['Transfer-Encoding'] = 'chunked';
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        headers: hdrs,
        agent: agent ?? keepAliveAgent,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({
            status: res.statusCode,
            headers: res.headers,
            body: buf,
            text: () => buf.toString('utf8'),
            json: () => JSON.parse(buf.toString('utf8')),
          });
        });
        res.on('error', reject);
      });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`timeout ${method} ${url}`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    if (payload && chunked) {
      // Several chunks, like the OTel exporters (which never send Content-Length).
      const step = Math.max(1, Math.ceil(payload.length / 3));
      for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step));
      req.end();
    } else {
      req.end(payload);
    }
  });
}

// GET returning {status, headers, body (parsed JSON or null), raw}.
export async function getJson(url, opts = {}) {
  const res = await request(url, opts);
  let parsed = null;
  try {
    parsed = res.body.length ? res.json() : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, headers: res.headers, body: parsed, raw: res.text() };
}

// Asserting GET: returns the parsed body or throws with the response text.
export async function getOk(url, opts = {}) {
  const res = await getJson(url, opts);
  if (res.status !== 200 || res.body === null) {
    throw new Error(`GET ${url} -> ${res.status}: ${res.raw.slice(0, 2000)}`);
  }
  return res.body;
}

export function postOtlp(baseUrl, signal, body, { contentType = 'application/x-protobuf', encoding, headers = {}, ...rest } = {}) {
  const hdrs = { 'Content-Type': contentType, ...headers };
  if (encoding) hdrs['Content-Encoding'] = encoding;
  return request(`${baseUrl}/v1/${signal}`, { method: 'POST', headers: hdrs, body, ...rest });
}

// The human message in an error/partial-success answer, whatever its encoding:
// google.rpc.Status protobuf (message=2), {"code","message"} JSON, {"error":{"message"}} JSON,
// Export*ServiceResponse partial_success (protobuf or JSON), or plain text.
export function responseMessage(res) {
  const ct = String(res.headers['content-type'] || '');
  const buf = res.body;
  if (ct.includes('json')) {
    try {
      const j = JSON.parse(buf.toString('utf8'));
      return j.message ?? j.error?.message ?? j.partialSuccess?.errorMessage ?? JSON.stringify(j);
    } catch {
      return buf.toString('utf8');
    }
  }
  if (ct.includes('protobuf')) {
    try {
      const st = decodeRpcStatus(buf);
      if (st.message) return st.message;
      const ps = decodePartialSuccess(buf);
      if (ps.errorMessage) return ps.errorMessage;
    } catch {
      // fall through
    }
  }
  return buf.toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Protobuf writer/reader.

const WT = { VARINT: 0, I64: 1, LEN: 2, I32: 5 };
export const WireType = WT;

function varintBytes(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

export class PbWriter {
  constructor() {
    this.chunks = [];
  }
  raw(buf) {
    this.chunks.push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf));
    return this;
  }
  rawVarint(v) {
    return this.raw(varintBytes(v));
  }
  tag(field, wireType) {
    return this.rawVarint((BigInt(field) << 3n) | BigInt(wireType));
  }
  varint(field, v) {
    return this.tag(field, WT.VARINT).rawVarint(v);
  }
  int64(field, v) {
    return this.varint(field, BigInt.asUintN(64, BigInt(v)));
  }
  bool(field, v) {
    return this.varint(field, v ? 1 : 0);
  }
  fixed64(field, v) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
    return this.tag(field, WT.I64).raw(b);
  }
  sfixed64(field, v) {
    return this.fixed64(field, v);
  }
  fixed32(field, v) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.tag(field, WT.I32).raw(b);
  }
  double(field, v) {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return this.tag(field, WT.I64).raw(b);
  }
  bytes(field, buf) {
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
    return this.tag(field, WT.LEN).rawVarint(b.length).raw(b);
  }
  string(field, s) {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }
  // `m` is a PbWriter, a Buffer, or a function (w) => void that fills a fresh writer.
  message(field, m) {
    let buf;
    if (typeof m === 'function') {
      const w = new PbWriter();
      m(w);
      buf = w.finish();
    } else if (m instanceof PbWriter) {
      buf = m.finish();
    } else {
      buf = m;
    }
    return this.bytes(field, buf);
  }
  finish() {
    return Buffer.concat(this.chunks);
  }
}

// Reads one level of fields: [{field, wireType, value}] where value is a BigInt (varint/fixed)
// or a Buffer (LEN). Throws on malformed input.
export function pbFields(buf) {
  const out = [];
  let i = 0;
  const readVarint = () => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    let value;
    if (wireType === WT.VARINT) value = readVarint();
    else if (wireType === WT.I64) {
      if (i + 8 > buf.length) throw new Error('truncated fixed64');
      value = buf.readBigUInt64LE(i);
      i += 8;
    } else if (wireType === WT.LEN) {
      const len = Number(readVarint());
      if (i + len > buf.length) throw new Error('truncated LEN');
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wireType === WT.I32) {
      if (i + 4 > buf.length) throw new Error('truncated fixed32');
      value = BigInt(buf.readUInt32LE(i));
      i += 4;
    } else throw new Error(`bad wire type ${wireType}`);
    out.push({ field, wireType, value });
  }
  return out;
}

export function decodeRpcStatus(buf) {
  const st = { code: 0, message: '' };
  for (const f of pbFields(buf)) {
    if (f.field === 1 && f.wireType === WT.VARINT) st.code = Number(BigInt.asIntN(32, f.value));
    if (f.field === 2 && f.wireType === WT.LEN) st.message = f.value.toString('utf8');
  }
  return st;
}

// Export{Trace,Metrics,Logs}ServiceResponse: partial_success=1 {rejected=1 int64, error_message=2}.
export function decodePartialSuccess(buf) {
  const out = { present: false, rejected: 0, errorMessage: '' };
  for (const f of pbFields(buf)) {
    if (f.field === 1 && f.wireType === WT.LEN) {
      out.present = true;
      for (const g of pbFields(f.value)) {
        if (g.field === 1 && g.wireType === WT.VARINT) out.rejected = Number(g.value);
        if (g.field === 2 && g.wireType === WT.LEN) out.errorMessage = g.value.toString('utf8');
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// OTLP protobuf encoding of OTLP/JSON-shaped objects (ids as hex strings or Buffers, int64 as
// number/string/BigInt). The same object can be sent as JSON with JSON.stringify when ids are hex.

const idBuf = (id) => (Buffer.isBuffer(id) ? id : Buffer.from(id, 'hex'));

export function encodeAnyValue(w, v) {
  if (v === undefined || v === null) return;
  if ('stringValue' in v) w.string(1, v.stringValue);
  else if ('boolValue' in v) w.bool(2, v.boolValue);
  else if ('intValue' in v) w.int64(3, v.intValue);
  else if ('doubleValue' in v) w.double(4, v.doubleValue);
  else if ('arrayValue' in v) {
    w.message(5, (a) => {
      for (const x of v.arrayValue.values ?? []) a.message(1, (e) => encodeAnyValue(e, x));
    });
  } else if ('kvlistValue' in v) {
    w.message(6, (a) => encodeKeyValues(a, 1, v.kvlistValue.values ?? []));
  } else if ('bytesValue' in v) w.bytes(7, Buffer.from(v.bytesValue, 'base64'));
}

export function encodeKeyValues(w, field, kvs) {
  for (const kv of kvs ?? []) {
    w.message(field, (m) => {
      m.string(1, kv.key);
      if (kv.value !== undefined) m.message(2, (a) => encodeAnyValue(a, kv.value));
    });
  }
}

// JS values -> OTLP/JSON KeyValue list: string, boolean, BigInt/integer number (int), other
// number (double), array, Buffer (bytes), plain object (kvlist).
export function toAnyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Buffer.isBuffer(v)) return { bytesValue: v.toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(toAnyValue) } };
  if (v && typeof v === 'object') return { kvlistValue: { values: attrs(v) } };
  throw new Error(`unsupported attribute value ${v}`);
}
export function attrs(obj) {
  return Object.entries(obj).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

function encodeResourceAndScope(w, resource) {
  if (resource) {
    w.message(1, (r) => {
      encodeKeyValues(r, 1, resource.attributes);
      if (resource.droppedAttributesCount) r.varint(2, resource.droppedAttributesCount);
    });
  }
}
function encodeScope(w, scope) {
  if (!scope) return;
  w.message(1, (s) => {
    if (scope.name) s.string(1, scope.name);
    if (scope.version) s.string(2, scope.version);
    encodeKeyValues(s, 3, scope.attributes);
  });
}

export function encodeSpan(w, s) {
  w.bytes(1, idBuf(s.traceId));
  w.bytes(2, idBuf(s.spanId));
  if (s.traceState) w.string(3, s.traceState);
  if (s.parentSpanId) w.bytes(4, idBuf(s.parentSpanId));
  if (s.name !== undefined) w.string(5, s.name);
  if (s.kind) w.varint(6, s.kind);
  w.fixed64(7, s.startTimeUnixNano ?? 0);
  w.fixed64(8, s.endTimeUnixNano ?? 0);
  encodeKeyValues(w, 9, s.attributes);
  if (s.droppedAttributesCount) w.varint(10, s.droppedAttributesCount);
  for (const e of s.events ?? []) {
    w.message(11, (m) => {
      m.fixed64(1, e.timeUnixNano ?? 0);
      m.string(2, e.name ?? '');
      encodeKeyValues(m, 3, e.attributes);
      if (e.droppedAttributesCount) m.varint(4, e.droppedAttributesCount);
    });
  }
  if (s.droppedEventsCount) w.varint(12, s.droppedEventsCount);
  for (const l of s.links ?? []) {
    w.message(13, (m) => {
      m.bytes(1, idBuf(l.traceId));
      m.bytes(2, idBuf(l.spanId));
      if (l.traceState) m.string(3, l.traceState);
      encodeKeyValues(m, 4, l.attributes);
      if (l.droppedAttributesCount) m.varint(5, l.droppedAttributesCount);
      if (l.flags) m.fixed32(6, l.flags);
    });
  }
  if (s.droppedLinksCount) w.varint(14, s.droppedLinksCount);
  if (s.status) {
    w.message(15, (m) => {
      if (s.status.message) m.string(2, s.status.message);
      if (s.status.code) m.varint(3, s.status.code);
    });
  }
  if (s.flags) w.fixed32(16, s.flags);
}

// {resourceSpans:[{resource:{attributes}, scopeSpans:[{scope, spans:[...]}]}]} -> Buffer.
export function encodeTraceRequest(req) {
  const w = new PbWriter();
  for (const rs of req.resourceSpans ?? []) {
    w.message(1, (r) => {
      encodeResourceAndScope(r, rs.resource);
      for (const ss of rs.scopeSpans ?? []) {
        r.message(2, (s) => {
          encodeScope(s, ss.scope);
          for (const span of ss.spans ?? []) s.message(2, (m) => encodeSpan(m, span));
        });
      }
    });
  }
  return w.finish();
}

export const randomHex = (bytes) => crypto.randomBytes(bytes).toString('hex');

export function nowNanos() {
  return BigInt(Date.now()) * 1000000n;
}

// A one-resource, one-scope trace request in OTLP/JSON shape: `n` spans of one trace, the first
// the root and the others its children, each with a couple of attributes.
export function makeTrace({ service = 'it-svc', traceId = randomHex(16), n = 3, name = 'op', startNanos, attributes = {} } = {}) {
  const start = startNanos ?? nowNanos() - 5000000000n;
  const spanIds = Array.from({ length: n }, () => randomHex(8));
  const spans = spanIds.map((spanId, i) => ({
    traceId,
    spanId,
    parentSpanId: i === 0 ? undefined : spanIds[0],
    name: i === 0 ? name : `${name}.child${i}`,
    kind: i === 0 ? 2 : 1,
    startTimeUnixNano: String(start + BigInt(i) * 1000000n),
    endTimeUnixNano: String(start + BigInt(i) * 1000000n + 50000000n),
    attributes: attrs({ 'it.index': i, 'it.label': `span-${i}`, ...attributes }),
  }));
  const req = {
    resourceSpans: [{
      resource: { attributes: attrs({ 'service.name': service }) },
      scopeSpans: [{ scope: { name: 'it-harness', version: '1.0.0' }, spans }],
    }],
  };
  return { traceId, spanIds, req };
}

// Fast batch factory for load tests: encodes one template trace with `n` spans once, then makes
// copies with fresh random trace and span ids patched in place (ids found by their unique random
// bytes). Each make() returns {traceId, spanIds, body}.
export function traceBodyFactory({ service = 'it-load', n = 50, attrCount = 4, name = 'load' } = {}) {
  const extra = {};
  for (let i = 0; i < attrCount; i++) extra[`load.attr${i}`] = `value-${i}-${'x'.repeat(8)}`;
  const tpl = makeTrace({ service, n, name, attributes: extra });
  const body = encodeTraceRequest(tpl.req);
  const traceMarker = Buffer.from(tpl.traceId, 'hex');
  const findAll = (needle) => {
    const at = [];
    for (let i = body.indexOf(needle); i !== -1; i = body.indexOf(needle, i + 1)) at.push(i);
    return at;
  };
  const traceOffsets = findAll(traceMarker);
  const spanOffsets = tpl.spanIds.map((id) => findAll(Buffer.from(id, 'hex')));
  if (traceOffsets.length !== n) throw new Error('template trace id not unique');
  return {
    spansPerBatch: n,
    bytes: body.length,
    make() {
      const out = Buffer.from(body);
      const ids = crypto.randomBytes(16 + 8 * n);
      for (const off of traceOffsets) ids.copy(out, off, 0, 16);
      const spanIds = [];
      for (let i = 0; i < n; i++) {
        const s = 16 + 8 * i;
        for (const off of spanOffsets[i]) ids.copy(out, off, s, s + 8);
        spanIds.push(ids.subarray(s, s + 8).toString('hex'));
      }
      return { traceId: ids.subarray(0, 16).toString('hex'), spanIds, body: out };
    },
  };
}

// Runs `fn(item)` over `items` with at most `concurrency` in flight; resolves to the results.
export async function mapLimit(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

// Flattens an OTLP/JSON trace answer into the span ids it holds.
export function spanIdsOf(resourceSpans) {
  const ids = [];
  for (const rs of resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) ids.push(String(s.spanId).toLowerCase());
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON normalisation: one canonical form for "what was sent" and "what came back".
// Int64 -> decimal string, doubles -> Number, ids -> lowercase hex, absent == default, enum ints,
// attribute lists sorted by key (OTLP attributes are a map; order is not significant).

const i64 = (v) => (v === undefined || v === null || v === '' ? '0' : BigInt(v).toString());
const num = (v) => (v === undefined || v === null ? 0 : Number(v));
const hex = (v) => (v ? String(v).toLowerCase() : '');

export function normAnyValue(v) {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return { s: v.stringValue };
  if ('boolValue' in v) return { b: v.boolValue };
  if ('intValue' in v) return { i: i64(v.intValue) };
  if ('doubleValue' in v) return { d: Number(v.doubleValue) };
  if ('arrayValue' in v) return { a: (v.arrayValue?.values ?? []).map(normAnyValue) };
  if ('kvlistValue' in v) return { m: normAttrs(v.kvlistValue?.values) };
  if ('bytesValue' in v) return { y: Buffer.from(v.bytesValue, 'base64').toString('hex') };
  return null;
}

export function normAttrs(list) {
  return (list ?? [])
    .map((kv) => [kv.key, normAnyValue(kv.value)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function normResource(r) {
  return { attributes: normAttrs(r?.attributes), dropped: num(r?.droppedAttributesCount) };
}

export function normScope(s) {
  return {
    name: s?.name ?? '',
    version: s?.version ?? '',
    attributes: normAttrs(s?.attributes),
    dropped: num(s?.droppedAttributesCount),
  };
}

export function normSpan(s) {
  return {
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    traceState: s.traceState ?? '',
    flags: num(s.flags),
    name: s.name ?? '',
    kind: num(s.kind),
    startTimeUnixNano: i64(s.startTimeUnixNano),
    endTimeUnixNano: i64(s.endTimeUnixNano),
    attributes: normAttrs(s.attributes),
    droppedAttributesCount: num(s.droppedAttributesCount),
    events: (s.events ?? []).map((e) => ({
      timeUnixNano: i64(e.timeUnixNano),
      name: e.name ?? '',
      attributes: normAttrs(e.attributes),
      droppedAttributesCount: num(e.droppedAttributesCount),
    })),
    droppedEventsCount: num(s.droppedEventsCount),
    links: (s.links ?? []).map((l) => ({
      traceId: hex(l.traceId),
      spanId: hex(l.spanId),
      traceState: l.traceState ?? '',
      flags: num(l.flags),
      attributes: normAttrs(l.attributes),
      droppedAttributesCount: num(l.droppedAttributesCount),
    })),
    droppedLinksCount: num(s.droppedLinksCount),
    status: { code: num(s.status?.code), message: s.status?.message ?? '' },
  };
}

// {resourceSpans} -> Map spanId -> {resource, scope, span} (normalised).
export function flattenSpans(resourceSpans) {
  const out = new Map();
  for (const rs of resourceSpans ?? []) {
    const resource = { ...normResource(rs.resource), schemaUrl: rs.schemaUrl ?? '' };
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { ...normScope(ss.scope), schemaUrl: ss.schemaUrl ?? '' };
      for (const s of ss.spans ?? []) {
        const span = normSpan(s);
        out.set(span.spanId, { resource, scope, span });
      }
    }
  }
  return out;
}

export function normLogRecord(r) {
  return {
    timeUnixNano: i64(r.timeUnixNano),
    observedTimeUnixNano: i64(r.observedTimeUnixNano),
    severityNumber: num(r.severityNumber),
    severityText: r.severityText ?? '',
    eventName: r.eventName ?? '',
    body: normAnyValue(r.body),
    attributes: normAttrs(r.attributes),
    droppedAttributesCount: num(r.droppedAttributesCount),
    flags: num(r.flags),
    traceId: hex(r.traceId),
    spanId: hex(r.spanId),
  };
}

// {resourceLogs} -> [{resource, scope, log}] sorted by time then content.
export function flattenLogs(resourceLogs) {
  const out = [];
  for (const rl of resourceLogs ?? []) {
    const resource = { ...normResource(rl.resource), schemaUrl: rl.schemaUrl ?? '' };
    for (const sl of rl.scopeLogs ?? []) {
      const scope = { ...normScope(sl.scope), schemaUrl: sl.schemaUrl ?? '' };
      for (const r of sl.logRecords ?? []) out.push({ resource, scope, log: normLogRecord(r) });
    }
  }
  const key = (e) => `${e.log.timeUnixNano.padStart(24, '0')}|${JSON.stringify(e.log)}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
