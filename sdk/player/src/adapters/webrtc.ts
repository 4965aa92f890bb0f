/**
 * WebRTC adapter: polls RTCPeerConnection.getStats() and emits one metrics_sampled per interval
 * (default 5 s, not m-trace's 1 s, so a project stays far below its 100 events/s limit).
 *
 * Each sample carries m-trace's reserved webrtc.* fields (run id, sample id, connection / ICE /
 * DTLS state, cumulative packets_lost / bytes_received / bytes_sent) and avtrace's rtc.* interval
 * metrics from RtcDeltaEngine: loss, jitter, RTT, fps, frames decoded / dropped, freezes, NACK /
 * PLI / FIR, jitter-buffer delay, audio concealment, bitrates. The first sample with media flowing
 * gives playback_started and startup_time_measured (from attach). connectionState `failed` gives a
 * fatal playback_error with webrtc.error_code=peer_connection_failed; detaching before media ever
 * flowed gives webrtc_no_tracks (was connected) or webrtc_destroyed_before_connected. Video freezes count as rebuffering in the
 * session's QoE summary.
 *
 * The app owns the RTCPeerConnection and its signalling (WHEP or other); the adapter only reads.
 */
import type { AdapterContext, Detach } from '../context';
import type { Listenable, TimerHandle } from '../env';
import { createSessionId } from '../ids';
import type { Meta } from '../wire';
import { createRtcDeltaEngine, type StatsReportLike } from './webrtc_deltas';

export interface PeerConnectionLike extends Listenable {
  getStats(): Promise<StatsReportLike>;
  connectionState?: string;
  iceConnectionState?: string;
}

export interface WebRtcOptions {
  /** Poll interval; default the tracker's webrtcIntervalMs (5000 ms). */
  intervalMs?: number;
  /** webrtc.peer_connection_run_id, `^[a-z0-9_-]{1,64}$`; default a random UUID. */
  runId?: string;
}

const RUN_ID = /^[a-z0-9_-]{1,64}$/;

export function attachWebRtc(ctx: AdapterContext, pc: PeerConnectionLike, opts: WebRtcOptions = {}): Detach {
  const runId = opts.runId && RUN_ID.test(opts.runId) ? opts.runId : createSessionId(ctx.env);
  const every = Math.max(100, opts.intervalMs ?? ctx.cfg.webrtcIntervalMs);
  const engine = createRtcDeltaEngine();
  const attachAt = ctx.env.mono();
  let sampleId = 0;
  let flowing = false;
  let failed = false;
  let everConnected = false;
  let stopped = false;
  let timer: TimerHandle | null = null;
  let lastAt: number | undefined;

  // Values outside the contract's enums are dropped by the tracker's meta sanitiser.
  const states = (): Meta => ({
    'webrtc.peer_connection_run_id': runId,
    'webrtc.connection_state': pc.connectionState ?? null,
    'webrtc.ice_state': pc.iceConnectionState ?? null,
  });

  const poll = async () => {
    if (stopped) return;
    let report: StatsReportLike;
    try {
      report = await pc.getStats();
    } catch (e) {
      ctx.debug('getStats failed', e);
      return;
    }
    if (stopped) return;
    const now = ctx.env.mono();
    if (pc.connectionState === 'connected') everConnected = true;
    const res = engine.update(report, now);
    const q = ctx.qoe;
    // Played time: intervals that began with media already flowing, less the frozen part.
    if (flowing && lastAt !== undefined && pc.connectionState === 'connected') q.playedMs += Math.max(0, now - lastAt - res.freezeMs);
    lastAt = now;
    if (res.flowing && !flowing) {
      flowing = true;
      q.firstFrame = true;
      const startup = Math.round(now - attachAt);
      if (q.startupMs === undefined) q.startupMs = startup;
      ctx.emit('playback_started', { adapter: 'webrtc', startup_ms: startup, 'webrtc.peer_connection_run_id': runId }, true);
      ctx.emit('startup_time_measured', { duration_ms: startup, measured_from: 'attach' }, true);
    }
    if (res.freezeCount > 0) {
      q.rebufferCount += res.freezeCount;
      q.rebufferMs += res.freezeMs;
    }
    ctx.emit('metrics_sampled', { ...states(), 'webrtc.sample_id': sampleId++, ...res.meta });
  };

  const schedule = () => {
    if (stopped) return;
    timer = ctx.env.setTimeout(() => {
      timer = null;
      void poll().finally(schedule);
    }, every);
  };

  const onState = () => {
    const s = pc.connectionState;
    if (s === 'connected') everConnected = true;
    if (s === 'failed' && !failed) {
      failed = true;
      ctx.reportError(true, { source: 'webrtc', 'webrtc.error_code': 'peer_connection_failed', ...states() });
    }
    if (s === 'closed') detach();
  };
  pc.addEventListener('connectionstatechange', onState);

  void poll().finally(schedule);

  function detach(): void {
    if (stopped) return;
    stopped = true;
    pc.removeEventListener('connectionstatechange', onState);
    if (timer != null) ctx.env.clearTimeout(timer);
    timer = null;
    if (!flowing && !failed) {
      // Connected but no media: no tracks. Never connected: torn down during setup.
      const code = everConnected ? 'webrtc_no_tracks' : 'webrtc_destroyed_before_connected';
      ctx.reportError(false, { source: 'webrtc', 'webrtc.error_code': code, ...states() });
    }
  }
  return detach;
}
