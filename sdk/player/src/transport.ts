/**
 * Transport: moves one batch body to the server and classifies the answer. It never throws and
 * never retries by itself; the Dispatcher owns retries, backoff and the queue.
 *
 * HttpTransport POSTs JSON with fetch (credentials omitted, a per-request timeout, keepalive while
 * the browser's 64 KiB in-flight keepalive budget allows it, so a request survives page exit), and
 * at page exit can hand a body to navigator.sendBeacon. A beacon cannot carry headers, so the token
 * goes into the query as `access_token` (the RFC 6750 §2.3 name); the body is sent as text/plain,
 * which m-trace and avtrace both parse as JSON.
 */
import type { Env } from './env';
import { KEEPALIVE_MAX_BYTES, utf8Length } from './wire';

export type SendOutcome = 'ok' | 'retry' | 'reject' | 'too_large';

export interface SendResult {
  outcome: SendOutcome;
  /** HTTP status, or 0 for a network error or timeout. */
  status: number;
  /** From Retry-After (seconds or HTTP-date), when the server sent one and CORS exposes it. */
  retryAfterMs?: number;
}

export interface Transport {
  /** POSTs one batch body. Resolves with the classified outcome; never rejects. */
  send(body: string, opts: { keepalive: boolean }): Promise<SendResult>;
  /** Queues a body with navigator.sendBeacon at page exit; true when the browser accepted it. */
  beacon?(body: string): boolean;
  /** Whether a keepalive request of `bytes` fits the browser's in-flight keepalive budget now. */
  canKeepalive?(bytes: number): boolean;
}

export type AuthHeader = 'X-MTrace-Token' | 'X-MTrace-Session-Token' | 'Authorization';

export interface HttpTransportOptions {
  endpoint: string;
  /** A static token, or a function called per request (for short-lived session tokens). */
  token?: string | (() => string | undefined);
  authHeader?: AuthHeader;
  /** Called per request; its value is sent as the `traceparent` header. */
  traceparent?: () => string | undefined;
  timeoutMs?: number;
  /** Query parameter carrying the token on beacons; null sends beacons without it. */
  beaconAuthParam?: string | null;
  env: Env;
}

/**
 * Parses Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Returns milliseconds
 * (never negative), or undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined; // "1.5", "-3": not a date either
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs);
}

/** Maps an HTTP status to what the dispatcher should do: no retry on 4xx other than 429. */
export function classifyStatus(status: number): SendOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429) return 'retry';
  if (status === 413) return 'too_large';
  if (status >= 500) return 'retry';
  return 'reject';
}

/** The fetch + sendBeacon transport. */
export function createHttpTransport(o: HttpTransportOptions): Transport {
  const env = o.env;
  let keepaliveInFlight = 0;
  const token = (): string | undefined => {
    try {
      return typeof o.token === 'function' ? o.token() : o.token;
    } catch {
      return undefined;
    }
  };
  const canKeepalive = (bytes: number) => !!env.fetch && keepaliveInFlight + bytes <= KEEPALIVE_MAX_BYTES;

  return {
    canKeepalive,
    async send(body, opts) {
      if (!env.fetch) return { outcome: 'retry', status: 0 };
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      const t = token();
      if (t) {
        const h = o.authHeader ?? 'X-MTrace-Token';
        headers[h] = h === 'Authorization' ? `Bearer ${t}` : t;
      }
      const tp = o.traceparent?.();
      if (tp) headers.traceparent = tp;
      const bytes = utf8Length(body);
      const keepalive = opts.keepalive && canKeepalive(bytes);
      if (keepalive) keepaliveInFlight += bytes;
      const ctrl = typeof AbortController === 'function' ? new AbortController() : undefined;
      const timer = env.setTimeout(() => ctrl?.abort(), o.timeoutMs ?? 10000);
      try {
        const res = await env.fetch(o.endpoint, {
          method: 'POST',
          headers,
          body,
          keepalive,
          credentials: 'omit',
          mode: 'cors',
          signal: ctrl?.signal,
        });
        const outcome = classifyStatus(res.status);
        const result: SendResult = { outcome, status: res.status };
        if (outcome === 'retry') {
          const ra = parseRetryAfter(res.headers?.get?.('Retry-After'), env.now());
          if (ra !== undefined) result.retryAfterMs = ra;
        }
        return result;
      } catch {
        return { outcome: 'retry', status: 0 }; // network error, CORS failure or timeout
      } finally {
        env.clearTimeout(timer);
        if (keepalive) keepaliveInFlight -= bytes;
      }
    },
    beacon(body) {
      if (!env.sendBeacon) return false;
      let url = o.endpoint;
      const param = o.beaconAuthParam === undefined ? 'access_token' : o.beaconAuthParam;
      const t = token();
      if (param && t) url += (url.includes('?') ? '&' : '?') + `${param}=${encodeURIComponent(t)}`;
      try {
        return env.sendBeacon(url, body);
      } catch {
        return false;
      }
    },
  };
}
