import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeTimeRanges, FakeVideo, makeTracker, useFakeClock } from '../../test/helpers';
import { validateBatchBody } from '../../test/contract_validator';
import { EXTENSION_EVENT_NAMES } from '../wire';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

async function run(script: (v: FakeVideo, t: ReturnType<typeof makeTracker>) => void | Promise<void>, over = {}) {
  const t = makeTracker(over);
  const v = new FakeVideo();
  t.tracker.attachVideo(v);
  await script(v, t);
  await t.tracker.destroy();
  for (const b of t.transport.bodies) expect(validateBatchBody(b, EXTENSION_EVENT_NAMES).errors).toEqual([]);
  return t.transport;
}

describe('native <video> QoE', () => {
  it('measures startup from play intent to first frame', async () => {
    const tr = await run(async (v) => {
      vi.advanceTimersByTime(1000);
      v.play();
      vi.advanceTimersByTime(850);
      v.playing();
    });
    expect(tr.names().slice(0, 3)).toEqual(['play_intent', 'playback_started', 'startup_time_measured']);
    expect(tr.find('startup_time_measured')[0].meta).toMatchObject({
      duration_ms: 850,
      measured_from: 'play_intent',
      'timing.attach_to_first_frame_ms': 1850,
    });
    expect(tr.find('playback_started')[0].meta).toMatchObject({ adapter: 'native', startup_ms: 850 });
    expect(tr.find('session_ended')[0].meta).toMatchObject({ startup_ms: 850, exit_before_start: false, end_reason: 'destroy' });
  });

  it('counts a stall after the first frame as a rebuffer with its duration', async () => {
    const tr = await run((v) => {
      v.play();
      v.playing();
      v.advance(5);
      vi.advanceTimersByTime(5000);
      v.waiting();
      vi.advanceTimersByTime(1200);
      v.playing();
      v.waiting();
      vi.advanceTimersByTime(300);
      v.playing();
    });
    const ended = tr.find('rebuffer_ended').map((e) => e.meta);
    expect(ended).toEqual([
      { duration_ms: 1200, rebuffer_count: 1, total_rebuffer_duration_ms: 1200, ended_by: 'playing', playhead_ms: 5000 },
      { duration_ms: 300, rebuffer_count: 2, total_rebuffer_duration_ms: 1500, ended_by: 'playing', playhead_ms: 5000 },
    ]);
    expect(tr.find('rebuffer_started')[0].meta).toMatchObject({ rebuffer_count: 1, cause: 'waiting', playhead_ms: 5000 });
    expect(tr.find('session_ended')[0].meta).toMatchObject({ rebuffer_count: 2, rebuffer_ms: 1500, played_ms: 5000 });
  });

  it('does not count startup buffering, paused waiting or seek buffering as rebuffering', async () => {
    const tr = await run((v) => {
      v.play();
      v.waiting(); // before the first frame: startup
      v.playing();
      v.pause();
      v.waiting(); // paused
      v.play();
      v.playing();
      v.advance(10);
      v.seek(60);
      v.waiting(); // seeking
      vi.advanceTimersByTime(700);
      v.seeked(2); // not yet playable
      v.waiting();
      vi.advanceTimersByTime(300);
      v.playing();
    });
    expect(tr.find('rebuffer_started')).toHaveLength(0);
    expect(tr.find('seek_started')[0].meta).toEqual({ from_ms: 10000, to_ms: 60000 });
    expect(tr.find('seek_ended')[0].meta).toEqual({ duration_ms: 1000, from_ms: 10000, to_ms: 60000 });
    expect(tr.find('session_ended')[0].meta).toMatchObject({ seek_count: 1, rebuffer_count: 0 });
  });

  it('ends a seek at seeked when the element can play, and a stall interrupted by a seek there', async () => {
    const tr = await run((v) => {
      v.play();
      v.playing();
      v.advance(3);
      v.waiting();
      vi.advanceTimersByTime(400);
      v.seek(30);
      vi.advanceTimersByTime(100);
      v.seeked(4);
    });
    expect(tr.find('rebuffer_ended')[0].meta).toMatchObject({ duration_ms: 400, ended_by: 'seek' });
    expect(tr.find('seek_ended')[0].meta).toMatchObject({ duration_ms: 100 });
    expect(tr.names().indexOf('rebuffer_ended')).toBeLessThan(tr.names().indexOf('seek_started'));
  });

  it('ends a stall when the playhead moves even without a playing event', async () => {
    const tr = await run((v) => {
      v.play();
      v.playing();
      v.advance(1);
      v.waiting();
      vi.advanceTimersByTime(250);
      v.advance(0.05); // jitter below the threshold
      v.advance(0.5);
    });
    expect(tr.find('rebuffer_ended')[0].meta).toMatchObject({ duration_ms: 250, ended_by: 'progress' });
  });

  it('reports a media error as a fatal startup error and an exit before start', async () => {
    const tr = await run((v) => {
      v.play();
      v.error = { code: 4, message: 'MEDIA_ELEMENT_ERROR: Format error at https://cdn.test/v.mp4?sig=1' };
      v.dispatch('error');
    });
    const err = tr.find('playback_error')[0].meta!;
    expect(err).toMatchObject({ fatal: true, phase: 'startup', error_code: 'MEDIA_ERR_4', source: 'media_element' });
    expect(String(err.error_message)).not.toContain('sig=1');
    expect(tr.find('session_ended')[0].meta).toMatchObject({ exit_before_start: true, video_start_failure: true, fatal_error: true });
  });

  it('samples dropped frames (session total and interval delta), buffer ahead and played time; skips idle elements', async () => {
    const tr = await run(
      (v) => {
        vi.advanceTimersByTime(10000); // idle: nothing sampled
        v.play();
        v.playing();
        v.buffered = new FakeTimeRanges([[0, 14]]);
        v.currentTime = 4;
        v.total = 300;
        v.dropped = 3;
        vi.advanceTimersByTime(10000);
        v.total = 600;
        v.dropped = 10;
        vi.advanceTimersByTime(10000);
        v.pause();
        vi.advanceTimersByTime(10000);
      },
      { sampleIntervalMs: 10000 },
    );
    const s = tr.find('metrics_sampled').map((e) => e.meta!);
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({ state: 'playing', dropped_frames: 3, dropped_frames_delta: 3, decoded_frames_delta: 300, buffer_ms: 10000, playhead_ms: 4000 });
    expect(s[1]).toMatchObject({ dropped_frames: 10, dropped_frames_delta: 7, decoded_frames_delta: 300, played_ms: 20000 });
    expect(tr.find('session_ended')[0].meta).toMatchObject({ dropped_frames: 10, played_ms: 20000 });
  });

  it('reports user pauses (not the pause at the end of media) and excludes them from played time', async () => {
    const tr = await run((v) => {
      v.play();
      v.playing();
      vi.advanceTimersByTime(1000);
      v.pause();
      vi.advanceTimersByTime(4000);
      v.play();
      v.playing();
      vi.advanceTimersByTime(500);
      v.ended = true;
      v.pause();
      v.dispatch('ended');
    });
    expect(tr.names().filter((n) => n.startsWith('playback_'))).toEqual(['playback_started', 'playback_paused', 'playback_resumed']);
    expect(tr.find('playback_resumed')[0].meta).toMatchObject({ paused_ms: 4000 });
    expect(tr.find('session_ended')[0].meta).toMatchObject({ played_ms: 1500 });
  });

  it('attached mid-playback: no startup event, played time from attach', async () => {
    const t = makeTracker();
    const v = new FakeVideo();
    v.paused = false;
    v.readyState = 4;
    t.tracker.attachVideo(v);
    vi.advanceTimersByTime(3000);
    await t.tracker.destroy();
    expect(t.transport.names()).toEqual(['session_ended']);
    expect(t.transport.find('session_ended')[0].meta).toMatchObject({ played_ms: 3000 });
  });

  it('marks native HLS sessions with network_signal_absent boundaries', async () => {
    const tr = await run((v) => {
      v.src = 'https://cdn.test/live/index.m3u8';
      v.dispatch('loadstart');
      v.play();
      v.playing();
    });
    const b = tr.batches()[0].session_boundaries!;
    expect(b.map((x) => [x.network_kind, x.adapter, x.reason])).toEqual([
      ['manifest', 'native_hls', 'native_hls_unavailable'],
      ['segment', 'native_hls', 'native_hls_unavailable'],
    ]);
  });

  it('detach removes every listener and timer', async () => {
    const t = makeTracker({ sampleIntervalMs: 1000 });
    const v = new FakeVideo();
    const detach = t.tracker.attachVideo(v);
    expect(v.count()).toBeGreaterThan(5);
    detach();
    detach();
    expect(v.count()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
