/**
 * Identifiers: session ids, W3C trace-context ids and the traceparent header, and the
 * deterministic per-session sampling decision.
 */
import type { Env } from './env';

const HEX = '0123456789abcdef';

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s;
}

/** Lower-case hex of `n` random bytes, never all zeros (W3C forbids all-zero trace and span ids). */
export function randomHex(env: Env, n: number): string {
  for (;;) {
    const s = toHex(env.randomBytes(n));
    if (/[^0]/.test(s)) return s;
  }
}

/**
 * A random RFC 4122 version-4 UUID. It is the default session id: it satisfies CMCD `sid`
 * (≤ 64 characters, "GUID recommended") and m-trace's `peer_connection_run_id` pattern.
 */
export function createSessionId(env: Env): string {
  const b = env.randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 16-byte trace id, 32 hex characters. */
export function createTraceId(env: Env): string {
  return randomHex(env, 16);
}

/** 8-byte span id, 16 hex characters. */
export function createSpanId(env: Env): string {
  return randomHex(env, 8);
}

/** `00-<trace-id>-<span-id>-<flags>`; flags 01 when the session is sampled, else 00. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** The W3C version-00 traceparent grammar. */
export const TRACEPARENT_RE = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** FNV-1a, 32 bit, over UTF-16 code units. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Session sampling: the same session id always gives the same answer, in this SDK, in another tab
 * and on the server (bucket = fnv1a32(session_id) / 2^32, sampled when bucket < rate).
 */
export function isSessionSampled(sessionId: string, rate: number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return fnv1a32(sessionId) / 4294967296 < rate;
}
