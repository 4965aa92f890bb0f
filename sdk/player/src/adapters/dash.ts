/**
 * dashjs adapter (the DASH-IF player, npm `dashjs`; tested against 5.x). Structural types only.
 *
 * Events (dashjs name → wire):
 * - the first MPD response (response interceptor, dashjs ≥ 5) → manifest_loaded with timing;
 *   without interceptors, `manifestLoaded` → manifest_loaded without timing. MPD refreshes of a
 *   live stream are not repeated;
 * - fragmentLoadingCompleted → segment_loaded once per (media type, representation, index): bytes,
 *   timing, throughput, media duration, bitrate;
 * - qualityChangeRendered → bitrate_switch per media type (direction up / down / initial);
 * - error → playback_error, fatal for manifest, capability, MediaSource and key-system codes;
 * - bufferStalled → rebuffer signal for the VideoMonitor; the element gives the rest of the QoE.
 *
 * Requests: a request interceptor (dashjs ≥ 5 `addRequestInterceptor`) adds traceparent and CMCD
 * to MPD, initialization and media segment requests; removed on detach. When dashjs's own CMCD is
 * enabled the SDK leaves CMCD to it.
 */
import type { CmcdData } from '../cmcd';
import type { AdapterContext, Detach } from '../context';
import { scrubText } from '../redact';
import type { Meta } from '../wire';
import { createRenditionTracker, guard, networkMeta, pos, recentKeys } from './common';
import { createVideoMonitor, type VideoLike, type VideoMonitor } from './video';

/** dashjs MediaPlayerEvents string values used here (checked against dashjs in tests). */
export const DASH_EVENTS = {
  MANIFEST_LOADED: 'manifestLoaded',
  STREAM_INITIALIZED: 'streamInitialized',
  FRAGMENT_LOADING_COMPLETED: 'fragmentLoadingCompleted',
  QUALITY_CHANGE_RENDERED: 'qualityChangeRendered',
  BUFFER_EMPTY: 'bufferStalled',
  ERROR: 'error',
} as const;

/** dashjs error codes after which playback cannot go on (manifest, capability, MSE, DRM). */
const FATAL_CODES = new Set([10, 11, 23, 24, 25, 31, 32, 34, 35, 100, 101, 102, 103, 104, 105, 106, 107, 108, 110, 111, 112, 113, 114]);

const SEGMENT_TYPES = new Set(['InitializationSegment', 'MediaSegment']);

export interface DashRepresentationLike {
  id?: string;
  bandwidth?: number;
  bitrateInKbit?: number;
  width?: number;
  height?: number;
  codecs?: string | null;
}

export interface DashLike {
  on(type: string, listener: (e: any) => void, scope?: object): void;
  off(type: string, listener: (e: any) => void, scope?: object): void;
  addRequestInterceptor?(fn: (req: any) => Promise<any>): void;
  removeRequestInterceptor?(fn: (req: any) => Promise<any>): void;
  addResponseInterceptor?(fn: (res: any) => Promise<any>): void;
  removeResponseInterceptor?(fn: (res: any) => Promise<any>): void;
  getVideoElement?(): VideoLike;
  getVersion?(): string;
  isDynamic?(): boolean;
  getAverageThroughput?(type: string): number;
  getBufferLength?(type: string): number;
  getRepresentationsByType?(type: string): DashRepresentationLike[];
  getCurrentLiveLatency?(): number;
  getSettings?(): any;
}

function kbps(rep: DashRepresentationLike | null | undefined): number | undefined {
  if (!rep) return undefined;
  return pos(rep.bandwidth) !== undefined ? (rep.bandwidth as number) / 1000 : pos(rep.bitrateInKbit);
}

function ms(d: unknown): number | undefined {
  if (d instanceof Date) return d.getTime();
  return typeof d === 'number' && Number.isFinite(d) ? d : undefined;
}

export function attachDash(ctx: AdapterContext, player: DashLike, video?: VideoLike | null): Detach {
  const call = <T>(f: (() => T) | undefined): T | undefined => {
    try {
      return f ? f() : undefined;
    } catch {
      return undefined; // dashjs throws from getters until initialize() ran
    }
  };
  const version = call(player.getVersion && (() => player.getVersion!()));
  const dynamic = () => call(player.isDynamic && (() => player.isDynamic!()));
  let monitor: VideoMonitor | undefined;
  const renditions = createRenditionTracker(ctx, () => monitor?.playheadMs());
  const segments = recentKeys(64);
  let manifestSeen = false;
  const listeners: Array<[string, (e: any) => void]> = [];
  const base = ctx.env.baseUrl;

  const ensureMonitor = (media: VideoLike | null | undefined) => {
    if (!media || monitor?.video === media) return;
    monitor?.stop();
    monitor = createVideoMonitor(ctx, media, {
      adapter: 'dashjs',
      playerVersion: version,
      sample: () => {
        const m: Meta = {};
        const br = renditions.current('video');
        if (br) m.bitrate_kbps = br;
        const tp = pos(call(player.getAverageThroughput && (() => player.getAverageThroughput!('video'))));
        if (tp) m.throughput_kbps = Math.round(tp);
        if (dynamic()) {
          const lat = pos(call(player.getCurrentLiveLatency && (() => player.getCurrentLiveLatency!())));
          if (lat) m.live_latency_ms = Math.round(lat * 1000);
        }
        return m;
      },
    });
    monitor.start();
  };

  const on = (type: string, fn: (e: any) => void) => {
    const h = guard(ctx, `dashjs ${type}`, (e: any) => fn(e ?? {}));
    player.on(type, h);
    listeners.push([type, h]);
  };

  const emitManifest = (url: string | undefined, t: { start?: number; first?: number; end?: number; bytes?: number }) => {
    if (manifestSeen) return;
    manifestSeen = true;
    const meta = networkMeta('manifest', url, t, base);
    meta.playlist = 'mpd';
    const dyn = dynamic();
    if (typeof dyn === 'boolean') meta.live = dyn;
    ctx.emit('manifest_loaded', meta);
  };

  const responseInterceptor = (res: any): Promise<any> => {
    try {
      const req = res?.request;
      const type = req?.customData?.request?.type;
      if (type === 'MPD' && res.status >= 200 && res.status < 300) {
        const rt = res.resourceTiming ?? {};
        const start = pos(rt.startTime);
        emitManifest(res.url ?? req.url, {
          start,
          first: pos(rt.responseStart),
          end: start !== undefined && pos(rt.duration) !== undefined ? start + rt.duration : undefined,
          bytes: pos(rt.encodedBodySize),
        });
      }
    } catch (e) {
      ctx.debug('dashjs response interceptor failed', e);
    }
    return Promise.resolve(res);
  };
  const hasInterceptors = typeof player.addResponseInterceptor === 'function';
  if (hasInterceptors) player.addResponseInterceptor!(responseInterceptor);
  else on(DASH_EVENTS.MANIFEST_LOADED, (e) => emitManifest(e.data?.url ?? e.data?.originalUrl, {}));

  on(DASH_EVENTS.STREAM_INITIALIZED, () => ensureMonitor(video ?? call(player.getVideoElement && (() => player.getVideoElement!()))));
  on(DASH_EVENTS.BUFFER_EMPTY, () => monitor?.stallHint('dashjs:bufferStalled'));
  on(DASH_EVENTS.QUALITY_CHANGE_RENDERED, (e) => {
    const rep: DashRepresentationLike | undefined = e.newRepresentation;
    const k = kbps(rep);
    if (!k || !e.mediaType) return;
    renditions.update({
      mediaType: e.mediaType,
      bitrateKbps: k,
      width: rep?.width,
      height: rep?.height,
      level: rep?.id,
      codec: rep?.codecs ?? undefined,
    });
  });
  on(DASH_EVENTS.FRAGMENT_LOADING_COMPLETED, (e) => {
    if (!ctx.cfg.segmentEvents) return;
    const r = e.request;
    if (!r || !SEGMENT_TYPES.has(r.type)) return;
    const isInit = r.type === 'InitializationSegment';
    const repId = r.representation?.id ?? r.representationId ?? r.quality;
    if (!segments(`${r.mediaType}:${repId}:${isInit ? 'init' : (r.index ?? r.startTime)}`)) return;
    const bytes = pos(r.bytesLoaded) ?? pos(e.response?.byteLength);
    const meta = networkMeta(
      'segment',
      r.url,
      { start: ms(r.startDate), first: ms(r.firstByteDate), end: ms(r.endDate ?? r.requestEndDate), bytes },
      base,
    );
    meta.media_type = r.mediaType ?? 'unknown';
    meta.is_init = isInit;
    const dur = pos(r.duration);
    if (dur && !isInit) meta.duration_ms = Math.round(dur * 1000);
    const br = kbps(r.representation) ?? (pos(r.bandwidth) !== undefined ? r.bandwidth / 1000 : undefined);
    if (br) meta.bitrate_kbps = Math.round(br);
    ctx.emit('segment_loaded', meta);
  });
  on(DASH_EVENTS.ERROR, (e) => {
    const err = e.error ?? {};
    const code = typeof err.code === 'number' ? err.code : undefined;
    const meta: Meta = { source: 'dashjs', error_type: 'dashjs_error', error_code: code !== undefined ? String(code) : 'unknown' };
    const msg = scrubText(err.message);
    if (msg) meta.error_message = msg;
    ctx.reportError(code !== undefined && FATAL_CODES.has(code), meta);
  });

  // Request decoration (dashjs ≥ 5).
  const dashCmcd = !!call(() => player.getSettings?.()?.streaming?.cmcd?.enabled);
  const useCmcd = !!ctx.cfg.cmcd && !dashCmcd;
  let requestInterceptor: ((req: any) => Promise<any>) | undefined;
  if ((ctx.cfg.traceparent || useCmcd) && typeof player.addRequestInterceptor === 'function') {
    const cmcdFor = (r: any) => (): CmcdData => {
      const d: CmcdData = { sf: 'd' };
      const dyn = dynamic();
      if (typeof dyn === 'boolean') d.st = dyn ? 'l' : 'v';
      const v = monitor?.video;
      if (v?.playbackRate) d.pr = v.playbackRate;
      if (r.type === 'MPD') {
        d.ot = 'm';
        return d;
      }
      const mt: string = r.mediaType;
      d.ot = r.type === 'InitializationSegment' ? 'i' : mt === 'video' ? 'v' : mt === 'audio' ? 'a' : mt === 'text' ? 'c' : undefined;
      d.br = kbps(r.representation);
      const reps = call(player.getRepresentationsByType && (() => player.getRepresentationsByType!(mt))) ?? [];
      const top = reps.reduce((m, x) => Math.max(m, kbps(x) ?? 0), 0);
      if (top > 0) d.tb = top;
      if (r.type === 'MediaSegment') d.d = (pos(r.duration) ?? NaN) * 1000;
      const bl = call(player.getBufferLength && (() => player.getBufferLength!(mt)));
      if (typeof bl === 'number' && Number.isFinite(bl)) d.bl = bl * 1000;
      const tp = pos(call(player.getAverageThroughput && (() => player.getAverageThroughput!(mt))));
      if (tp) d.mtp = tp;
      if (monitor) {
        d.su = monitor.urgent();
        d.bs = monitor.takeStarved();
      } else d.su = true;
      return d;
    };
    requestInterceptor = (req: any): Promise<any> => {
      try {
        const r = req?.customData?.request;
        const type = r?.type;
        if (typeof req?.url === 'string' && (type === 'MPD' || SEGMENT_TYPES.has(type))) {
          const headers: Record<string, string> = { ...(req.headers ?? {}) };
          req.url = ctx.decorate(req.url, headers, useCmcd ? cmcdFor(r) : undefined);
          req.headers = headers;
        }
      } catch (e) {
        ctx.debug('dashjs request interceptor failed', e);
      }
      return Promise.resolve(req);
    };
    player.addRequestInterceptor(requestInterceptor);
  }

  ensureMonitor(video ?? call(player.getVideoElement && (() => player.getVideoElement!())));

  let detached = false;
  return () => {
    if (detached) return;
    detached = true;
    for (const [t, h] of listeners) player.off(t, h);
    if (hasInterceptors) call(() => player.removeResponseInterceptor?.(responseInterceptor));
    if (requestInterceptor) call(() => player.removeRequestInterceptor?.(requestInterceptor!));
    monitor?.stop();
    monitor = undefined;
  };
}
