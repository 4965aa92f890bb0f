import { describe, expect, it } from 'vitest';
import { seeded } from '../../test/helpers';
import { createRtcDeltaEngine } from './webrtc_deltas';

const video = (ssrc: number, c: Record<string, number>, extra: Record<string, unknown> = {}) => ({
  id: `IT01V${ssrc}`,
  type: 'inbound-rtp',
  kind: 'video',
  ssrc,
  ...c,
  ...extra,
});
const audio = (ssrc: number, c: Record<string, number>, extra: Record<string, unknown> = {}) => ({
  id: `IT01A${ssrc}`,
  type: 'inbound-rtp',
  kind: 'audio',
  ssrc,
  ...c,
  ...extra,
});

describe('RtcDeltaEngine', () => {
  it('treats the first report as a baseline and emits per-interval deltas after it', () => {
    const e = createRtcDeltaEngine();
    const b = e.update([video(1, { packetsReceived: 1000, packetsLost: 10, bytesReceived: 1e6, framesDecoded: 300, nackCount: 4, pliCount: 1 }, { jitter: 0.012, framesPerSecond: 30 })], 0);
    expect(b.meta['rtc.interval_ms']).toBeUndefined();
    expect(b.meta['rtc.packets_lost']).toBeUndefined();
    expect(b.meta).toMatchObject({ 'webrtc.packets_lost': 10, 'webrtc.bytes_received': 1e6, 'rtc.video.jitter_ms': 12, 'rtc.video.fps': 30 });
    expect(b.flowing).toBe(true);
    const s = e.update(
      [video(1, { packetsReceived: 1490, packetsLost: 20, bytesReceived: 1.5e6, framesDecoded: 450, framesDropped: 2, nackCount: 9, pliCount: 2, freezeCount: 1, totalFreezesDuration: 0.4, jitterBufferDelay: 30, jitterBufferEmittedCount: 600 }, { jitter: 0.02 })],
      5000,
    );
    expect(s.meta).toMatchObject({
      'rtc.interval_ms': 5000,
      'rtc.packets_received': 490,
      'rtc.packets_lost': 10,
      'rtc.loss_pct': 2,
      'rtc.bytes_received': 500000,
      'rtc.recv_kbps': 800,
      'rtc.nack_count': 5,
      'rtc.pli_count': 1,
      'rtc.video.frames_decoded': 150,
      'rtc.video.frames_dropped': 2,
      'rtc.video.freeze_count': 1,
      'rtc.video.freeze_ms': 400,
      'rtc.video.fps': 30,
      'rtc.video.jitter_ms': 20,
      'webrtc.packets_lost': 20,
      'webrtc.bytes_received': 1.5e6,
    });
    // jitterBufferDelay/EmittedCount was absent at baseline: its first delta is the whole value.
    expect(s.meta['rtc.video.jitter_buffer_ms']).toBe(50);
    expect(s.freezeCount).toBe(1);
    expect(s.freezeMs).toBe(400);
  });

  it('computes jitter-buffer delay from the deltas of both counters', () => {
    const e = createRtcDeltaEngine();
    e.update([audio(5, { packetsReceived: 100, jitterBufferDelay: 10, jitterBufferEmittedCount: 1000, concealedSamples: 0, totalSamplesReceived: 48000 })], 0);
    const s = e.update([audio(5, { packetsReceived: 350, jitterBufferDelay: 16, jitterBufferEmittedCount: 1100, concealedSamples: 480, totalSamplesReceived: 96000 })], 1000);
    expect(s.meta['rtc.audio.jitter_buffer_ms']).toBe(60); // 6 s / 100 samples
    expect(s.meta['rtc.audio.concealed_pct']).toBe(1);
    expect(s.flowing).toBe(true); // audio-only: packets count
  });

  it('never emits negative loss when packetsLost falls (late packets), and does not count it twice', () => {
    const e = createRtcDeltaEngine();
    e.update([video(1, { packetsReceived: 100, packetsLost: 10 })], 0);
    const a = e.update([video(1, { packetsReceived: 200, packetsLost: 7 })], 1000);
    const b = e.update([video(1, { packetsReceived: 300, packetsLost: 9 })], 2000);
    const c = e.update([video(1, { packetsReceived: 400, packetsLost: 13 })], 3000);
    expect([a, b, c].map((x) => x.meta['rtc.packets_lost'])).toEqual([0, 0, 3]);
    expect(c.meta['webrtc.packets_lost']).toBe(13);
  });

  it('re-bases a stream whose counters went down (reset) and counts it', () => {
    const e = createRtcDeltaEngine();
    e.update([video(1, { packetsReceived: 5000, bytesReceived: 5e6, packetsLost: 50, nackCount: 40 })], 0);
    const s = e.update([video(1, { packetsReceived: 120, bytesReceived: 1.2e5, packetsLost: 2, nackCount: 1 })], 1000);
    expect(s.meta).toMatchObject({ 'rtc.counter_resets': 1, 'rtc.packets_received': 120, 'rtc.packets_lost': 2, 'rtc.nack_count': 1, 'rtc.bytes_received': 1.2e5 });
    expect(s.meta['webrtc.packets_lost']).toBe(52);
    expect(s.meta['webrtc.bytes_received']).toBe(5.12e6);
  });

  it('counts a new SSRC from zero and forgets streams that disappear', () => {
    const e = createRtcDeltaEngine();
    e.update([video(1, { packetsReceived: 100, bytesReceived: 1000 })], 0);
    const s = e.update([video(1, { packetsReceived: 150, bytesReceived: 1500 }), video(2, { packetsReceived: 30, bytesReceived: 300 })], 1000);
    expect(s.meta['rtc.packets_received']).toBe(80);
    expect(s.meta['rtc.inbound_streams']).toBe(2);
    const g = e.update([video(2, { packetsReceived: 60, bytesReceived: 600 })], 2000);
    expect(g.meta['rtc.packets_received']).toBe(30);
    // SSRC 1 comes back after it was forgotten: a new stream again, counted from zero.
    const h = e.update([video(1, { packetsReceived: 10, bytesReceived: 100 }), video(2, { packetsReceived: 60, bytesReceived: 600 })], 3000);
    expect(h.meta['rtc.packets_received']).toBe(10);
    expect(h.meta['rtc.counter_resets']).toBeUndefined();
  });

  it('RTT from the selected candidate pair: Δ totalRoundTripTime / Δ responsesReceived, else current', () => {
    const e = createRtcDeltaEngine();
    const pair = (tot: number, resp: number) => ({ id: 'CP1', type: 'candidate-pair', nominated: true, state: 'succeeded', totalRoundTripTime: tot, responsesReceived: resp, currentRoundTripTime: 0.05, availableIncomingBitrate: 3_000_000 });
    const transport = { id: 'T1', type: 'transport', dtlsState: 'connected', selectedCandidatePairId: 'CP1' };
    const a = e.update([transport, pair(1.0, 10)], 0);
    expect(a.meta['rtc.rtt_ms']).toBe(50);
    expect(a.meta['webrtc.dtls_state']).toBe('connected');
    expect(a.meta['rtc.available_incoming_kbps']).toBe(3000);
    const b = e.update([transport, pair(1.3, 12)], 1000);
    expect(b.meta['rtc.rtt_ms']).toBe(150);
  });

  it('sender side: outbound deltas, remote-inbound RTT and loss', () => {
    const e = createRtcDeltaEngine();
    const out = (p: number, b: number, n: number) => ({ id: 'OT1', type: 'outbound-rtp', kind: 'video', ssrc: 9, packetsSent: p, bytesSent: b, nackCount: n, pliCount: 0 });
    e.update([out(100, 1e5, 1)], 0);
    const s = e.update([out(300, 3e5, 4), { id: 'RI1', type: 'remote-inbound-rtp', roundTripTime: 0.031, fractionLost: 0.015 }], 2000);
    expect(s.meta).toMatchObject({
      'rtc.packets_sent': 200,
      'rtc.bytes_sent': 2e5,
      'rtc.send_kbps': 800,
      'rtc.out.nack_count': 3,
      'rtc.remote.rtt_ms': 31,
      'rtc.remote.loss_pct': 1.5,
      'webrtc.bytes_sent': 3e5,
    });
  });

  it('deltas add up to the true change of every counter over random runs with resets and new SSRCs', () => {
    const r = seeded(11);
    for (let run = 0; run < 50; run++) {
      const e = createRtcDeltaEngine();
      let ssrc = 1;
      let cur = { packetsReceived: Math.floor(r() * 1000), bytesReceived: 0, nackCount: Math.floor(r() * 10) };
      cur.bytesReceived = cur.packetsReceived * 1000;
      e.update([video(ssrc, cur)], 0);
      let truth = 0; // packets received after the baseline
      let sum = 0;
      for (let i = 1; i <= 40; i++) {
        if (r() < 0.1) {
          ssrc++; // renegotiation: a new SSRC starting from zero
          cur = { packetsReceived: 0, bytesReceived: 0, nackCount: 0 };
        }
        const inc = Math.floor(r() * 500);
        cur = { packetsReceived: cur.packetsReceived + inc, bytesReceived: cur.bytesReceived + inc * 1000, nackCount: cur.nackCount + (r() < 0.3 ? 1 : 0) };
        truth += inc;
        const s = e.update([video(ssrc, cur)], i * 1000);
        sum += s.meta['rtc.packets_received'] as number;
        expect(s.meta['rtc.packets_received']).toBeGreaterThanOrEqual(0);
      }
      expect(sum).toBe(truth);
    }
  });

  it('accepts a Map-shaped RTCStatsReport', () => {
    const e = createRtcDeltaEngine();
    const m = new Map([['x', video(1, { packetsReceived: 1, framesDecoded: 0 })]]);
    expect(e.update(m, 0).flowing).toBe(false);
  });
});
