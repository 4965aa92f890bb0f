/**
 * Helpers shared by the player adapters: bitrate-switch tracking, network meta for
 * manifest_loaded / segment_loaded, a small de-duplication window, and safe wrappers so that a
 * telemetry failure never breaks playback.
 */
import type { AdapterContext } from '../context';
import { redactUrl } from '../redact';
import type { Meta, NetworkKind } from '../wire';

export interface Rendition {
  /** `video`, `audio`, ... */
  mediaType: string;
  bitrateKbps: number;
  width?: number;
  height?: number;
  level?: number | string;
  codec?: string;
}

export interface RenditionTracker {
  current(mediaType: string): number | undefined;
  /** Emits bitrate_switch when the media type's bitrate changed (direction up / down / initial). */
  update(r: Rendition): void;
}

export function createRenditionTracker(ctx: AdapterContext, playhead: () => number | undefined): RenditionTracker {
  const last = new Map<string, number>();
  return {
    current: (mt) => last.get(mt),
    update(r) {
      if (!(r.bitrateKbps > 0)) return;
      const kbps = Math.round(r.bitrateKbps);
      const prev = last.get(r.mediaType);
      if (prev === kbps) return;
      last.set(r.mediaType, kbps);
      const direction = prev === undefined ? 'initial' : kbps > prev ? 'up' : 'down';
      if (direction === 'up') ctx.qoe.switchesUp++;
      if (direction === 'down') ctx.qoe.switchesDown++;
      const meta: Meta = {
        media_type: r.mediaType,
        bitrate_kbps: kbps,
        previous_bitrate_kbps: prev ?? null,
        direction,
      };
      if (r.width) meta.width = r.width;
      if (r.height) meta.height = r.height;
      if (r.level !== undefined) meta.level = r.level;
      if (r.codec) meta.codec = r.codec;
      const ph = playhead();
      if (ph !== undefined) meta.playhead_ms = ph;
      ctx.emit('bitrate_switch', meta);
    },
  };
}

export interface LoadTiming {
  /** Request start, first byte and end on one monotonic clock (ms). */
  start?: number;
  first?: number;
  end?: number;
  bytes?: number;
}

/** m-trace's network meta plus timing: network.kind, network.detail_status, network.redacted_url, timing.*. */
export function networkMeta(kind: NetworkKind, url: string | undefined, t: LoadTiming, base?: string): Meta {
  const meta: Meta = {
    'network.kind': kind,
    'network.detail_status': 'available',
    'network.redacted_url': redactUrl(url, base),
  };
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0;
  if (ok(t.start) && ok(t.first) && t.first >= t.start) meta['timing.ttfb_ms'] = Math.round(t.first - t.start);
  if (ok(t.start) && ok(t.end) && t.end >= t.start) {
    const ms = t.end - t.start;
    meta['timing.load_ms'] = Math.round(ms);
    if (ok(t.bytes) && ms > 0) meta.throughput_kbps = Math.round((t.bytes * 8) / ms);
  }
  if (ok(t.bytes)) meta.bytes = t.bytes;
  return meta;
}

/** Remembers the last `size` keys: the returned function is false for a key already seen. */
export function recentKeys(size: number): (key: string) => boolean {
  const keys: string[] = [];
  return (key) => {
    if (keys.includes(key)) return false;
    keys.push(key);
    if (keys.length > size) keys.shift();
    return true;
  };
}

/** Runs `fn`, logging instead of throwing: adapter code runs inside player callbacks. */
export function guard<A extends unknown[]>(ctx: AdapterContext, what: string, fn: (...a: A) => void): (...a: A) => void {
  return (...a: A) => {
    try {
      fn(...a);
    } catch (e) {
      ctx.debug(`${what} failed`, e);
    }
  };
}

/** Finite positive number or undefined. */
export function pos(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
