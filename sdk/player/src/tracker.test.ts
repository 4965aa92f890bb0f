import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CaptureTransport, Emitter, FakeHls, FakeVideo, makeTracker, settle, testEnv, useFakeClock } from '../test/helpers';
import { createTracker } from './tracker';
import { TRACEPARENT_RE, isSessionSampled } from './ids';
import { SDK_NAME, SDK_VERSION } from './version';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

describe('config', () => {
  const base = { endpoint: 'https://c.test/api/playback-events', projectId: 'p' };
  it.each([
    [{ ...base, endpoint: 'c.test/x' }, 'endpoint'],
    [{ ...base, projectId: '' }, 'projectId'],
    [{ ...base, sessionSampleRate: 1.5 }, 'sessionSampleRate'],
    [{ ...base, sessionSampleRate: NaN }, 'sessionSampleRate'],
    [{ ...base, maxQueueEvents: 0 }, 'maxQueueEvents'],
    [{ ...base, flushIntervalMs: -1 }, 'flushIntervalMs'],
    [{ ...base, cmcd: { mode: 'json' } }, 'cmcd.mode'],
    [{ ...base, authHeader: 'Cookie' }, 'authHeader'],
    [{ ...base, sessionId: 'x'.repeat(129) }, 'sessionId'],
    [{ ...base, token: 5 }, 'token'],
  ])('rejects %o (%s) at creation', (cfg, field) => {
    expect(() => createTracker(cfg as any)).toThrow(new TypeError(`avtrace: invalid config.${field}`));
  });

  it('clamps batchSize to 1..100', async () => {
    const { tracker, transport } = makeTracker({ batchSize: 500 });
    for (let i = 0; i < 100; i++) tracker.track('x');
    await settle();
    expect(transport.bodies).toHaveLength(1);
  });
});

describe('events on the wire', () => {
  it('stamp project, session, RFC 3339 time, sequence numbers and the SDK identity', async () => {
    const { tracker, transport } = makeTracker({ meta: { app: 'demo' } });
    tracker.track('custom_one', { n: 1 });
    vi.advanceTimersByTime(1234);
    tracker.track('custom_two');
    await tracker.flush();
    const [a, b] = transport.events();
    expect(a).toEqual({
      event_name: 'custom_one',
      project_id: 'demo',
      session_id: 'session-1',
      client_timestamp: '2026-01-02T03:04:05.678Z',
      sequence_number: 0,
      sdk: { name: '@avtrace/player-sdk', version: SDK_VERSION },
      meta: { app: 'demo', n: 1 },
    });
    expect(b.client_timestamp).toBe('2026-01-02T03:04:06.912Z');
    expect(b.sequence_number).toBe(1);
    expect(transport.batches()[0].schema_version).toBe('1.0');
  });

  it('generates a UUID session id when none is given', () => {
    const t = createTracker({ endpoint: 'https://c.test/e', projectId: 'p', transport: new CaptureTransport(), env: testEnv() });
    expect(t.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
    void t.destroy();
  });

  it('track() ignores invalid names and sanitises meta', async () => {
    const { tracker, transport } = makeTracker();
    tracker.track('');
    tracker.track('has space');
    tracker.track('x'.repeat(65));
    tracker.track('ok.name:1-2', { page_url: 'https://app.test/p?email=a@b.c', 'webrtc.bogus': 1, nested: { a: 1 } });
    await tracker.flush();
    expect(transport.events().map((e) => [e.event_name, e.meta])).toEqual([['ok.name:1-2', { page_url: 'https://app.test/p' }]]);
  });

  it('extensionEvents: false emits only m-trace event names from adapters', async () => {
    const { tracker, transport } = makeTracker({ extensionEvents: false });
    const v = new FakeVideo();
    tracker.attachVideo(v);
    v.play();
    v.playing();
    v.seek(10);
    v.seeked();
    await tracker.destroy();
    expect(transport.names()).toEqual(['playback_started', 'startup_time_measured', 'session_ended']);
  });

  it('traceparent() uses the session trace id and a new span id per call', () => {
    const { tracker } = makeTracker();
    const a = tracker.traceparent();
    const b = tracker.traceparent();
    expect(a).toMatch(TRACEPARENT_RE);
    expect(a.split('-')[1]).toBe(tracker.traceId);
    expect(a.split('-')[2]).not.toBe(b.split('-')[2]);
    expect(a.endsWith('-01')).toBe(true);
  });
});

describe('session sampling', () => {
  it('a sampled-out session sends nothing, but still gets traceparent with flags 00', async () => {
    const { tracker, transport } = makeTracker({ sessionSampleRate: 0 });
    expect(tracker.sampled).toBe(false);
    const v = new FakeVideo();
    tracker.attachVideo(v);
    v.play();
    v.playing();
    tracker.track('x');
    expect(tracker.traceparent().endsWith('-00')).toBe(true);
    await tracker.destroy();
    expect(transport.bodies).toHaveLength(0);
  });

  it('a sampled-in session below rate 1 carries session_sample_rate on every event', async () => {
    let id = 'a';
    for (let i = 0; !isSessionSampled(id, 0.25); i++) id = `s-${i}`;
    const { tracker, transport } = makeTracker({ sessionSampleRate: 0.25, sessionId: id });
    expect(tracker.sampled).toBe(true);
    tracker.track('x');
    await tracker.destroy();
    for (const e of transport.events()) expect(e.meta!.session_sample_rate).toBe(0.25);
  });

  it('is decided by the session id: the same id gives the same answer in every tracker', () => {
    for (let i = 0; i < 50; i++) {
      const id = `id-${i}`;
      const a = makeTracker({ sessionSampleRate: 0.3, sessionId: id }).tracker.sampled;
      const b = makeTracker({ sessionSampleRate: 0.3, sessionId: id }).tracker.sampled;
      expect(a).toBe(b);
      expect(a).toBe(isSessionSampled(id, 0.3));
    }
  });
});

describe('page lifecycle', () => {
  function lifecycle(over = {}) {
    const win = new Emitter();
    const doc = Object.assign(new Emitter(), { visibilityState: 'visible' });
    const t = makeTracker({ flushIntervalMs: 60000, ...over }, { win, doc });
    return { ...t, win, doc };
  }

  it('hidden page: sends the queue at once with keepalive, without ending the session', async () => {
    const { tracker, transport, doc } = lifecycle();
    tracker.track('a');
    tracker.track('b');
    doc.visibilityState = 'hidden';
    doc.dispatch('visibilitychange');
    await settle();
    expect(transport.names()).toEqual(['a', 'b']);
    expect(transport.keepalive).toEqual([true]);
    await tracker.destroy();
  });

  it('pagehide: session_ended (pagehide) goes out with the queue; a bfcache restore starts a new session', async () => {
    const { tracker, transport, win } = lifecycle();
    const v = new FakeVideo();
    tracker.attachVideo(v);
    v.play();
    vi.advanceTimersByTime(300);
    v.playing();
    vi.advanceTimersByTime(2000);
    transport.keepaliveOk = false; // force the beacon path
    win.dispatch('pagehide', { persisted: true });
    expect(transport.beacons).toHaveLength(1);
    const ended = transport.find('session_ended')[0];
    expect(ended.meta).toMatchObject({ end_reason: 'pagehide', end_source: 'client', startup_ms: 300, played_ms: 2000 });
    const old = tracker.sessionId;
    v.paused = true; // browsers pause media in the back/forward cache
    win.dispatch('pageshow', { persisted: true });
    expect(tracker.sessionId).not.toBe(old);
    transport.keepaliveOk = true;
    v.play();
    vi.advanceTimersByTime(100);
    v.playing();
    await tracker.flush();
    const fresh = transport.events().filter((e) => e.session_id === tracker.sessionId);
    expect(fresh.map((e) => [e.event_name, e.sequence_number])).toEqual([
      ['play_intent', 0],
      ['playback_started', 1],
      ['startup_time_measured', 2],
    ]);
    expect(fresh[2].meta!.duration_ms).toBe(100);
    await tracker.destroy();
  });

  it('endSessionOnPagehide: false only flushes', async () => {
    const { tracker, transport, win } = lifecycle({ endSessionOnPagehide: false });
    tracker.track('a');
    win.dispatch('pagehide', { persisted: false });
    await settle();
    expect(transport.names()).toEqual(['a']);
    await tracker.destroy();
  });

  it('destroy: detaches adapters, ends the session once, flushes, removes listeners; idempotent', async () => {
    const { tracker, transport, win, doc } = lifecycle();
    const v = new FakeVideo();
    tracker.attachVideo(v);
    const p1 = tracker.destroy();
    const p2 = tracker.destroy();
    expect(p1).toBe(p2);
    await p1;
    expect(transport.names()).toEqual(['session_ended']);
    expect(v.count()).toBe(0);
    expect(win.count()).toBe(0);
    expect(doc.count()).toBe(0);
    tracker.track('after');
    await tracker.flush();
    expect(transport.names()).toEqual(['session_ended']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('sessions', () => {
  it('endSession() sends session_ended and continues under a new id with fresh QoE', async () => {
    const { tracker, transport } = makeTracker();
    const v = new FakeVideo();
    tracker.attachVideo(v);
    v.play();
    v.playing();
    v.advance(1);
    v.waiting();
    vi.advanceTimersByTime(200);
    const first = tracker.sessionId;
    await tracker.endSession('content_change');
    expect(tracker.sessionId).not.toBe(first);
    v.playing();
    await tracker.destroy();
    const ended = transport.find('session_ended');
    expect(ended.map((e) => [e.session_id, e.meta!.end_reason, e.meta!.rebuffer_count])).toEqual([
      [first, 'content_change', 1],
      [tracker.sessionId, 'destroy', 0],
    ]);
    // The open stall was closed before the first session ended.
    expect(transport.find('rebuffer_ended')[0].meta).toMatchObject({ ended_by: 'session_end', duration_ms: 200 });
  });

  it('setSessionId() switches id and restarts sequence numbers', async () => {
    const { tracker, transport } = makeTracker();
    tracker.track('a');
    tracker.setSessionId('server-issued-1');
    tracker.track('b');
    expect(() => tracker.setSessionId('')).toThrow(TypeError);
    await tracker.flush();
    expect(transport.events().map((e) => [e.session_id, e.sequence_number])).toEqual([
      ['session-1', 0],
      ['server-issued-1', 0],
    ]);
  });

  it('caps non-fatal errors per session but always counts them', async () => {
    const { tracker, transport } = makeTracker({ maxQueueEvents: 1000 });
    const hls = new FakeHls();
    tracker.attachHls(hls);
    for (let i = 0; i < 150; i++) hls.trigger('hlsError', { type: 'networkError', details: 'fragLoadError', fatal: false });
    hls.trigger('hlsError', { type: 'mediaError', details: 'bufferAppendError', fatal: true });
    await tracker.destroy();
    const errs = transport.find('playback_error');
    expect(errs).toHaveLength(101);
    expect(errs[100].meta).toMatchObject({ fatal: true });
    expect(transport.find('session_ended')[0].meta).toMatchObject({ error_count: 151, fatal_error: true, video_start_failure: true });
  });
});

describe('package', () => {
  it('SDK_VERSION and SDK_NAME match package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(SDK_VERSION).toBe(pkg.version);
    expect(SDK_NAME).toBe(pkg.name);
  });
});
