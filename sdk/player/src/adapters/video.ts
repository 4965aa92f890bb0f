/**
 * VideoMonitor: QoE from an HTMLMediaElement. Every media adapter (native, hls.js, dashjs) uses it,
 * so play intent, first frame, startup time, rebuffering, seeking and played time are defined once:
 *
 * - play intent: the first `play` event (user or autoplay) → `play_intent`;
 * - first frame: the first `playing` (or the playhead advancing) after it → `playback_started`
 *   and `startup_time_measured` (duration_ms = play intent → first frame; from attach when the
 *   intent came before attach);
 * - rebuffering: `waiting` (or a player's stall hint) after the first frame, while not paused and
 *   not seeking → `rebuffer_started`; ended by `playing` or the playhead advancing (also by a seek,
 *   a pause, the end of media or the end of the session) → `rebuffer_ended` with duration_ms;
 * - seeking: `seeking` → `seek_started`; done at `seeked` when the element can play, else at the
 *   next `canplay`/`playing` → `seek_ended`. Buffering during a seek is never counted as a
 *   rebuffer, and a stall interrupted by a seek ends there;
 * - played time: first frame seen, not paused, not ended, not stalled, not seeking;
 * - pause / resume after the first frame → `playback_paused` / `playback_resumed` (paused_ms), so a
 *   server can exclude paused time from playing time;
 * - every sampleIntervalMs while active: `metrics_sampled` with playhead, buffer, dropped frames
 *   (session total and interval delta from getVideoPlaybackQuality), current bitrate and the
 *   adapter's own metrics.
 *
 * The monitor owns its listeners and timer; stop() removes them. Main thread only.
 */
import type { AdapterContext, Detach } from '../context';
import type { Listenable, TimerHandle } from '../env';
import type { Meta } from '../wire';

export interface TimeRangesLike {
  length: number;
  start(i: number): number;
  end(i: number): number;
}

/** The part of HTMLVideoElement the SDK reads. */
export interface VideoLike extends Listenable {
  paused: boolean;
  seeking?: boolean;
  ended: boolean;
  currentTime: number;
  readyState: number;
  playbackRate?: number;
  buffered?: TimeRangesLike;
  error?: { code: number; message?: string } | null;
  currentSrc?: string;
  src?: string;
  getVideoPlaybackQuality?(): { droppedVideoFrames: number; totalVideoFrames: number };
}

export interface MonitorOptions {
  /** `native`, `hls.js`, `dashjs`. */
  adapter: string;
  playerVersion?: string;
  /** Adapter metrics merged into each metrics_sampled (throughput, latency, bitrate). */
  sample?: () => Meta;
}

const HAVE_FUTURE_DATA = 3;

export function round(n: number, digits = 0): number {
  const f = Math.pow(10, digits);
  return Math.round(n * f) / f;
}

/** Seconds of media buffered ahead of the playhead, in ms. */
export function bufferAheadMs(v: VideoLike): number | undefined {
  const b = v.buffered;
  if (!b) return undefined;
  const t = v.currentTime;
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= t + 0.05 && t < b.end(i)) return Math.round((b.end(i) - t) * 1000);
  }
  return 0;
}

export interface VideoMonitor {
  readonly video: VideoLike;
  /** Adds listeners and the sample timer; returns stop. */
  start(): Detach;
  /** Closes open intervals, removes listeners and the timer. Safe to call twice. */
  stop(): void;
  /** A player-level stall signal (hls.js bufferStalledError, dashjs bufferStalled). */
  stallHint(cause: string): void;
  /** CMCD `su`: startup, seeking or recovering from a stall. */
  urgent(): boolean;
  /** CMCD `bs`: true once after each starvation. */
  takeStarved(): boolean;
  playheadMs(): number;
  /** Emits metrics_sampled unless the element is idle (paused, ended, never started). */
  sample(): void;
}

export function createVideoMonitor(ctx: AdapterContext, video: VideoLike, opts: MonitorOptions): VideoMonitor {
  const env = ctx.env;
  const qoe = ctx.qoe;
  const v = video;
  const attachAt = env.mono();
  let intentAt: number | undefined;
  let firstFrame = false;
  let stallAt: number | undefined;
  let stallPlayhead = 0;
  let seekAt: number | undefined;
  let seekFrom = 0;
  let seekResumePending = false;
  let playingSince: number | undefined;
  let starved = false;
  let pausedAt: number | undefined;
  let lastTime = 0;
  let lastDropped: number | undefined;
  let lastTotal: number | undefined;
  let timer: TimerHandle | null = null;
  const offs: Array<() => void> = [];
  let stopped = false;

  const playheadMs = () => Math.round((v.currentTime || 0) * 1000);

  /** Accumulates played time up to now and restarts the interval if still playing. */
  const updatePlaying = (): void => {
    const now = env.mono();
    if (playingSince !== undefined) qoe.playedMs += now - playingSince;
    const playing = firstFrame && !v.paused && !v.ended && stallAt === undefined && seekAt === undefined && !stopped;
    playingSince = playing ? now : undefined;
  };

  const on = (type: string, fn: () => void): void => {
    const h = () => {
      try {
        fn();
      } catch (e) {
        ctx.debug(`video ${type} handler failed`, e);
      }
    };
    v.addEventListener(type, h);
    offs.push(() => v.removeEventListener(type, h));
  };

  const markFirstFrame = (): void => {
    const now = env.mono();
    firstFrame = true;
    qoe.firstFrame = true;
    const fromIntent = intentAt !== undefined;
    const startup = Math.round(now - (fromIntent ? (intentAt as number) : attachAt));
    if (qoe.startupMs === undefined) qoe.startupMs = startup;
    const meta: Meta = { adapter: opts.adapter, playhead_ms: playheadMs(), startup_ms: startup };
    if (opts.playerVersion) meta.player_version = opts.playerVersion;
    ctx.emit('playback_started', meta, true);
    ctx.emit(
      'startup_time_measured',
      {
        duration_ms: startup,
        measured_from: fromIntent ? 'play_intent' : 'attach',
        'timing.attach_to_first_frame_ms': Math.round(now - attachAt),
      },
      true,
    );
  };

  const stallHint = (cause: string): void => {
    if (!firstFrame || v.paused || v.ended || v.seeking || seekAt !== undefined || stallAt !== undefined) return;
    stallAt = env.mono();
    stallPlayhead = v.currentTime;
    starved = true;
    updatePlaying();
    qoe.rebufferCount++;
    ctx.emit('rebuffer_started', {
      rebuffer_count: qoe.rebufferCount,
      playhead_ms: playheadMs(),
      buffer_ms: bufferAheadMs(v) ?? null,
      cause,
    });
  };

  const endStall = (by: string): void => {
    if (stallAt === undefined) return;
    const d = Math.round(env.mono() - stallAt);
    stallAt = undefined;
    qoe.rebufferMs += d;
    ctx.emit('rebuffer_ended', {
      duration_ms: d,
      rebuffer_count: qoe.rebufferCount,
      total_rebuffer_duration_ms: Math.round(qoe.rebufferMs),
      ended_by: by,
      playhead_ms: playheadMs(),
    });
    updatePlaying();
  };

  const endSeek = (): void => {
    if (seekAt === undefined) return;
    const d = Math.round(env.mono() - seekAt);
    seekAt = undefined;
    seekResumePending = false;
    lastTime = v.currentTime;
    ctx.emit('seek_ended', { duration_ms: d, from_ms: Math.round(seekFrom * 1000), to_ms: playheadMs() });
    updatePlaying();
  };

  const baselineFrames = (): void => {
    const q = quality();
    lastDropped = q?.droppedVideoFrames;
    lastTotal = q?.totalVideoFrames;
  };

  const quality = (): { droppedVideoFrames: number; totalVideoFrames: number } | undefined => {
    try {
      return v.getVideoPlaybackQuality?.();
    } catch {
      return undefined;
    }
  };

  const state = (): string =>
    v.ended
      ? 'ended'
      : seekAt !== undefined
        ? 'seeking'
        : stallAt !== undefined
          ? 'buffering'
          : v.paused
            ? 'paused'
            : firstFrame
              ? 'playing'
              : 'starting';

  const sample = (): void => {
    const st = state();
    if (st === 'paused' || st === 'ended' || (st === 'starting' && intentAt === undefined)) return;
    updatePlaying();
    const meta: Meta = {
      state: st,
      playhead_ms: playheadMs(),
      buffer_ms: bufferAheadMs(v) ?? null,
      played_ms: Math.round(qoe.playedMs),
      rebuffer_count: qoe.rebufferCount,
    };
    if (v.playbackRate !== undefined && v.playbackRate !== 1) meta.playback_rate = v.playbackRate;
    const q = quality();
    if (q) {
      // Counters restart when the source changes: a decrease is a reset, not negative drops.
      const dropped = q.droppedVideoFrames - (lastDropped ?? 0);
      const total = q.totalVideoFrames - (lastTotal ?? 0);
      const reset = dropped < 0 || total < 0;
      const dDropped = reset ? q.droppedVideoFrames : dropped;
      qoe.droppedFrames += dDropped;
      // dropped_frames is the session's running total (robust to a lost batch: take the max);
      // the *_delta keys cover this interval.
      meta.dropped_frames = qoe.droppedFrames;
      meta.dropped_frames_delta = dDropped;
      meta.decoded_frames_delta = reset ? q.totalVideoFrames : total;
      lastDropped = q.droppedVideoFrames;
      lastTotal = q.totalVideoFrames;
    }
    if (opts.sample) Object.assign(meta, opts.sample());
    ctx.emit('metrics_sampled', meta);
  };

  const scheduleSample = (): void => {
    const every = ctx.cfg.sampleIntervalMs;
    if (every <= 0 || stopped) return;
    timer = env.setTimeout(() => {
      timer = null;
      try {
        sample();
      } catch (e) {
        ctx.debug('metrics sample failed', e);
      }
      scheduleSample();
    }, every);
  };

  const closeIntervals = (by: string): void => {
    endStall(by);
    updatePlaying();
  };

  const resetForNewSession = (): void => {
    intentAt = undefined;
    pausedAt = undefined;
    stallAt = undefined;
    seekAt = undefined;
    seekResumePending = false;
    firstFrame = !v.paused && v.readyState >= HAVE_FUTURE_DATA;
    qoe.firstFrame = firstFrame;
    playingSince = undefined;
    baselineFrames();
    updatePlaying();
  };

  const stop = (): void => {
    if (stopped) return;
    closeIntervals('detach');
    stopped = true;
    updatePlaying();
    for (const f of offs.splice(0)) f();
    if (timer != null) env.clearTimeout(timer);
    timer = null;
  };

  return {
    video,
    stallHint,
    playheadMs,
    sample,
    stop,
    urgent: () => !firstFrame || seekAt !== undefined || stallAt !== undefined,
    takeStarved() {
      const s = starved;
      starved = false;
      return s;
    },
    start() {
      on('play', () => {
        if (pausedAt !== undefined) {
          ctx.emit('playback_resumed', { playhead_ms: playheadMs(), paused_ms: Math.round(env.mono() - pausedAt) });
          pausedAt = undefined;
        }
        if (firstFrame || intentAt !== undefined) return;
        intentAt = env.mono();
        qoe.playRequested = true;
        ctx.emit('play_intent', { playhead_ms: playheadMs() }, true);
      });
      on('playing', () => {
        if (!firstFrame) markFirstFrame();
        endStall('playing');
        if (seekResumePending) endSeek();
        updatePlaying();
      });
      on('waiting', () => stallHint('waiting'));
      on('pause', () => {
        endStall('pause');
        // The pause that ends playback (ended is already true then) is not a user pause.
        if (firstFrame && !v.ended && pausedAt === undefined) {
          pausedAt = env.mono();
          ctx.emit('playback_paused', { playhead_ms: playheadMs() });
        }
        updatePlaying();
      });
      on('seeking', () => {
        endStall('seek');
        if (seekAt === undefined) {
          seekAt = env.mono();
          seekFrom = lastTime;
          qoe.seekCount++;
          ctx.emit('seek_started', { from_ms: Math.round(seekFrom * 1000), to_ms: playheadMs() });
        }
        seekResumePending = false;
        updatePlaying();
      });
      on('seeked', () => {
        if (seekAt === undefined) return;
        if (v.paused || v.readyState >= HAVE_FUTURE_DATA) endSeek();
        else seekResumePending = true;
      });
      on('canplay', () => {
        if (seekResumePending) endSeek();
      });
      on('timeupdate', () => {
        const t = v.currentTime;
        if (seekAt === undefined && !v.seeking) {
          // Some engines skip `playing` after a stall or at start; a moving playhead settles it.
          if (!v.paused && t > lastTime + 0.1) {
            if (!firstFrame && intentAt !== undefined) {
              markFirstFrame();
              updatePlaying();
            }
            if (stallAt !== undefined && t > stallPlayhead + 0.1) endStall('progress');
          }
          lastTime = t;
        } else if (seekResumePending && !v.paused && v.readyState >= HAVE_FUTURE_DATA) endSeek();
      });
      on('ended', () => {
        endStall('ended');
        endSeek();
        updatePlaying();
      });
      on('error', () => {
        const e = v.error;
        if (!e) return;
        const meta: Meta = { source: 'media_element', error_type: 'media_error', error_code: `MEDIA_ERR_${e.code}` };
        if (e.message) meta.error_message = e.message;
        ctx.reportError(true, meta);
        updatePlaying();
      });
      lastTime = v.currentTime || 0;
      baselineFrames();
      // Attached mid-playback: no startup to measure, but played time counts from now.
      if (!v.paused && v.readyState >= HAVE_FUTURE_DATA) {
        firstFrame = true;
        qoe.firstFrame = true;
        updatePlaying();
      }
      offs.push(ctx.onSessionEnd(() => closeIntervals('session_end')));
      offs.push(ctx.onSessionStart(resetForNewSession));
      scheduleSample();
      return stop;
    },
  };
}
