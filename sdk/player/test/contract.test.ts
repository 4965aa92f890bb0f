// @vitest-environment happy-dom
/**
 * Every request body the SDK produces in a long scripted session (all four adapters, custom
 * events, errors, drops, boundaries, sampling) is checked against m-trace's wire contract,
 * test-fixtures/event-schema.json, through test/contract_validator.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXTENSION_EVENT_NAMES, MTRACE_EVENT_NAMES } from '../src/wire';
import { isSessionSampled } from '../src/ids';
import { contract, validateBatchBody } from './contract_validator';
import { FakeDash, FakeHls, FakePeerConnection, FakeVideo, makeTracker, useFakeClock } from './helpers';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

async function fullSession(over = {}) {
  let id = 'contract';
  for (let i = 0; !isSessionSampled(id, 0.5); i++) id = `contract-${i}`;
  const t = makeTracker({ sessionId: id, sessionSampleRate: 0.5, batchSize: 7, maxQueueEvents: 40, sampleIntervalMs: 3000, webrtcIntervalMs: 2000, ...over });
  const { tracker, transport } = t;
  transport.results = [{ outcome: 'retry', status: 503 }, { outcome: 'reject', status: 422 }];

  const hls = new FakeHls();
  hls.levels = [{ bitrate: 1e6, width: 960, height: 540, videoCodec: 'avc1', audioCodec: 'mp4a' }, { bitrate: 3e6, videoCodec: 'avc1', audioCodec: 'mp4a' }];
  const hv = new FakeVideo();
  tracker.attachHls(hls, hv);
  hls.trigger('hlsManifestLoaded', { url: 'https://cdn.test/m.m3u8?token=x', levels: hls.levels, stats: { loaded: 10, loading: { start: 1, first: 2, end: 3 } } });
  hv.play();
  hv.playing();
  for (let sn = 0; sn < 30; sn++) {
    hls.trigger('hlsFragLoaded', { frag: { sn, level: sn % 2, type: 'main', cc: 0, duration: 2, url: `https://cdn.test/s${sn}.ts?sig=1`, stats: { loaded: 1e5, loading: { start: 1, first: 2, end: 30 } } } });
    hls.trigger('hlsLevelSwitched', { level: sn % 2 });
    hv.advance(2);
    vi.advanceTimersByTime(1000);
  }
  hls.trigger('hlsError', { type: 'networkError', details: 'fragLoadError', fatal: false, url: 'https://cdn.test/x.ts?a=b' });
  hv.waiting();
  vi.advanceTimersByTime(700);
  hv.playing();
  hv.seek(100);
  hv.seeked();

  const dash = new FakeDash();
  dash.video = new FakeVideo();
  tracker.attachDash(dash);
  await dash.respond({ url: 'https://cdn.test/a.mpd', status: 200, request: { customData: { request: { type: 'MPD' } } }, resourceTiming: { startTime: 1, duration: 5 } });
  dash.trigger('qualityChangeRendered', { mediaType: 'video', newRepresentation: dash.reps.video[1] });
  dash.trigger('error', { error: { code: 11, message: 'MPD failed' } });

  const nv = new FakeVideo();
  nv.src = 'https://cdn.test/native/index.m3u8';
  tracker.attachVideo(nv);
  nv.play();
  nv.playing();

  const pc = new FakePeerConnection();
  pc.connectionState = 'connected';
  pc.iceConnectionState = 'completed';
  pc.reports = [
    [
      { id: 'V', type: 'inbound-rtp', kind: 'video', ssrc: 1, framesDecoded: 10, packetsReceived: 100, packetsLost: 1, bytesReceived: 1e5, jitter: 0.01, nackCount: 1, pliCount: 0 },
      { id: 'A', type: 'inbound-rtp', kind: 'audio', ssrc: 2, packetsReceived: 100, bytesReceived: 1e4, jitterBufferDelay: 1, jitterBufferEmittedCount: 100 },
      { id: 'T', type: 'transport', dtlsState: 'connected', selectedCandidatePairId: 'P' },
      { id: 'P', type: 'candidate-pair', currentRoundTripTime: 0.02, totalRoundTripTime: 0.2, responsesReceived: 10 },
    ],
    [
      { id: 'V', type: 'inbound-rtp', kind: 'video', ssrc: 1, framesDecoded: 70, packetsReceived: 50, packetsLost: 3, bytesReceived: 5e4, jitter: 0.02, nackCount: 3, pliCount: 1, freezeCount: 1, totalFreezesDuration: 0.3 },
      { id: 'T', type: 'transport', dtlsState: 'connected', selectedCandidatePairId: 'P' },
      { id: 'P', type: 'candidate-pair', totalRoundTripTime: 0.5, responsesReceived: 13 },
    ],
  ];
  tracker.attachWebRtc(pc, { runId: 'pc-1' });
  await vi.advanceTimersByTimeAsync(6000);
  pc.setState('failed');
  tracker.track('custom.event', { label: 'ok', 'webrtc.not_allowed': 1, page_url: 'https://app.test/?q=secret' });
  await vi.advanceTimersByTimeAsync(60000);
  await tracker.destroy();
  return transport;
}

describe('wire contract (m-trace contracts/event-schema.json)', () => {
  it('the fixture is the 1.0 contract', () => {
    expect(contract.schema_version).toBe('1.0');
    expect(contract.event_names).toEqual([...MTRACE_EVENT_NAMES]);
    expect(contract.batch.max_events).toBe(100);
    expect(contract.batch.max_body_bytes).toBe(262144);
  });

  it('every body of a full session is valid (m-trace names plus the documented extensions)', async () => {
    const transport = await fullSession();
    expect(transport.bodies.length).toBeGreaterThan(5);
    for (const body of [...transport.bodies, ...transport.beacons]) expect(validateBatchBody(body, [...EXTENSION_EVENT_NAMES, 'custom.event']).errors).toEqual([]);
    const names = new Set(transport.names());
    for (const n of ['manifest_loaded', 'segment_loaded', 'playback_started', 'bitrate_switch', 'rebuffer_started', 'rebuffer_ended', 'playback_error', 'startup_time_measured', 'metrics_sampled', 'session_ended', 'play_intent', 'seek_started', 'seek_ended', 'custom.event']) {
      expect(names.has(n)).toBe(true);
    }
    const all = transport.bodies.join('\n');
    for (const secret of ['token=x', 'sig=1', 'a=b', 'secret']) expect(all).not.toContain(secret);
    // Drops (queue bound, 422) were reported in a later batch.
    expect(transport.events().some((e) => typeof e.meta?.['sdk.dropped_events'] === 'number')).toBe(true);
    // The native HLS boundaries went out with an event of the same session.
    expect(transport.batches().some((b) => (b.session_boundaries ?? []).length === 2)).toBe(true);
  });

  it('with extensionEvents: false only the contract event names go out (custom track() names aside)', async () => {
    const transport = await fullSession({ extensionEvents: false });
    for (const body of transport.bodies) {
      const batch = JSON.parse(body);
      batch.events = batch.events.filter((e: any) => e.event_name !== 'custom.event');
      if (batch.events.length === 0) continue;
      expect(validateBatchBody(JSON.stringify(batch)).errors).toEqual([]);
    }
  });

  it('the validator itself rejects what the server rejects', () => {
    const ok = {
      schema_version: '1.0',
      events: [{ event_name: 'playback_started', project_id: 'p', session_id: 's', client_timestamp: '2026-01-02T03:04:05.678Z', sdk: { name: 'n', version: 'v' } }],
    };
    const bad = (mut: (b: any) => void) => {
      const b = structuredClone(ok);
      mut(b);
      return validateBatchBody(JSON.stringify(b)).ok;
    };
    expect(validateBatchBody(JSON.stringify(ok)).ok).toBe(true);
    expect(bad((b) => (b.schema_version = '2.0'))).toBe(false);
    expect(bad((b) => (b.events = []))).toBe(false);
    expect(bad((b) => (b.events = Array(101).fill(b.events[0])))).toBe(false);
    expect(bad((b) => delete b.events[0].sdk)).toBe(false);
    expect(bad((b) => (b.events[0].client_timestamp = '2026-01-02 03:04:05'))).toBe(false);
    expect(bad((b) => (b.events[0].sequence_number = -1))).toBe(false);
    expect(bad((b) => (b.events[0].meta = { nested: { a: 1 } }))).toBe(false);
    expect(bad((b) => (b.events[0].meta = { 'webrtc.unknown': 1 }))).toBe(false);
    expect(bad((b) => (b.events[0].meta = { 'network.kind': 'playlist' }))).toBe(false);
    expect(bad((b) => (b.events[0].meta = { 'network.redacted_url': 'https://a/b?c=d' }))).toBe(false);
    expect(bad((b) => (b.events[0].meta = { session_sample_rate: 0 }))).toBe(false);
    expect(bad((b) => (b.events[0].meta = { 'network.detail_status': 'available', 'network.unavailable_reason': 'cors_timing_blocked' }))).toBe(false);
    expect(bad((b) => (b.session_boundaries = [{ kind: 'network_signal_absent', project_id: 'p', session_id: 'other', network_kind: 'segment', adapter: 'unknown', reason: 'cors_timing_blocked', client_timestamp: '2026-01-02T03:04:05.678Z' }]))).toBe(false);
    expect(validateBatchBody(`{"schema_version":"1.0","events":[${JSON.stringify(ok.events[0])}],"pad":"${'x'.repeat(262144)}"}`).ok).toBe(false);
  });
});
