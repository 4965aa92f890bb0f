/**
 * Privacy at the SDK boundary: URL redaction and meta sanitising.
 *
 * redactUrl() follows m-trace's rules exactly (spec/telemetry-model.md §1.4), because its server
 * rejects a `network.redacted_url` that is not already redacted with 422: drop query, fragment and
 * userinfo; keep scheme, host and path; replace a token-like path segment (≥ 24 characters with
 * ≥ 80 % [A-Za-z0-9_-], even-length hex of ≥ 32, JWT-shaped, or bad percent-encoding) with
 * ":redacted"; anything unparseable becomes ":redacted".
 *
 * sanitizeMeta() makes a caller's meta safe to send: flat primitives only, bounded strings, URLs
 * redacted wherever they appear, and reserved keys (network.*, timing.*, webrtc.*,
 * session_sample_rate) checked against the contract so that one bad key cannot get a whole batch
 * rejected with 422. Invalid reserved keys are dropped, not sent.
 */
import type { Meta, MetaValue } from './wire';

export const REDACTED = ':redacted';
const HEX_SEGMENT = /^(?:[0-9A-Fa-f]{2}){16,}$/;
const JWT_SEGMENT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function isTokenLikeSegment(seg: string): boolean {
  if (seg === '') return false;
  if (HEX_SEGMENT.test(seg) || JWT_SEGMENT.test(seg)) return true;
  if (seg.length < 24) return false;
  let ok = 0;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d ||
      c === 0x5f
    )
      ok++;
  }
  return ok * 100 >= seg.length * 80;
}

/**
 * Redacts an absolute URL (or a relative one when `base` is given). Idempotent:
 * redactUrl(redactUrl(u)) === redactUrl(u).
 */
export function redactUrl(raw: unknown, base?: string): string {
  if (typeof raw !== 'string' || raw === '') return REDACTED;
  let u: URL;
  try {
    u = base ? new URL(raw, base) : new URL(raw);
  } catch {
    return REDACTED;
  }
  if (!u.protocol || !u.host) return REDACTED;
  const path = u.pathname
    .split('/')
    .map((seg) => {
      if (seg === '') return seg;
      let decoded: string;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        return REDACTED;
      }
      return isTokenLikeSegment(decoded) ? REDACTED : seg;
    })
    .join('/');
  return `${u.protocol}//${u.host}${path}`;
}

/** Keys whose string values are URLs (server list: url, uri, manifest_url, network.url, ...). */
const URL_KEY = /(^|[._])(url|uri)$/i;
const MAX_KEY = 128;
const MAX_STRING = 1024;
const MAX_ERROR_DETAIL = 256;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const RUN_ID = /^[a-z0-9_-]{1,64}$/;
const REASON = /^[a-z0-9_]{1,64}$/;

function oneOf(...values: string[]): (v: MetaValue) => boolean {
  return (v) => typeof v === 'string' && values.includes(v);
}
const nonNegInt = (v: MetaValue) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export const NETWORK_UNAVAILABLE_REASONS = [
  'native_hls_unavailable',
  'hlsjs_signal_unavailable',
  'browser_api_unavailable',
  'resource_timing_unavailable',
  'cors_timing_blocked',
  'service_worker_opaque',
];

/** Reserved keys with their value rules, mirroring contracts/event-schema.json reserved_meta_keys. */
const RESERVED: Record<string, (v: MetaValue) => boolean> = {
  'network.kind': oneOf('manifest', 'segment'),
  'network.detail_status': oneOf('available', 'network_detail_unavailable'),
  'network.unavailable_reason': (v) =>
    typeof v === 'string' && REASON.test(v) && NETWORK_UNAVAILABLE_REASONS.includes(v),
  'network.redacted_url': (v) => typeof v === 'string' && (v === '' || redactUrl(v) === v),
  'webrtc.peer_connection_run_id': (v) => typeof v === 'string' && RUN_ID.test(v),
  'webrtc.sample_id': nonNegInt,
  'webrtc.connection_state': oneOf('new', 'connecting', 'connected', 'disconnected', 'failed', 'closed'),
  'webrtc.ice_state': oneOf('new', 'checking', 'connected', 'completed', 'failed', 'disconnected', 'closed'),
  'webrtc.dtls_state': oneOf('new', 'connecting', 'connected', 'closed', 'failed'),
  'webrtc.packets_lost': nonNegInt,
  'webrtc.bytes_received': nonNegInt,
  'webrtc.bytes_sent': nonNegInt,
  'webrtc.error_code': oneOf(
    'whep_signaling_failed',
    'whep_sdp_invalid',
    'webrtc_no_tracks',
    'peer_connection_failed',
    'webrtc_destroyed_before_connected',
  ),
  'webrtc.error_detail': (v) => typeof v === 'string' && v.length <= MAX_ERROR_DETAIL,
  session_sample_rate: (v) => typeof v === 'number' && v > 0 && v <= 1,
};

/** True when `key`=`value` is acceptable to the server's reserved-meta validation. */
export function isValidReserved(key: string, value: MetaValue): boolean {
  const rule = RESERVED[key];
  if (rule) return rule(value);
  if (key.startsWith('webrtc.')) return false; // closed namespace: unknown webrtc.* keys give 422
  if (key.startsWith('timing.')) {
    return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && RFC3339.test(value));
  }
  return true;
}

export type StringRedactor = (key: string, value: string) => string | undefined;

/**
 * Returns a sanitised copy of `meta`, or undefined when nothing is left.
 *
 * @param custom optional caller hook run on every string after built-in redaction; returning
 *   undefined drops the key.
 */
export function sanitizeMeta(meta: unknown, base?: string, custom?: StringRedactor): Meta | undefined {
  if (!meta || typeof meta !== 'object') return undefined;
  const out: Meta = {};
  let n = 0;
  for (const key of Object.keys(meta as object)) {
    if (key === '' || key.length > MAX_KEY) continue;
    let v = (meta as Record<string, unknown>)[key];
    if (typeof v === 'string') {
      // URL-valued keys are redacted whole; URLs inside free text are redacted in place.
      if (URL_KEY.test(key)) v = v === '' ? v : redactUrl(v, base);
      else if (v.includes('://')) v = redactUrlsInText(v);
      if ((v as string).length > MAX_STRING) v = (v as string).slice(0, MAX_STRING);
      if (custom) {
        v = custom(key, v as string);
        if (v === undefined) continue;
      }
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) continue;
    } else if (typeof v !== 'boolean' && v !== null) {
      continue; // objects, arrays, undefined, functions, bigint: meta is flat
    }
    if (!isValidReserved(key, v as MetaValue)) continue;
    out[key] = v as MetaValue;
    n++;
  }
  // Cross-key rule: unavailable_reason requires detail_status=network_detail_unavailable.
  if ('network.unavailable_reason' in out && out['network.detail_status'] !== 'network_detail_unavailable') {
    delete out['network.unavailable_reason'];
    n--;
  }
  return n > 0 ? out : undefined;
}

const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** Replaces every absolute URL inside free text with its redacted form. */
export function redactUrlsInText(s: string): string {
  return s.replace(URL_IN_TEXT, (m) => redactUrl(m));
}

/** Truncates free text (error messages) and redacts any URL inside it. */
export function scrubText(s: unknown, max = MAX_ERROR_DETAIL): string | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  const t = redactUrlsInText(s);
  return t.length > max ? t.slice(0, max) : t;
}
