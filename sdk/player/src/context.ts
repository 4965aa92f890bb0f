/**
 * AdapterContext: what the tracker gives each adapter. Adapters never see the queue, transport or
 * config object directly; they emit events, decorate outgoing media requests, and update the shared
 * QoE summary that session_ended reports.
 */
import type { CmcdData } from './cmcd';
import type { ResolvedConfig } from './config';
import type { Env } from './env';
import type { BoundaryAdapter, Meta, NetworkKind, NetworkUnavailableReason } from './wire';

/** Session-level QoE, aggregated over every attached media element. */
export interface QoeSummary {
  playRequested: boolean;
  firstFrame: boolean;
  startupMs?: number;
  playedMs: number;
  rebufferCount: number;
  rebufferMs: number;
  seekCount: number;
  errorCount: number;
  fatalError: boolean;
  startFailure: boolean;
  droppedFrames: number;
  switchesUp: number;
  switchesDown: number;
}

export function newQoe(): QoeSummary {
  return {
    playRequested: false,
    firstFrame: false,
    playedMs: 0,
    rebufferCount: 0,
    rebufferMs: 0,
    seekCount: 0,
    errorCount: 0,
    fatalError: false,
    startFailure: false,
    droppedFrames: 0,
    switchesUp: 0,
    switchesDown: 0,
  };
}

export interface AdapterContext {
  readonly env: Env;
  readonly cfg: ResolvedConfig;
  readonly qoe: QoeSummary;
  sessionId(): string;
  /** Queues an event for the current session (a no-op when the session is sampled out). */
  emit(name: string, meta?: Meta, high?: boolean): void;
  /**
   * Adds traceparent (when allowed for `url`) and CMCD (when enabled) to an outgoing media request.
   * Mutates `headers`; returns the URL to use. Never throws.
   */
  decorate(url: string, headers: Record<string, string>, cmcd?: () => CmcdData): string;
  /**
   * Emits playback_error with `fatal`, `phase` (startup | playback) and the playhead, and updates the
   * QoE summary. Non-fatal errors are capped per session so a looping warning cannot flood the queue.
   */
  reportError(fatal: boolean, meta: Meta): void;
  addBoundary(networkKind: NetworkKind, adapter: BoundaryAdapter, reason: NetworkUnavailableReason): void;
  /** Called when the tracker starts a new session (endSession(), bfcache restore). */
  onSessionStart(cb: () => void): () => void;
  /** Called before session_ended so adapters can close open intervals (stalls, played time). */
  onSessionEnd(cb: () => void): () => void;
  debug(msg: string, err?: unknown): void;
}

/** Detaches an adapter: removes listeners, timers and request hooks. Safe to call twice. */
export type Detach = () => void;
