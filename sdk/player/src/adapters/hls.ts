/**
 * hls.js adapter (hls.js ≥ 1.0; tested against 1.7). Structural types only: the SDK never imports
 * hls.js, so the bundle carries none of it.
 *
 * Events (hls.js name → wire):
 * - hlsManifestLoaded → manifest_loaded (network.* meta, timing.ttfb_ms / timing.load_ms, level count);
 * - hlsLevelLoaded / hlsAudioTrackLoaded, first load of each playlist only (live reloads would
 *   flood) → manifest_loaded with playlist type, live flag, target duration;
 * - hlsFragLoaded → segment_loaded once per (type, level, cc, sn): bytes, timing, throughput,
 *   media duration, bitrate; LL-HLS parts are folded into their segment;
 * - hlsLevelSwitched → bitrate_switch (direction up / down / initial);
 * - hlsError → playback_error (fatal flag, type, details, HTTP status, redacted URL); the stall
 *   family (bufferStalledError, bufferNudgeOnStall, bufferSeekOverHole) is a rebuffer signal instead;
 * - the media element (hlsMediaAttached or the `video` argument) → VideoMonitor QoE.
 *
 * Requests: hls.config.pLoader / fLoader are wrapped (the loader hook hls.js's own CMCD controller
 * uses, read per request, so it works after construction) to add traceparent and CMCD to manifest,
 * playlist and segment requests. The originals are restored on detach. When hls.js's own `cmcd`
 * option is set, the SDK leaves CMCD to it.
 */
import type { CmcdData } from '../cmcd';
import type { AdapterContext, Detach } from '../context';
import { scrubText } from '../redact';
import type { Meta } from '../wire';
import { createRenditionTracker, guard, networkMeta, pos, recentKeys } from './common';
import { createVideoMonitor, bufferAheadMs, type VideoLike, type VideoMonitor } from './video';

/** hls.js Events string values used here (checked against hls.js in tests). */
export const HLS_EVENTS = {
  MEDIA_ATTACHED: 'hlsMediaAttached',
  MEDIA_DETACHING: 'hlsMediaDetaching',
  MANIFEST_LOADED: 'hlsManifestLoaded',
  LEVEL_LOADED: 'hlsLevelLoaded',
  AUDIO_TRACK_LOADED: 'hlsAudioTrackLoaded',
  LEVEL_SWITCHED: 'hlsLevelSwitched',
  FRAG_LOADED: 'hlsFragLoaded',
  ERROR: 'hlsError',
  DESTROYING: 'hlsDestroying',
} as const;

const STALL_DETAILS = new Set(['bufferStalledError', 'bufferNudgeOnStall', 'bufferSeekOverHole']);
const PLAYLIST_CONTEXTS = new Set(['manifest', 'level', 'audioTrack', 'subtitleTrack']);

export interface HlsLevelLike {
  bitrate: number;
  width?: number;
  height?: number;
  videoCodec?: string;
  audioCodec?: string;
}

export interface HlsLike {
  on(event: string, listener: (event: string, data: any) => void): void;
  off(event: string, listener: (event: string, data: any) => void): void;
  config: Record<string, any>;
  levels?: HlsLevelLike[] | null;
  media?: VideoLike | null;
  bandwidthEstimate?: number;
  latency?: number;
}

interface LoadStatsLike {
  loaded?: number;
  loading?: { start?: number; first?: number; end?: number };
}

type LoaderCtor = new (config: any) => any;

/** Wraps an hls.js loader class so `apply(context)` runs before each load. */
export function wrapHlsLoader(Base: LoaderCtor, apply: (context: any) => void): LoaderCtor {
  return class AvtraceLoader {
    private readonly inner: any;
    constructor(config: any) {
      this.inner = new Base(config);
    }
    get stats() {
      return this.inner.stats;
    }
    set stats(v: any) {
      this.inner.stats = v;
    }
    get context() {
      return this.inner.context;
    }
    destroy() {
      this.inner.destroy();
    }
    abort() {
      this.inner.abort();
    }
    load(context: any, config: any, callbacks: any) {
      try {
        apply(context);
      } catch {
        // telemetry must never block a media request
      }
      this.inner.load(context, config, callbacks);
    }
    getCacheAge() {
      return typeof this.inner.getCacheAge === 'function' ? this.inner.getCacheAge() : null;
    }
    getResponseHeader(name: string) {
      return typeof this.inner.getResponseHeader === 'function' ? this.inner.getResponseHeader(name) : null;
    }
  };
}

function timing(stats: LoadStatsLike | undefined) {
  const l = stats?.loading;
  return { start: l?.start, first: l?.first, end: l?.end, bytes: stats?.loaded };
}

export function attachHls(ctx: AdapterContext, hls: HlsLike, video?: VideoLike | null): Detach {
  const version: string | undefined = (hls as any)?.constructor?.version;
  let monitor: VideoMonitor | undefined;
  let live: boolean | undefined;
  const playlists = recentKeys(32);
  const frags = recentKeys(64);
  const renditions = createRenditionTracker(ctx, () => monitor?.playheadMs());
  const listeners: Array<[string, (e: string, d: any) => void]> = [];
  const base = ctx.env.baseUrl;

  const levels = (): HlsLevelLike[] => (Array.isArray(hls.levels) ? hls.levels : []);
  const topKbps = () => levels().reduce((m, l) => Math.max(m, pos(l.bitrate) ?? 0), 0) / 1000;

  const ensureMonitor = (media: VideoLike | null | undefined) => {
    if (!media || monitor?.video === media) return;
    monitor?.stop();
    monitor = createVideoMonitor(ctx, media, {
      adapter: 'hls.js',
      playerVersion: version,
      sample: () => {
        const m: Meta = {};
        const br = renditions.current('video');
        if (br) m.bitrate_kbps = br;
        const bw = pos(hls.bandwidthEstimate);
        if (bw) m.throughput_kbps = Math.round(bw / 1000);
        const lat = pos(hls.latency);
        if (live && lat) m.live_latency_ms = Math.round(lat * 1000);
        return m;
      },
    });
    monitor.start();
  };

  const on = (event: string, fn: (data: any) => void) => {
    const h = guard(ctx, `hls ${event}`, (_e: string, data: any) => fn(data ?? {}));
    hls.on(event, h);
    listeners.push([event, h]);
  };

  on(HLS_EVENTS.MEDIA_ATTACHED, (d) => ensureMonitor(d.media));
  on(HLS_EVENTS.MEDIA_DETACHING, () => {
    monitor?.stop();
    monitor = undefined;
  });
  on(HLS_EVENTS.MANIFEST_LOADED, (d) => {
    const meta = networkMeta('manifest', d.url, timing(d.stats), base);
    meta.playlist = 'multivariant';
    if (Array.isArray(d.levels)) meta.level_count = d.levels.length;
    if (Array.isArray(d.audioTracks)) meta.audio_track_count = d.audioTracks.length;
    ctx.emit('manifest_loaded', meta);
  });
  const onPlaylist = (kind: string) => (d: any) => {
    const details = d.details ?? {};
    if (typeof details.live === 'boolean') live = details.live;
    const id = kind === 'level' ? d.level : d.id;
    if (!playlists(`${kind}:${id}`)) return;
    const url: string | undefined = details.url ?? d.context?.url;
    const meta = networkMeta('manifest', url, timing(d.stats), base);
    meta.playlist = kind === 'level' ? 'media' : 'audio';
    if (id !== undefined) meta.level = id;
    if (typeof details.live === 'boolean') meta.live = details.live;
    const td = pos(details.targetduration);
    if (td) meta.target_duration_ms = Math.round(td * 1000);
    ctx.emit('manifest_loaded', meta);
  };
  on(HLS_EVENTS.LEVEL_LOADED, onPlaylist('level'));
  on(HLS_EVENTS.AUDIO_TRACK_LOADED, onPlaylist('audio'));
  on(HLS_EVENTS.FRAG_LOADED, (d) => {
    if (!ctx.cfg.segmentEvents) return;
    const frag = d.frag;
    if (!frag) return;
    const isInit = frag.sn === 'initSegment';
    if (!frags(`${frag.type}:${frag.level}:${frag.cc}:${frag.sn}`)) return;
    const part = d.part;
    const meta = networkMeta('segment', part?.url ?? frag.url, timing(part ? part.stats : frag.stats), base);
    meta.media_type = frag.type ?? 'main';
    meta.is_init = isInit;
    if (typeof frag.level === 'number' && frag.level >= 0) meta.level = frag.level;
    const dur = pos(frag.duration);
    if (dur && !isInit) meta.duration_ms = Math.round(dur * 1000);
    const br = frag.type === 'main' ? pos(levels()[frag.level]?.bitrate) : undefined;
    if (br) meta.bitrate_kbps = Math.round(br / 1000);
    if (part) meta.ll_part = true;
    ctx.emit('segment_loaded', meta);
  });
  on(HLS_EVENTS.LEVEL_SWITCHED, (d) => {
    const lv = levels()[d.level];
    if (!lv) return;
    renditions.update({
      mediaType: 'video',
      bitrateKbps: (pos(lv.bitrate) ?? 0) / 1000,
      width: lv.width,
      height: lv.height,
      level: d.level,
      codec: lv.videoCodec,
    });
  });
  on(HLS_EVENTS.ERROR, (d) => {
    if (!d.fatal && STALL_DETAILS.has(d.details)) {
      monitor?.stallHint(`hls:${d.details}`);
      return;
    }
    const meta: Meta = { source: 'hls.js', error_type: String(d.type ?? 'unknown'), error_details: String(d.details ?? 'unknown') };
    const msg = scrubText(d.error?.message ?? d.err?.message ?? d.reason);
    if (msg) meta.error_message = msg;
    const status = d.response?.code;
    if (typeof status === 'number' && status > 0) meta.http_status = status;
    const url = d.url ?? d.frag?.url ?? d.context?.url;
    if (typeof url === 'string') meta.url = url; // redacted by the tracker's meta sanitiser
    ctx.reportError(!!d.fatal, meta);
  });

  // Request decoration: traceparent and CMCD on playlist and segment requests.
  const cfg = hls.config;
  const useCmcd = !!ctx.cfg.cmcd && !cfg.cmcd;
  let restore: (() => void) | undefined;
  if (cfg && (ctx.cfg.traceparent || useCmcd)) {
    const cmcdFor = (context: any) => (): CmcdData => {
      const d: CmcdData = { sf: 'h' };
      if (live !== undefined) d.st = live ? 'l' : 'v';
      const v = monitor?.video;
      if (v?.playbackRate) d.pr = v.playbackRate;
      if (context.type !== 'media-fragment') {
        d.ot = 'm';
        return d;
      }
      const frag = context.frag ?? {};
      const lv = levels()[frag.level];
      if (frag.sn === 'initSegment') d.ot = 'i';
      else if (frag.type === 'audio') d.ot = 'a';
      else if (frag.type === 'subtitle') d.ot = 'c';
      else if (lv?.videoCodec) d.ot = lv.audioCodec ? 'av' : 'v';
      else if (lv?.audioCodec) d.ot = 'a';
      if (frag.type === 'main') {
        d.br = (pos(lv?.bitrate) ?? NaN) / 1000;
        d.tb = topKbps() || undefined;
      }
      if (frag.sn !== 'initSegment') d.d = (pos(frag.duration) ?? NaN) * 1000;
      const bw = pos(hls.bandwidthEstimate);
      if (bw) d.mtp = bw / 1000;
      if (v && monitor) {
        d.bl = bufferAheadMs(v);
        d.su = monitor.urgent();
        d.bs = monitor.takeStarved();
      } else d.su = true;
      return d;
    };
    const apply = (context: any) => {
      if (!context || typeof context.url !== 'string') return;
      if (context.type !== 'media-fragment' && !PLAYLIST_CONTEXTS.has(context.type)) return;
      const headers: Record<string, string> = { ...(context.headers ?? {}) };
      context.url = ctx.decorate(context.url, headers, useCmcd ? cmcdFor(context) : undefined);
      if (Object.keys(headers).length > 0) context.headers = headers;
    };
    const origP = cfg.pLoader;
    const origF = cfg.fLoader;
    const dflt = cfg.loader as LoaderCtor | undefined;
    if (origP || dflt) cfg.pLoader = wrapHlsLoader((origP || dflt) as LoaderCtor, apply);
    if (origF || dflt) cfg.fLoader = wrapHlsLoader((origF || dflt) as LoaderCtor, apply);
    const P = cfg.pLoader;
    const F = cfg.fLoader;
    restore = () => {
      if (cfg.pLoader === P) cfg.pLoader = origP;
      if (cfg.fLoader === F) cfg.fLoader = origF;
    };
  }

  ensureMonitor(video ?? hls.media);

  let detached = false;
  const detach = () => {
    if (detached) return;
    detached = true;
    for (const [e, h] of listeners) hls.off(e, h);
    restore?.();
    monitor?.stop();
    monitor = undefined;
  };
  on(HLS_EVENTS.DESTROYING, detach);
  return detach;
}
