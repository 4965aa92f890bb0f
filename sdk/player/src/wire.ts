/**
 * The m-trace wire format 1.0 for POST /api/playback-events, as this SDK writes it.
 *
 * A batch is `{schema_version:"1.0", events:[1..100], session_boundaries?:[..20]}` and at most
 * 262144 bytes of JSON. Events carry event_name, project_id, session_id, client_timestamp (RFC 3339,
 * milliseconds, "Z"), sequence_number, sdk{name,version} and a flat meta map. The contract file
 * (m-trace contracts/event-schema.json) is the authority; test/contract.test.ts checks every batch
 * the SDK produces against it.
 */

export const SCHEMA_VERSION = '1.0';
/** Events per batch, from the contract (min 1). */
export const MAX_BATCH_EVENTS = 100;
/** Bytes of JSON per batch, from the contract; the server answers 413 above it. */
export const MAX_BATCH_BYTES = 262144;
/** Boundaries per batch, from the contract. */
export const MAX_SESSION_BOUNDARIES = 20;
/** Browsers cap the bodies of in-flight keepalive requests (and beacons) at 64 KiB in total. */
export const KEEPALIVE_MAX_BYTES = 65536;

/** Event names of the m-trace contract. */
export const MTRACE_EVENT_NAMES = [
  'manifest_loaded',
  'segment_loaded',
  'playback_started',
  'bitrate_switch',
  'rebuffer_started',
  'rebuffer_ended',
  'playback_error',
  'startup_time_measured',
  'metrics_sampled',
  'session_ended',
  'startup_completed',
] as const;

/**
 * avtrace extensions. m-trace stores any non-empty event name, so these pass there too; set
 * `extensionEvents: false` to emit only the contract's names.
 */
export const EXTENSION_EVENT_NAMES = ['play_intent', 'seek_started', 'seek_ended', 'playback_paused', 'playback_resumed'] as const;

export type MtraceEventName = (typeof MTRACE_EVENT_NAMES)[number];
export type ExtensionEventName = (typeof EXTENSION_EVENT_NAMES)[number];

export type MetaValue = string | number | boolean | null;
export type Meta = Record<string, MetaValue>;

export interface SdkInfo {
  name: string;
  version: string;
}

export interface WireEvent {
  event_name: string;
  project_id: string;
  session_id: string;
  client_timestamp: string;
  sequence_number?: number;
  sdk: SdkInfo;
  meta?: Meta;
}

export type NetworkKind = 'manifest' | 'segment';
export type BoundaryAdapter = 'hls.js' | 'native_hls' | 'unknown';
export type NetworkUnavailableReason =
  | 'native_hls_unavailable'
  | 'hlsjs_signal_unavailable'
  | 'browser_api_unavailable'
  | 'resource_timing_unavailable'
  | 'cors_timing_blocked'
  | 'service_worker_opaque';

/** A `network_signal_absent` marker: this session cannot report manifest or segment detail. */
export interface SessionBoundary {
  kind: 'network_signal_absent';
  project_id: string;
  session_id: string;
  network_kind: NetworkKind;
  adapter: BoundaryAdapter;
  reason: NetworkUnavailableReason;
  client_timestamp: string;
}

export interface WireBatch {
  schema_version: typeof SCHEMA_VERSION;
  events: WireEvent[];
  session_boundaries?: SessionBoundary[];
}

/** UTF-8 byte length of a JS string without allocating (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

const BATCH_HEAD = `{"schema_version":"${SCHEMA_VERSION}","events":[`;
/** Bytes of `{"schema_version":"1.0","events":[` + `]}`. */
export const BATCH_OVERHEAD_BYTES = BATCH_HEAD.length + 2;

/**
 * Joins pre-serialised events (and boundaries) into a batch body. Serialising each event once and
 * joining keeps size accounting exact and cheap: body bytes = overhead + Σ event bytes + commas.
 */
export function encodeBatch(eventJson: readonly string[], boundaryJson: readonly string[] = []): string {
  let s = BATCH_HEAD + eventJson.join(',') + ']';
  if (boundaryJson.length > 0) s += ',"session_boundaries":[' + boundaryJson.join(',') + ']';
  return s + '}';
}

/** client_timestamp: RFC 3339 with milliseconds and "Z", e.g. 2026-01-02T03:04:05.678Z. */
export function isoTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
