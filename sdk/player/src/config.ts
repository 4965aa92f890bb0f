/**
 * Tracker configuration: the public shape, its defaults, and validation. Bad configuration fails
 * fast: createTracker() throws a TypeError naming the field, before anything is attached or sent.
 */
import type { Env } from './env';
import type { StringRedactor } from './redact';
import type { AuthHeader, Transport } from './transport';
import { MAX_BATCH_EVENTS, type Meta } from './wire';

export interface CmcdConfig {
  /** `query` (default) adds `CMCD=`; `headers` sends CMCD-* headers (needs CORS allowance). */
  mode?: 'query' | 'headers';
  /** CMCD `cid`, ≤ 64 characters. */
  contentId?: string;
}

export interface TraceparentConfig {
  /**
   * Cross-origin request URLs that may carry `traceparent` (string prefix or RegExp), as in
   * OpenTelemetry web's option of the same name. Same-origin requests always carry it. A
   * cross-origin origin listed here must allow the header in CORS (Access-Control-Allow-Headers).
   */
  propagateTraceHeaderCorsUrls?: Array<string | RegExp>;
}

export interface TrackerConfig {
  /** Full URL of the ingest route, e.g. `https://avtrace.example/api/playback-events`. */
  endpoint: string;
  /** Wire `project_id`; must match the token's project. */
  projectId: string;
  /** Project or session token; a function is called per request (short-lived session tokens). */
  token?: string | (() => string | undefined);
  /** Header carrying the token: `X-MTrace-Token` (default), `X-MTrace-Session-Token` or `Authorization` (Bearer). */
  authHeader?: AuthHeader;
  /** Wire `session_id`; default a random UUID v4. */
  sessionId?: string;
  /** Fraction of sessions that send telemetry, in [0, 1]; default 1. Deterministic per session id. */
  sessionSampleRate?: number;
  /** Queue length that triggers a send; default 10, clamped to 1..100. */
  batchSize?: number;
  /** Periodic send interval; default 5000 ms; 0 disables it. */
  flushIntervalMs?: number;
  /** Queue bound; default 1000 events. */
  maxQueueEvents?: number;
  /** Attempts after the first before an event is dropped; default 8. */
  maxRetries?: number;
  /** Per-request timeout; default 10000 ms. */
  requestTimeoutMs?: number;
  /** Backoff: first delay (default 1000 ms), cap (30000 ms), and cap on a server's Retry-After (300000 ms). */
  backoff?: { baseMs?: number; maxMs?: number; maxRetryAfterMs?: number };
  /** Period of `metrics_sampled` from media adapters; default 15000 ms (below m-trace's 60 s stall sweep); 0 off. */
  sampleIntervalMs?: number;
  /** Period of WebRTC getStats sampling; default 5000 ms. */
  webrtcIntervalMs?: number;
  /** Emit `segment_loaded`; default true. */
  segmentEvents?: boolean;
  /** Emit avtrace's extra event names (play_intent, seek_started, seek_ended); default true. */
  extensionEvents?: boolean;
  /** Emit session_ended on pagehide; default true. A page restored from bfcache starts a new session. */
  endSessionOnPagehide?: boolean;
  /** Static meta added to every event (keep it small: it is repeated per event). */
  meta?: Meta;
  /** Extra redaction run on every meta string after the built-in URL redaction; undefined drops the key. */
  redact?: StringRedactor;
  /** CMCD on manifest and segment requests (hls.js, dashjs); default off. */
  cmcd?: boolean | CmcdConfig;
  /** `traceparent` on manifest/segment requests and on beacons; default on (same-origin only). */
  traceparent?: boolean | TraceparentConfig;
  /** Query parameter for the token on sendBeacon (no headers possible); default `access_token`; null: none. */
  beaconAuthParam?: string | null;
  /** Replaces the HTTP transport (tests, custom delivery). */
  transport?: Transport;
  /** Replaces parts of the browser environment (tests). */
  env?: Partial<Env>;
  /** console.debug on drops and adapter problems. */
  debug?: boolean;
}

export interface ResolvedConfig {
  endpoint: string;
  projectId: string;
  token?: string | (() => string | undefined);
  authHeader: AuthHeader;
  sessionId?: string;
  sessionSampleRate: number;
  batchSize: number;
  flushIntervalMs: number;
  maxQueueEvents: number;
  maxRetries: number;
  requestTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  sampleIntervalMs: number;
  webrtcIntervalMs: number;
  segmentEvents: boolean;
  extensionEvents: boolean;
  endSessionOnPagehide: boolean;
  meta?: Meta;
  redact?: StringRedactor;
  cmcd: Required<CmcdConfig> | null;
  traceparent: { corsUrls: Array<string | RegExp> } | null;
  beaconAuthParam: string | null;
  transport?: Transport;
  debug: boolean;
}

function fail(field: string): never {
  throw new TypeError(`avtrace: invalid config.${field}`);
}

function num(v: unknown, name: string, dflt: number, min: number, max = Infinity): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= min && v <= max)) fail(name);
  return v;
}

const AUTH_HEADERS = ['X-MTrace-Token', 'X-MTrace-Session-Token', 'Authorization'];

/**
 * Validates `c` and fills defaults. Throws TypeError("avtrace: invalid config.<field>") on the first
 * invalid field: endpoint (absolute http(s) URL unless a transport is given), projectId (non-empty),
 * sessionId (1..128 characters), token (string or function), authHeader, cmcd.mode, and every
 * numeric option outside its range.
 */
export function resolveConfig(c: TrackerConfig): ResolvedConfig {
  if (!c || typeof c !== 'object') fail('');
  if (!c.transport && !/^https?:\/\//.test(String(c.endpoint))) fail('endpoint');
  if (typeof c.projectId !== 'string' || c.projectId === '') fail('projectId');
  const sid = c.sessionId;
  if (sid !== undefined && (typeof sid !== 'string' || sid === '' || sid.length > 128)) fail('sessionId');
  if (c.token !== undefined && typeof c.token !== 'string' && typeof c.token !== 'function') fail('token');
  const authHeader = (c.authHeader ?? 'X-MTrace-Token') as AuthHeader;
  if (!AUTH_HEADERS.includes(authHeader)) fail('authHeader');

  let cmcd: ResolvedConfig['cmcd'] = null;
  if (c.cmcd) {
    const o = c.cmcd === true ? {} : c.cmcd;
    const mode = o.mode ?? 'query';
    if (mode !== 'query' && mode !== 'headers') fail('cmcd.mode');
    cmcd = { mode, contentId: o.contentId ?? '' };
  }
  const tp = c.traceparent;
  const traceparent = tp === false ? null : { corsUrls: (typeof tp === 'object' && tp.propagateTraceHeaderCorsUrls) || [] };
  const b = c.backoff ?? {};
  return {
    endpoint: c.endpoint,
    projectId: c.projectId,
    token: c.token,
    authHeader,
    sessionId: sid,
    sessionSampleRate: num(c.sessionSampleRate, 'sessionSampleRate', 1, 0, 1),
    batchSize: Math.min(MAX_BATCH_EVENTS, Math.max(1, Math.floor(num(c.batchSize, 'batchSize', 10, -Infinity)))),
    flushIntervalMs: num(c.flushIntervalMs, 'flushIntervalMs', 5000, 0),
    maxQueueEvents: Math.floor(num(c.maxQueueEvents, 'maxQueueEvents', 1000, 1)),
    maxRetries: Math.floor(num(c.maxRetries, 'maxRetries', 8, 0)),
    requestTimeoutMs: num(c.requestTimeoutMs, 'requestTimeoutMs', 10000, 1),
    backoffBaseMs: num(b.baseMs, 'backoff.baseMs', 1000, 1),
    backoffMaxMs: num(b.maxMs, 'backoff.maxMs', 30000, 1),
    maxRetryAfterMs: num(b.maxRetryAfterMs, 'backoff.maxRetryAfterMs', 300000, 0),
    sampleIntervalMs: num(c.sampleIntervalMs, 'sampleIntervalMs', 15000, 0),
    webrtcIntervalMs: num(c.webrtcIntervalMs, 'webrtcIntervalMs', 5000, 100),
    segmentEvents: c.segmentEvents !== false,
    extensionEvents: c.extensionEvents !== false,
    endSessionOnPagehide: c.endSessionOnPagehide !== false,
    meta: c.meta,
    redact: c.redact,
    cmcd,
    traceparent,
    beaconAuthParam: c.beaconAuthParam === undefined ? 'access_token' : c.beaconAuthParam,
    transport: c.transport,
    debug: !!c.debug,
  };
}
