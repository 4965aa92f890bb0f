import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakePeerConnection, makeTracker, useFakeClock } from '../../test/helpers';
import { validateBatchBody } from '../../test/contract_validator';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

const inbound = (frames: number, packets: number, lost: number, bytes: number, extra: Record<string, number> = {}) => [
  { id: 'V', type: 'inbound-rtp', kind: 'video', ssrc: 1, framesDecoded: frames, packetsReceived: packets, packetsLost: lost, bytesReceived: bytes, jitter: 0.004, ...extra },
  { id: 'T', type: 'transport', dtlsState: 'connected' },
];

describe('WebRTC adapter', () => {
  it('samples getStats every interval with m-trace webrtc.* fields and rtc.* deltas, all contract-valid', async () => {
    const { tracker, transport } = makeTracker({ webrtcIntervalMs: 2000 });
    const pc = new FakePeerConnection();
    pc.connectionState = 'connecting';
    pc.iceConnectionState = 'checking';
    pc.reports = [inbound(0, 0, 0, 0), inbound(0, 40, 0, 4e4), inbound(60, 200, 3, 2e5, { freezeCount: 1, totalFreezesDuration: 0.5 }), inbound(120, 400, 5, 4e5, { freezeCount: 1, totalFreezesDuration: 0.5 })];
    tracker.attachWebRtc(pc, { runId: 'run_1' });
    await vi.advanceTimersByTimeAsync(0);
    pc.connectionState = 'connected';
    pc.iceConnectionState = 'connected';
    await vi.advanceTimersByTimeAsync(2000);
    vi.advanceTimersByTime(500); // startup lands between polls
    await vi.advanceTimersByTimeAsync(1500);
    await vi.advanceTimersByTimeAsync(2000);
    await tracker.destroy();

    const samples = transport.find('metrics_sampled').map((e) => e.meta!);
    expect(samples).toHaveLength(4);
    expect(samples.map((s) => s['webrtc.sample_id'])).toEqual([0, 1, 2, 3]);
    expect(samples[0]).toMatchObject({ 'webrtc.peer_connection_run_id': 'run_1', 'webrtc.connection_state': 'connecting', 'webrtc.ice_state': 'checking', 'webrtc.dtls_state': 'connected' });
    expect(samples[2]).toMatchObject({
      'webrtc.connection_state': 'connected',
      'rtc.interval_ms': 2000,
      'rtc.packets_received': 160,
      'rtc.packets_lost': 3,
      'rtc.video.frames_decoded': 60,
      'rtc.video.fps': 30,
      'rtc.video.freeze_count': 1,
      'rtc.video.freeze_ms': 500,
      'rtc.video.jitter_ms': 4,
      'webrtc.packets_lost': 3,
      'webrtc.bytes_received': 2e5,
    });
    const started = transport.find('playback_started')[0];
    expect(started.meta).toMatchObject({ adapter: 'webrtc', startup_ms: 4000 });
    expect(transport.find('startup_time_measured')[0].meta).toEqual({ duration_ms: 4000, measured_from: 'attach' });
    expect(transport.find('session_ended')[0].meta).toMatchObject({ rebuffer_count: 1, rebuffer_ms: 500, played_ms: 2000 });
    for (const b of transport.bodies) expect(validateBatchBody(b).errors).toEqual([]);
  });

  it('reports connectionState failed as a fatal peer_connection_failed error, once', async () => {
    const { tracker, transport } = makeTracker();
    const pc = new FakePeerConnection();
    pc.reports = [inbound(10, 10, 0, 1000)];
    tracker.attachWebRtc(pc, { runId: 'r' });
    await vi.advanceTimersByTimeAsync(0);
    pc.setState('failed');
    pc.setState('failed');
    await tracker.destroy();
    const errs = transport.find('playback_error');
    expect(errs).toHaveLength(1);
    expect(errs[0].meta).toMatchObject({ fatal: true, phase: 'playback', 'webrtc.error_code': 'peer_connection_failed', 'webrtc.connection_state': 'failed' });
    for (const b of transport.bodies) expect(validateBatchBody(b).errors).toEqual([]);
  });

  it('detach before media flowed: webrtc_destroyed_before_connected, or webrtc_no_tracks once connected', async () => {
    for (const [state, code] of [
      ['connecting', 'webrtc_destroyed_before_connected'],
      ['connected', 'webrtc_no_tracks'],
    ]) {
      const { tracker, transport } = makeTracker();
      const pc = new FakePeerConnection();
      pc.connectionState = state;
      pc.reports = [[]];
      const detach = tracker.attachWebRtc(pc);
      await vi.advanceTimersByTimeAsync(0);
      detach();
      await tracker.destroy();
      expect(transport.find('playback_error')[0].meta).toMatchObject({ fatal: false, 'webrtc.error_code': code });
      expect(transport.find('session_ended')[0].meta).toMatchObject({ exit_before_start: false });
    }
  });

  it('stops polling on close and on detach', async () => {
    const { tracker } = makeTracker({ webrtcIntervalMs: 1000 });
    const pc = new FakePeerConnection();
    pc.reports = [inbound(1, 1, 0, 1)];
    tracker.attachWebRtc(pc);
    await vi.advanceTimersByTimeAsync(3000);
    const n = pc.statsCalls;
    pc.setState('closed');
    await vi.advanceTimersByTimeAsync(5000);
    expect(pc.statsCalls).toBe(n);
    expect(pc.count()).toBe(0);
    await tracker.destroy();
  });
});
