/**
 * Dispatcher: the bounded event queue, batching, retries and page-exit delivery.
 *
 * Ownership: the Dispatcher owns every event from enqueue() until the server acknowledges it (2xx)
 * or it is dropped; each drop is counted by reason and reported in the meta of the first event of
 * the next batch (`sdk.dropped_events`, `sdk.dropped_events_total`, `sdk.dropped.<reason>`). A
 * report counts as delivered only when the batch carrying it is acknowledged.
 *
 * Delivery rules:
 * - one drain at a time (no overlapping flushes); batches of ≤ 100 events and ≤ 256 KiB;
 * - 2xx: acknowledged. 429 / 5xx / network error / timeout: the events go back to the front of the
 *   queue and the next attempt waits Retry-After when the server sent one (capped), else an
 *   exponential backoff with jitter; an event is dropped after `maxRetries` failed attempts.
 *   413: the batch size limit is halved and the events re-sent in smaller batches. Other 4xx: the
 *   batch is dropped (`rejected`) and never retried;
 * - the queue holds at most `maxQueueEvents`; when full, the oldest low-priority event is evicted
 *   (`queue_full`), so session_ended, playback_started, startup and errors survive longest;
 * - flushUrgent() (page hidden or page exit) sends everything at once in ≤ 64 KiB batches with
 *   fetch keepalive while the browser's keepalive budget lasts, then with sendBeacon.
 *
 * Single-threaded (browser main thread); all callbacks run on the Env's timers.
 */
import type { TimerHandle } from './env';
import type { Env } from './env';
import type { Transport, SendResult } from './transport';
import {
  BATCH_OVERHEAD_BYTES,
  KEEPALIVE_MAX_BYTES,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  MAX_SESSION_BOUNDARIES,
  encodeBatch,
  utf8Length,
  type Meta,
  type SessionBoundary,
  type WireEvent,
} from './wire';

export type DropReason = 'queue_full' | 'rejected' | 'retry_exhausted' | 'oversize' | 'unload_failed';
const DROP_REASONS: DropReason[] = ['queue_full', 'rejected', 'retry_exhausted', 'oversize', 'unload_failed'];

export interface DispatcherOptions {
  env: Env;
  transport: Transport;
  /** Queue length that triggers a send. */
  batchSize: number;
  /** Periodic send; 0 disables the timer (flush() and the batch size still send). */
  flushIntervalMs: number;
  maxQueueEvents: number;
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  onDrop?: (reason: DropReason, count: number) => void;
}

export interface DispatcherStats {
  queued: number;
  sent: number;
  dropped: Record<DropReason, number>;
  droppedTotal: number;
}

interface Item {
  ev: WireEvent;
  json: string;
  bytes: number;
  high: boolean;
  attempts: number;
}

interface Batch {
  items: Item[];
  body: string;
  bytes: number;
  report?: Record<DropReason, number>;
  boundaries: SessionBoundary[];
}

/** Equal-jitter exponential backoff for the n-th consecutive failure (n ≥ 1). */
export function backoffDelay(n: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * Math.pow(2, Math.max(0, n - 1)));
  return exp / 2 + random() * (exp / 2);
}

function zeroCounts(): Record<DropReason, number> {
  return { queue_full: 0, rejected: 0, retry_exhausted: 0, oversize: 0, unload_failed: 0 };
}

export interface Dispatcher {
  /** Starts the periodic flush timer. */
  start(): void;
  /** Stops timers. Queued events stay queued; flush() still sends them. Safe to call twice. */
  stop(): void;
  /** Takes ownership of `ev`. `high` marks events that eviction spares longest. */
  enqueue(ev: WireEvent, high?: boolean): void;
  /** Boundaries ride with the next batch that has an event of the same session (oldest dropped > 20). */
  addBoundary(b: SessionBoundary): void;
  /** Sends everything queued; resolves when the drain ends. Never bypasses a pending Retry-After. */
  flush(): Promise<void>;
  /**
   * Page hidden or exiting: send everything now in ≤ 64 KiB batches (keepalive fetch, then
   * sendBeacon), ignoring a pending backoff, since waiting would lose the events.
   */
  flushUrgent(): void;
  stats(): DispatcherStats;
}

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const env = o.env;
  const transport = o.transport;
  let queue: Item[] = [];
  let boundaries: SessionBoundary[] = [];
  /** Drops not yet acknowledged by the server as reported. */
  const pending = zeroCounts();
  const lifetime = zeroCounts();
  let reportInFlight = false;
  let sent = 0;
  let failures = 0;
  let sizeLimit = MAX_BATCH_BYTES;
  let pumping: Promise<void> | null = null;
  let retryTimer: TimerHandle | null = null;
  let tickTimer: TimerHandle | null = null;
  let running = false;

  const scheduleTick = (): void => {
    if (!running || o.flushIntervalMs <= 0) return;
    tickTimer = env.setTimeout(() => {
      tickTimer = null;
      if (queue.length > 0) void pump();
      scheduleTick();
    }, o.flushIntervalMs);
  };

  const pump = (): Promise<void> => {
    if (pumping) return pumping;
    if (retryTimer != null || queue.length === 0) return Promise.resolve();
    pumping = drain().finally(() => {
      pumping = null;
    });
    return pumping;
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0 && retryTimer == null) {
      const batch = build(sizeLimit);
      if (!batch) continue;
      settle(batch, await transport.send(batch.body, { keepalive: batch.bytes <= KEEPALIVE_MAX_BYTES }));
    }
  };

  const drop = (n: number, reason: DropReason): void => {
    if (n <= 0) return;
    pending[reason] += n;
    lifetime[reason] += n;
    o.onDrop?.(reason, n);
  };

  const sum = (c: Record<DropReason, number>) => DROP_REASONS.reduce((n, r) => n + c[r], 0);

  const dropReport = (): { meta: Meta; snapshot: Record<DropReason, number> } | undefined => {
    const n = sum(pending);
    if (reportInFlight || n === 0) return undefined;
    const meta: Meta = { 'sdk.dropped_events': n, 'sdk.dropped_events_total': sum(lifetime) };
    for (const r of DROP_REASONS) if (pending[r] > 0) meta[`sdk.dropped.${r}`] = pending[r];
    return { meta, snapshot: { ...pending } };
  };

  /**
   * Takes the longest prefix of the queue that fits `limit` bytes and 100 events. An event that
   * cannot fit even alone is dropped (`oversize`) and undefined returned so the caller loops.
   */
  const build = (limit: number): Batch | undefined => {
    const first = queue[0];
    if (!first) return undefined;
    const { session_id, project_id } = first.ev;
    const bs = boundaries.filter((b) => b.session_id === session_id && b.project_id === project_id);
    const bJson = bs.map((b) => JSON.stringify(b));
    const bBytes = bJson.length ? 24 + bJson.reduce((n, s) => n + utf8Length(s) + 1, 0) : 0;
    const report = dropReport();
    const items: Item[] = [];
    const jsons: string[] = [];
    let bytes = BATCH_OVERHEAD_BYTES + bBytes;
    for (const item of queue) {
      if (items.length >= MAX_BATCH_EVENTS) break;
      let json = item.json;
      let b = item.bytes;
      if (items.length === 0 && report) {
        json = JSON.stringify({ ...item.ev, meta: { ...item.ev.meta, ...report.meta } });
        b = utf8Length(json);
      }
      const add = b + (items.length > 0 ? 1 : 0);
      if (bytes + add > limit) {
        if (items.length === 0) {
          queue.shift();
          drop(1, 'oversize');
          return undefined;
        }
        break;
      }
      items.push(item);
      jsons.push(json);
      bytes += add;
    }
    queue.splice(0, items.length);
    if (report) reportInFlight = true;
    const body = encodeBatch(jsons, bJson);
    return { items, body, bytes: utf8Length(body), report: report?.snapshot, boundaries: bs };
  };

  const enforceBound = (): void => {
    while (queue.length > o.maxQueueEvents) {
      let idx = queue.findIndex((it) => !it.high);
      if (idx < 0) idx = 0;
      queue.splice(idx, 1);
      drop(1, 'queue_full');
    }
  };

  const forgetBoundaries = (batch: Batch) => {
    boundaries = boundaries.filter((b) => !batch.boundaries.includes(b));
  };

  const settle = (batch: Batch, res: SendResult): void => {
    if (batch.report) reportInFlight = false;
    const n = batch.items.length;
    if (res.outcome === 'ok') {
      sent += n;
      failures = 0;
      if (batch.report) for (const r of DROP_REASONS) pending[r] -= batch.report[r];
      forgetBoundaries(batch);
    } else if (res.outcome === 'reject') {
      // Permanent: a bad batch must not block the queue. Its boundaries go too (they may be why).
      drop(n, 'rejected');
      forgetBoundaries(batch);
    } else if (res.outcome === 'too_large') {
      if (n <= 1) return drop(n, 'oversize');
      // The server's limit is below ours: learn it and re-send in smaller batches now.
      sizeLimit = Math.max(1024, Math.floor(batch.bytes / 2));
      queue.unshift(...batch.items);
      enforceBound();
      void pump();
    } else {
      const keep = batch.items.filter((it) => ++it.attempts <= o.maxRetries);
      drop(n - keep.length, 'retry_exhausted');
      queue.unshift(...keep);
      enforceBound();
      failures++;
      const delay =
        res.retryAfterMs !== undefined
          ? Math.min(res.retryAfterMs, o.maxRetryAfterMs)
          : backoffDelay(failures, o.backoffBaseMs, o.backoffMaxMs, env.random);
      if (retryTimer != null) env.clearTimeout(retryTimer);
      retryTimer = env.setTimeout(() => {
        retryTimer = null;
        void pump();
      }, delay);
    }
  };

  return {
    start() {
      if (running) return;
      running = true;
      scheduleTick();
    },
    stop() {
      running = false;
      if (tickTimer != null) env.clearTimeout(tickTimer);
      tickTimer = null;
    },
    enqueue(ev, high = false) {
      const json = JSON.stringify(ev);
      queue.push({ ev, json, bytes: utf8Length(json), high, attempts: 0 });
      enforceBound();
      if (queue.length >= o.batchSize) void pump();
    },
    addBoundary(b) {
      const same = boundaries.some(
        (x) => x.session_id === b.session_id && x.network_kind === b.network_kind && x.adapter === b.adapter && x.reason === b.reason,
      );
      if (same) return;
      boundaries.push(b);
      if (boundaries.length > MAX_SESSION_BOUNDARIES) boundaries.shift();
    },
    flush: pump,
    flushUrgent() {
      if (retryTimer != null) {
        env.clearTimeout(retryTimer);
        retryTimer = null;
      }
      while (queue.length > 0) {
        const batch = build(KEEPALIVE_MAX_BYTES);
        if (!batch) continue;
        if (!transport.canKeepalive || transport.canKeepalive(batch.bytes)) {
          void transport.send(batch.body, { keepalive: true }).then((r) => settle(batch, r));
        } else if (transport.beacon && transport.beacon(batch.body)) {
          settle(batch, { outcome: 'ok', status: 0 });
        } else {
          if (batch.report) reportInFlight = false;
          drop(batch.items.length, 'unload_failed');
        }
      }
    },
    stats() {
      return { queued: queue.length, sent, dropped: { ...lifetime }, droppedTotal: sum(lifetime) };
    },
  };
}
