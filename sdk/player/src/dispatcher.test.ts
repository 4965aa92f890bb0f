import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CaptureTransport, settle, testEnv, useFakeClock } from '../test/helpers';
import { backoffDelay, createDispatcher, type DispatcherOptions } from './dispatcher';
import { createHttpTransport } from './transport';
import { MAX_BATCH_BYTES, utf8Length, type WireEvent } from './wire';

let seq = 0;
function ev(name = 'metrics_sampled', meta?: Record<string, any>, session = 's1'): WireEvent {
  const e: WireEvent = {
    event_name: name,
    project_id: 'p',
    session_id: session,
    client_timestamp: '2026-01-02T03:04:05.678Z',
    sequence_number: seq++,
    sdk: { name: 't', version: '0' },
  };
  if (meta) e.meta = meta;
  return e;
}

function setup(over: Partial<DispatcherOptions> = {}) {
  const transport = new CaptureTransport();
  const d = createDispatcher({
    env: testEnv(),
    transport,
    batchSize: 10,
    flushIntervalMs: 5000,
    maxQueueEvents: 1000,
    maxRetries: 3,
    backoffBaseMs: 1000,
    backoffMaxMs: 30000,
    maxRetryAfterMs: 300000,
    ...over,
  });
  return { d, transport };
}

beforeEach(() => {
  useFakeClock();
  seq = 0;
});
afterEach(() => vi.useRealTimers());

describe('batching', () => {
  it('sends when the batch size is reached and on the interval', async () => {
    const { d, transport } = setup();
    d.start();
    for (let i = 0; i < 9; i++) d.enqueue(ev());
    await settle();
    expect(transport.bodies).toHaveLength(0);
    d.enqueue(ev());
    await settle();
    expect(transport.bodies).toHaveLength(1);
    expect(transport.batches()[0].events).toHaveLength(10);
    d.enqueue(ev());
    await vi.advanceTimersByTimeAsync(4999);
    expect(transport.bodies).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.bodies).toHaveLength(2);
    expect(d.stats()).toMatchObject({ queued: 0, sent: 11, droppedTotal: 0 });
    d.stop();
  });

  it('splits into batches of at most 100 events, preserving order', async () => {
    const { d, transport } = setup({ batchSize: 1000 });
    for (let i = 0; i < 250; i++) d.enqueue(ev());
    await d.flush();
    expect(transport.batches().map((b) => b.events.length)).toEqual([100, 100, 50]);
    expect(transport.events().map((e) => e.sequence_number)).toEqual([...Array(250).keys()]);
  });

  it('keeps every body at or under 256 KiB, counting UTF-8 bytes', async () => {
    const { d, transport } = setup({ batchSize: 1000 });
    const big = 'ü€'.repeat(1800); // 2 + 3 bytes per pair: ~9 KB per event after JSON
    for (let i = 0; i < 90; i++) d.enqueue(ev('metrics_sampled', { a: big, b: big }));
    await d.flush();
    expect(transport.bodies.length).toBeGreaterThan(1);
    for (const b of transport.bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(transport.events()).toHaveLength(90);
  });

  it('drops an event that cannot fit a batch alone and reports it in the next batch', async () => {
    const { d, transport } = setup({ batchSize: 1000 });
    d.enqueue(ev('metrics_sampled', { huge: 'x'.repeat(MAX_BATCH_BYTES) }));
    d.enqueue(ev('playback_started'));
    await d.flush();
    const events = transport.events();
    expect(events.map((e) => e.event_name)).toEqual(['playback_started']);
    expect(events[0].meta).toMatchObject({ 'sdk.dropped_events': 1, 'sdk.dropped.oversize': 1, 'sdk.dropped_events_total': 1 });
  });

  it('never has two requests in flight', async () => {
    const { d, transport } = setup({ batchSize: 5 });
    transport.hold = true;
    for (let i = 0; i < 23; i++) d.enqueue(ev());
    await settle();
    expect(transport.bodies).toHaveLength(1);
    for (let i = 0; i < 10; i++) {
      transport.release();
      await settle(10);
    }
    expect(transport.maxInFlight).toBe(1);
    expect(transport.events()).toHaveLength(23);
  });
});

describe('retry', () => {
  it('backs off exponentially with jitter on 5xx and network errors, then delivers', async () => {
    const { d, transport } = setup({ maxRetries: 10 });
    transport.results = [
      { outcome: 'retry', status: 503 },
      { outcome: 'retry', status: 0 },
      { outcome: 'retry', status: 500 },
    ];
    d.enqueue(ev());
    await d.flush();
    const times: number[] = [Date.now()];
    for (let i = 0; i < 3; i++) {
      const before = transport.bodies.length;
      const start = Date.now();
      while (transport.bodies.length === before) await vi.advanceTimersByTimeAsync(10);
      times.push(Date.now() - start);
    }
    // Equal jitter: attempt n waits in [base*2^(n-1)/2, base*2^(n-1)].
    expect(times[1]).toBeGreaterThanOrEqual(500);
    expect(times[1]).toBeLessThanOrEqual(1010);
    expect(times[2]).toBeGreaterThanOrEqual(1000);
    expect(times[2]).toBeLessThanOrEqual(2010);
    expect(times[3]).toBeGreaterThanOrEqual(2000);
    expect(times[3]).toBeLessThanOrEqual(4010);
    expect(d.stats()).toMatchObject({ sent: 1, queued: 0 });
    // The retried batch is byte-identical apart from the drop report (none here).
    expect(new Set(transport.bodies).size).toBe(1);
  });

  it('backoffDelay is capped and jittered within [exp/2, exp]', () => {
    expect(backoffDelay(1, 1000, 30000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 30000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 30000, () => 0.5)).toBe(6000);
    expect(backoffDelay(20, 1000, 30000, () => 1)).toBe(30000);
  });

  it('honours Retry-After seconds and HTTP-dates from the server (429 / 503)', async () => {
    vi.setSystemTime(Date.UTC(2026, 0, 2, 3, 4, 5, 0)); // HTTP-dates have whole seconds
    let status = 429;
    let header = '7';
    const fetch = vi.fn(async () => {
      const r = { status, headers: new Headers(status === 202 ? {} : { 'Retry-After': header }) } as Response;
      return r;
    });
    const env = testEnv({ fetch });
    const d = createDispatcher({
      env,
      transport: createHttpTransport({ endpoint: 'https://c.test/e', env }),
      batchSize: 10,
      flushIntervalMs: 0,
      maxQueueEvents: 100,
      maxRetries: 5,
      backoffBaseMs: 10,
      backoffMaxMs: 20,
      maxRetryAfterMs: 60000,
    });
    d.enqueue(ev());
    await d.flush();
    expect(fetch).toHaveBeenCalledTimes(1);
    status = 503;
    header = new Date(Date.now() + 7000 + 12000).toUTCString();
    await vi.advanceTimersByTimeAsync(6999);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    status = 202;
    await vi.advanceTimersByTimeAsync(11999);
    expect(fetch).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(d.stats().sent).toBe(1);
  });

  it('caps an absurd Retry-After and does not let flush() bypass it', async () => {
    const { d, transport } = setup({ maxRetryAfterMs: 60000 });
    transport.results = [{ outcome: 'retry', status: 429, retryAfterMs: 86400000 }];
    d.enqueue(ev());
    await d.flush();
    await d.flush();
    expect(transport.bodies).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60000);
    expect(transport.bodies).toHaveLength(2);
  });

  it('does not retry 4xx other than 429: the batch is dropped and reported', async () => {
    for (const status of [400, 401, 403, 422]) {
      const { d, transport } = setup();
      transport.results = [{ outcome: 'reject', status }];
      d.enqueue(ev());
      d.enqueue(ev());
      await d.flush();
      await vi.advanceTimersByTimeAsync(60000);
      expect(transport.bodies).toHaveLength(1);
      d.enqueue(ev('playback_started'));
      await d.flush();
      const last = transport.batches()[1].events[0];
      expect(last.meta).toMatchObject({ 'sdk.dropped_events': 2, 'sdk.dropped.rejected': 2 });
    }
  });

  it('halves the batch size after 413 and re-sends everything', async () => {
    const { d, transport } = setup({ batchSize: 1000 });
    transport.results = [{ outcome: 'too_large', status: 413 }];
    for (let i = 0; i < 40; i++) d.enqueue(ev('metrics_sampled', { pad: 'x'.repeat(200) }));
    await d.flush();
    await settle(20);
    const [first, ...rest] = transport.bodies;
    expect(rest.length).toBeGreaterThanOrEqual(2);
    for (const b of rest) expect(utf8Length(b)).toBeLessThanOrEqual(Math.floor(utf8Length(first) / 2));
    expect(transport.batches().slice(1).flatMap((b) => b.events)).toHaveLength(40);
  });

  it('drops events after maxRetries failed attempts (retry_exhausted)', async () => {
    const { d, transport } = setup({ maxRetries: 2, backoffBaseMs: 100, backoffMaxMs: 100 });
    transport.results = Array(3).fill({ outcome: 'retry', status: 503 });
    d.enqueue(ev());
    await d.flush();
    await vi.advanceTimersByTimeAsync(1000);
    expect(transport.bodies).toHaveLength(3);
    expect(d.stats()).toMatchObject({ queued: 0, sent: 0, dropped: { retry_exhausted: 1 } });
  });
});

describe('bounded queue and drop reporting', () => {
  it('evicts the oldest low-priority event first and counts queue_full', async () => {
    const { d, transport } = setup({ maxQueueEvents: 5, batchSize: 100 });
    d.enqueue(ev('playback_started'), true);
    for (let i = 0; i < 6; i++) d.enqueue(ev('segment_loaded', { i }));
    d.enqueue(ev('session_ended'), true);
    await d.flush();
    const events = transport.events();
    expect(events.map((e) => e.event_name)).toEqual(['playback_started', 'segment_loaded', 'segment_loaded', 'segment_loaded', 'session_ended']);
    expect(events.filter((e) => e.event_name === 'segment_loaded').map((e) => e.meta!.i)).toEqual([3, 4, 5]);
    expect(events[0].meta).toMatchObject({ 'sdk.dropped_events': 3, 'sdk.dropped.queue_full': 3 });
    expect(d.stats().dropped.queue_full).toBe(3);
  });

  it('clears a drop report once acknowledged, and keeps it when the carrying batch fails', async () => {
    const { d, transport } = setup({ maxQueueEvents: 2, batchSize: 100, backoffBaseMs: 10, backoffMaxMs: 10 });
    for (let i = 0; i < 3; i++) d.enqueue(ev());
    transport.results = [{ outcome: 'retry', status: 503 }];
    await d.flush();
    await vi.advanceTimersByTimeAsync(20);
    const [b1, b2] = transport.batches();
    expect(b1.events[0].meta).toMatchObject({ 'sdk.dropped_events': 1 });
    expect(b2.events[0].meta).toMatchObject({ 'sdk.dropped_events': 1 });
    d.enqueue(ev());
    await d.flush();
    expect(transport.batches()[2].events[0].meta).toBeUndefined();
    expect(d.stats().droppedTotal).toBe(1);
  });
});

describe('urgent flush (page hidden / exit)', () => {
  it('sends everything at once in ≤ 64 KiB keepalive batches, ignoring a pending backoff', async () => {
    const { d, transport } = setup({ batchSize: 1000 });
    transport.results = [{ outcome: 'retry', status: 503 }];
    d.enqueue(ev());
    await d.flush();
    for (let i = 0; i < 60; i++) d.enqueue(ev('metrics_sampled', { pad: 'x'.repeat(3000) }));
    d.flushUrgent();
    await settle();
    const urgent = transport.bodies.slice(1);
    expect(urgent.length).toBeGreaterThan(2);
    for (const b of urgent) expect(utf8Length(b)).toBeLessThanOrEqual(65536);
    expect(transport.keepalive.slice(1).every(Boolean)).toBe(true);
    expect(transport.batches().slice(1).flatMap((b) => b.events)).toHaveLength(61);
    await vi.advanceTimersByTimeAsync(60000);
    expect(transport.bodies).toHaveLength(1 + urgent.length);
  });

  it('falls back to sendBeacon when the keepalive budget is used up, and counts refused beacons', async () => {
    const { d, transport } = setup({ batchSize: 1000 });
    transport.keepaliveOk = false;
    d.enqueue(ev());
    d.flushUrgent();
    expect(transport.beacons).toHaveLength(1);
    expect(transport.bodies).toHaveLength(0);
    transport.beaconOk = false;
    d.enqueue(ev());
    d.flushUrgent();
    expect(d.stats().dropped.unload_failed).toBe(1);
  });
});

describe('boundaries', () => {
  it('ride with an event of the same session, at most 20, deduplicated', async () => {
    const { d, transport } = setup({ batchSize: 1000 });
    const b = (i: number, session = 's1') => ({
      kind: 'network_signal_absent' as const,
      project_id: 'p',
      session_id: session,
      network_kind: (i % 2 ? 'manifest' : 'segment') as 'manifest' | 'segment',
      adapter: 'native_hls' as const,
      reason: 'native_hls_unavailable' as const,
      client_timestamp: `2026-01-02T03:04:${String(i % 60).padStart(2, '0')}.000Z`,
    });
    d.addBoundary(b(1));
    d.addBoundary(b(1));
    d.addBoundary(b(2, 'other'));
    d.enqueue(ev());
    await d.flush();
    expect(transport.batches()[0].session_boundaries).toEqual([b(1)]);
    d.enqueue(ev());
    await d.flush();
    expect(transport.batches()[1].session_boundaries).toBeUndefined();
  });
});
