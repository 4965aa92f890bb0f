/**
 * createTracker(): the SDK's entry point. A Tracker owns one playback session at a time (id,
 * trace id, sequence numbers, QoE summary), the Dispatcher that delivers its events, the page
 * lifecycle listeners, and every adapter attached to it.
 *
 * Lifecycle: createTracker() validates the config (throws on bad config) and starts the flush
 * timer. Adapters attach and detach freely. On page hide the queue is sent at once (keepalive /
 * beacon); on pagehide the session also ends (session_ended, end_reason=pagehide) and a page
 * restored from the back/forward cache continues under a new session. endSession() ends the current
 * session and starts the next (one session per content item). destroy() detaches everything, ends
 * the session and flushes; it is safe to call twice and returns the same promise.
 *
 * Sampling: a session outside sessionSampleRate sends nothing, but its media requests still carry
 * traceparent (flags 00) and CMCD when enabled. Everything runs on the browser main thread.
 */
import { appendCmcdQuery, toCmcdHeaders, type CmcdData } from './cmcd';
import { resolveConfig, type ResolvedConfig, type TrackerConfig } from './config';
import { newQoe, type AdapterContext, type Detach, type QoeSummary } from './context';
import { createDispatcher, type DispatcherStats } from './dispatcher';
import { resolveEnv, type Env } from './env';
import { createSessionId, createSpanId, createTraceId, formatTraceparent, isSessionSampled } from './ids';
import { sanitizeMeta } from './redact';
import { createHttpTransport } from './transport';
import { SDK_NAME, SDK_VERSION } from './version';
import {
  EXTENSION_EVENT_NAMES,
  isoTimestamp,
  type BoundaryAdapter,
  type Meta,
  type NetworkKind,
  type NetworkUnavailableReason,
  type WireEvent,
} from './wire';
import { attachDash, type DashLike } from './adapters/dash';
import { attachHls, type HlsLike } from './adapters/hls';
import { attachVideo } from './adapters/native';
import type { VideoLike } from './adapters/video';
import { attachWebRtc, type PeerConnectionLike, type WebRtcOptions } from './adapters/webrtc';

export interface TrackerStats extends DispatcherStats {
  sessionId: string;
  sampled: boolean;
}

export interface Tracker {
  /** Current wire session_id (also CMCD `sid`). */
  readonly sessionId: string;
  /** Trace id shared by every traceparent of the current session. */
  readonly traceId: string;
  /** Whether the current session is inside sessionSampleRate. */
  readonly sampled: boolean;
  /** hls.js instance; `video` defaults to hls.media or the element attached later. */
  attachHls(hls: HlsLike, video?: VideoLike | null): Detach;
  /** dashjs MediaPlayer; `video` defaults to player.getVideoElement(). */
  attachDash(player: DashLike, video?: VideoLike | null): Detach;
  /** A plain <video>/<audio> element (progressive or native HLS). */
  attachVideo(video: VideoLike): Detach;
  /** An RTCPeerConnection the app already set up (WHEP or other signalling). */
  attachWebRtc(pc: PeerConnectionLike, opts?: WebRtcOptions): Detach;
  /** Custom event: name 1..64 of [A-Za-z0-9_.:-]; meta flat, sanitised and redacted. */
  track(eventName: string, meta?: Record<string, unknown>): void;
  /** Sends everything queued now (respecting a server's pending Retry-After). */
  flush(): Promise<void>;
  /** A traceparent for the app's own requests: this session's trace id, a new span id. */
  traceparent(): string;
  /** Marks this session as unable to report manifest or segment detail (m-trace boundary). */
  addBoundary(networkKind: NetworkKind, adapter: BoundaryAdapter, reason: NetworkUnavailableReason): void;
  /** Continues under `id` (sequence numbers restart; no session_ended is sent for the old id). */
  setSessionId(id: string): void;
  /** Sends session_ended for the current session, then starts a new one. */
  endSession(reason?: string): Promise<void>;
  stats(): TrackerStats;
  /** Detaches adapters, ends the session, flushes and stops. Idempotent. */
  destroy(): Promise<void>;
}

const SDK = { name: SDK_NAME, version: SDK_VERSION };
const EXTENSIONS = new Set<string>(EXTENSION_EVENT_NAMES);
const HIGH_PRIORITY = new Set(['session_ended', 'playback_started', 'startup_time_measured', 'playback_error', 'play_intent']);
const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_NON_FATAL_ERRORS = 100;

interface Session {
  id: string;
  traceId: string;
  sampled: boolean;
  seq: number;
  ended: boolean;
  nonFatalErrors: number;
}

export function createTracker(config: TrackerConfig): Tracker {
  const cfg: ResolvedConfig = resolveConfig(config);
  const env: Env = resolveEnv(config.env);
  const qoe: QoeSummary = newQoe();
  const adapters = new Set<Detach>();
  const startListeners = new Set<() => void>();
  const endListeners = new Set<() => void>();
  let closed = false;
  let destroying: Promise<void> | undefined;

  const debug = (msg: string, err?: unknown) => {
    if (cfg.debug && typeof console !== 'undefined') console.debug(`[avtrace] ${msg}`, err ?? '');
  };

  const newSession = (id?: string): Session => {
    const sid = id ?? createSessionId(env);
    return {
      id: sid,
      traceId: createTraceId(env),
      sampled: isSessionSampled(sid, cfg.sessionSampleRate),
      seq: 0,
      ended: false,
      nonFatalErrors: 0,
    };
  };
  let session = newSession(cfg.sessionId);

  const tp = () => formatTraceparent(session.traceId, createSpanId(env), session.sampled);
  const transport =
    cfg.transport ??
    createHttpTransport({
      endpoint: cfg.endpoint,
      token: cfg.token,
      authHeader: cfg.authHeader,
      timeoutMs: cfg.requestTimeoutMs,
      beaconAuthParam: cfg.beaconAuthParam,
      traceparent: cfg.traceparent ? tp : undefined,
      env,
    });
  const dispatcher = createDispatcher({
    env,
    transport,
    batchSize: cfg.batchSize,
    flushIntervalMs: cfg.flushIntervalMs,
    maxQueueEvents: cfg.maxQueueEvents,
    maxRetries: cfg.maxRetries,
    backoffBaseMs: cfg.backoffBaseMs,
    backoffMaxMs: cfg.backoffMaxMs,
    maxRetryAfterMs: cfg.maxRetryAfterMs,
    onDrop: (reason, n) => debug(`dropped ${n} event(s): ${reason}`),
  });

  const emit = (name: string, meta?: Meta, high = HIGH_PRIORITY.has(name)) => {
    if (closed || !session.sampled) return;
    if (!cfg.extensionEvents && EXTENSIONS.has(name)) return;
    const merged = cfg.meta ? { ...cfg.meta, ...meta } : meta;
    const m: Meta = sanitizeMeta(merged, env.baseUrl, cfg.redact) ?? {};
    if (cfg.sessionSampleRate < 1) m.session_sample_rate = cfg.sessionSampleRate;
    const ev: WireEvent = {
      event_name: name,
      project_id: cfg.projectId,
      session_id: session.id,
      client_timestamp: isoTimestamp(env.now()),
      sequence_number: session.seq++,
      sdk: SDK,
    };
    if (Object.keys(m).length > 0) ev.meta = m;
    dispatcher.enqueue(ev, high);
  };

  const traceAllowed = (url: string): boolean => {
    if (!cfg.traceparent) return false;
    let abs: URL;
    try {
      abs = new URL(url, env.baseUrl);
    } catch {
      return false;
    }
    if (env.origin && abs.origin === env.origin) return true;
    return cfg.traceparent.corsUrls.some((p) => (typeof p === 'string' ? abs.href.startsWith(p) : p.test(abs.href)));
  };

  const ctx: AdapterContext = {
    env,
    cfg,
    qoe,
    sessionId: () => session.id,
    emit,
    debug,
    decorate(url: string, headers: Record<string, string>, cmcd?: () => CmcdData): string {
      try {
        if (traceAllowed(url)) headers.traceparent = tp();
        if (cfg.cmcd && cmcd) {
          const data: CmcdData = { ...cmcd(), sid: session.id };
          if (cfg.cmcd.contentId) data.cid = cfg.cmcd.contentId;
          if (cfg.cmcd.mode === 'headers') Object.assign(headers, toCmcdHeaders(data));
          else url = appendCmcdQuery(url, data);
        }
      } catch (e) {
        debug('request decoration failed', e);
      }
      return url;
    },
    reportError(fatal: boolean, meta: Meta): void {
      qoe.errorCount++;
      if (fatal) {
        qoe.fatalError = true;
        if (!qoe.firstFrame) qoe.startFailure = true;
      } else if (session.nonFatalErrors++ >= MAX_NON_FATAL_ERRORS) return;
      emit('playback_error', { fatal, phase: qoe.firstFrame ? 'playback' : 'startup', ...meta }, fatal);
    },
    addBoundary(networkKind, adapter, reason) {
      if (!session.sampled) return;
      dispatcher.addBoundary({
        kind: 'network_signal_absent',
        project_id: cfg.projectId,
        session_id: session.id,
        network_kind: networkKind,
        adapter,
        reason,
        client_timestamp: isoTimestamp(env.now()),
      });
    },
    onSessionStart(cb) {
      startListeners.add(cb);
      return () => startListeners.delete(cb);
    },
    onSessionEnd(cb) {
      endListeners.add(cb);
      return () => endListeners.delete(cb);
    },
  };

  const endCurrent = (reason: string) => {
    if (session.ended) return;
    for (const cb of [...endListeners]) cb();
    const q = qoe;
    const meta: Meta = {
      end_reason: reason,
      end_source: 'client',
      exit_before_start: q.playRequested && !q.firstFrame,
      video_start_failure: q.startFailure,
      played_ms: Math.round(q.playedMs),
      rebuffer_count: q.rebufferCount,
      rebuffer_ms: Math.round(q.rebufferMs),
      seek_count: q.seekCount,
      error_count: q.errorCount,
      fatal_error: q.fatalError,
      dropped_frames: q.droppedFrames,
      bitrate_switches_up: q.switchesUp,
      bitrate_switches_down: q.switchesDown,
    };
    if (q.startupMs !== undefined) meta.startup_ms = q.startupMs;
    const watched = q.playedMs + q.rebufferMs;
    if (watched > 0) meta.rebuffer_ratio = Math.round((q.rebufferMs / watched) * 10000) / 10000;
    emit('session_ended', meta, true);
    session.ended = true;
  };

  const rotate = (id?: string) => {
    session = newSession(id);
    Object.assign(qoe, newQoe());
    for (const cb of [...startListeners]) cb();
  };

  // Page lifecycle.
  const onVisibility = () => {
    if (env.doc?.visibilityState === 'hidden') dispatcher.flushUrgent();
  };
  const onPageHide = () => {
    if (cfg.endSessionOnPagehide) endCurrent('pagehide');
    dispatcher.flushUrgent();
  };
  const onPageShow = (e: { persisted?: boolean }) => {
    if (e && e.persisted && session.ended) rotate();
  };
  env.doc?.addEventListener('visibilitychange', onVisibility);
  env.win?.addEventListener('pagehide', onPageHide);
  env.win?.addEventListener('pageshow', onPageShow);
  dispatcher.start();

  const register = (attach: () => Detach): Detach => {
    if (closed || destroying) return () => {};
    const detach = attach();
    const wrapped = () => {
      adapters.delete(wrapped);
      detach();
    };
    adapters.add(wrapped);
    return wrapped;
  };

  const tracker: Tracker = {
    get sessionId() {
      return session.id;
    },
    get traceId() {
      return session.traceId;
    },
    get sampled() {
      return session.sampled;
    },
    attachHls: (hls, video) => register(() => attachHls(ctx, hls, video)),
    attachDash: (player, video) => register(() => attachDash(ctx, player, video)),
    attachVideo: (video) => register(() => attachVideo(ctx, video)),
    attachWebRtc: (pc, opts) => register(() => attachWebRtc(ctx, pc, opts)),
    track(eventName, meta) {
      if (typeof eventName !== 'string' || !EVENT_NAME.test(eventName)) {
        debug(`track(): invalid event name ${String(eventName)}`);
        return;
      }
      emit(eventName, meta as Meta | undefined, false);
    },
    flush: () => dispatcher.flush(),
    traceparent: tp,
    addBoundary: (k, a, r) => ctx.addBoundary(k, a, r),
    setSessionId(id: string) {
      if (typeof id !== 'string' || id === '' || id.length > 128) throw new TypeError('avtrace player SDK: invalid session id');
      if (id !== session.id) rotate(id);
    },
    endSession(reason = 'client') {
      endCurrent(reason);
      const p = dispatcher.flush();
      rotate();
      return p;
    },
    stats: () => ({ ...dispatcher.stats(), sessionId: session.id, sampled: session.sampled }),
    destroy() {
      if (destroying) return destroying;
      for (const d of [...adapters]) d();
      endCurrent('destroy');
      env.doc?.removeEventListener('visibilitychange', onVisibility);
      env.win?.removeEventListener('pagehide', onPageHide);
      env.win?.removeEventListener('pageshow', onPageShow);
      dispatcher.stop();
      const done = dispatcher.flush().then(() => {
        closed = true;
      });
      destroying = done;
      return done;
    },
  };
  return tracker;
}
