/**
 * @avtrace/player-sdk — player telemetry in m-trace wire format 1.0.
 *
 * Data flow, in folder order: adapters/ (hls.js, dashjs, native <video>, WebRTC) observe a player
 * and emit events through the tracker (tracker.ts), which sanitises meta (redact.ts), stamps the
 * session, sequence number and time (wire.ts, ids.ts) and hands each event to the dispatcher
 * (dispatcher.ts: bounded queue, batching, retries, page-exit delivery), which sends batches over
 * transport.ts. Media requests get traceparent (ids.ts) and CMCD (cmcd.ts) on the way out.
 */
export { createTracker, type Tracker, type TrackerStats } from './tracker';
export type { TrackerConfig, CmcdConfig, TraceparentConfig } from './config';
export type { Detach, QoeSummary } from './context';
export type { Env, Listenable } from './env';
export { createHttpTransport, parseRetryAfter, classifyStatus, type Transport, type SendResult, type AuthHeader } from './transport';
export { backoffDelay, type DropReason } from './dispatcher';
export { redactUrl, sanitizeMeta } from './redact';
export { encodeCmcd, toCmcdHeaders, appendCmcdQuery, type CmcdData } from './cmcd';
export { createSessionId, formatTraceparent, isSessionSampled, TRACEPARENT_RE } from './ids';
export {
  SCHEMA_VERSION,
  MAX_BATCH_EVENTS,
  MAX_BATCH_BYTES,
  MTRACE_EVENT_NAMES,
  EXTENSION_EVENT_NAMES,
  type WireBatch,
  type WireEvent,
  type SessionBoundary,
  type Meta,
  type MetaValue,
} from './wire';
export { SDK_NAME, SDK_VERSION } from './version';
export { HLS_EVENTS, type HlsLike } from './adapters/hls';
export { DASH_EVENTS, type DashLike } from './adapters/dash';
export type { VideoLike } from './adapters/video';
export type { PeerConnectionLike, WebRtcOptions } from './adapters/webrtc';
export { createRtcDeltaEngine, type RtcDeltaEngine, type RtcSampleResult } from './adapters/webrtc_deltas';
