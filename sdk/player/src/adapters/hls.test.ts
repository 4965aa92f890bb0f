// @vitest-environment happy-dom
import Hls from 'hls.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeHls, FakeLoader, FakeTimeRanges, FakeVideo, makeTracker, useFakeClock } from '../../test/helpers';
import { validateBatchBody } from '../../test/contract_validator';
import { TRACEPARENT_RE } from '../ids';
import { EXTENSION_EVENT_NAMES } from '../wire';
import { HLS_EVENTS } from './hls';

const E = HLS_EVENTS;

beforeEach(() => {
  useFakeClock();
  FakeLoader.loads = [];
});
afterEach(() => vi.useRealTimers());

function cmcdOf(url: string): string | null {
  return new URL(url).searchParams.get('CMCD');
}

function stats(start: number, first: number, end: number, loaded: number) {
  return { loaded, loading: { start, first, end } };
}

describe('hls.js event names', () => {
  it('match hls.js Events', () => {
    expect(E.MEDIA_ATTACHED).toBe(Hls.Events.MEDIA_ATTACHED);
    expect(E.MEDIA_DETACHING).toBe(Hls.Events.MEDIA_DETACHING);
    expect(E.MANIFEST_LOADED).toBe(Hls.Events.MANIFEST_LOADED);
    expect(E.LEVEL_LOADED).toBe(Hls.Events.LEVEL_LOADED);
    expect(E.AUDIO_TRACK_LOADED).toBe(Hls.Events.AUDIO_TRACK_LOADED);
    expect(E.LEVEL_SWITCHED).toBe(Hls.Events.LEVEL_SWITCHED);
    expect(E.FRAG_LOADED).toBe(Hls.Events.FRAG_LOADED);
    expect(E.ERROR).toBe(Hls.Events.ERROR);
    expect(E.DESTROYING).toBe(Hls.Events.DESTROYING);
  });
});

describe('real hls.js: request hooks after construction', () => {
  it('adds traceparent and CMCD to the manifest request hls.js makes, and restores its loaders on detach', async () => {
    const { tracker } = makeTracker({ cmcd: { contentId: 'movie-1' } });
    const hls = new Hls({ loader: FakeLoader as any });
    const detach = tracker.attachHls(hls as any);
    hls.loadSource('https://app.test/live/index.m3u8?x=1');
    await vi.advanceTimersByTimeAsync(0);
    const load = FakeLoader.loads.find((l) => l.type === 'manifest');
    expect(load).toBeDefined();
    expect(load.url.startsWith('https://app.test/live/index.m3u8?x=1&CMCD=')).toBe(true);
    expect(cmcdOf(load.url)).toBe('cid="movie-1",ot=m,sf=h,sid="session-1"');
    expect(load.headers.traceparent).toMatch(TRACEPARENT_RE);
    expect(load.headers.traceparent.split('-')[1]).toBe(tracker.traceId);
    detach();
    expect(hls.config.pLoader).toBeUndefined();
    expect(hls.config.fLoader).toBeUndefined();
    hls.destroy();
  });
});

describe('hls.js adapter (fake emitter with hls.js event names and payloads)', () => {
  function setup(over = {}) {
    const t = makeTracker(over);
    const hls = new FakeHls();
    hls.levels = [
      { bitrate: 800_000, width: 640, height: 360, videoCodec: 'avc1.4d401e', audioCodec: 'mp4a.40.2' },
      { bitrate: 2_500_000, width: 1280, height: 720, videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2' },
    ];
    const v = new FakeVideo();
    const detach = t.tracker.attachHls(hls, v);
    return { ...t, hls, v, detach };
  }
  const frag = (sn: number | 'initSegment', level = 1, type = 'main') => ({
    sn,
    level,
    type,
    cc: 0,
    duration: 4.004,
    url: `https://cdn.test/v${level}/seg${sn}.m4s?token=abc`,
    stats: stats(1000, 1040, 1200, 500_000),
  });

  it('maps manifest, playlists, fragments and level switches to m-trace events', async () => {
    const { tracker, transport, hls } = setup();
    hls.trigger(E.MANIFEST_LOADED, { url: 'https://cdn.test/master.m3u8?t=1', levels: hls.levels, audioTracks: [], stats: stats(10, 50, 60, 900) });
    hls.trigger(E.LEVEL_LOADED, { level: 1, details: { live: true, targetduration: 4, url: 'https://cdn.test/v1/index.m3u8' }, stats: stats(100, 120, 130, 2000) });
    hls.trigger(E.LEVEL_LOADED, { level: 1, details: { live: true, targetduration: 4 }, stats: stats(4100, 4120, 4130, 2000) }); // live reload
    hls.trigger(E.FRAG_LOADED, { frag: frag('initSegment'), part: null });
    hls.trigger(E.FRAG_LOADED, { frag: frag(7), part: null });
    hls.trigger(E.FRAG_LOADED, { frag: frag(7), part: null }); // duplicate
    hls.trigger(E.FRAG_LOADED, { frag: frag(8), part: { url: 'https://cdn.test/v1/seg8.0.m4s', stats: stats(1, 2, 3, 10) } });
    hls.trigger(E.FRAG_LOADED, { frag: frag(8), part: { url: 'https://cdn.test/v1/seg8.1.m4s', stats: stats(1, 2, 3, 10) } });
    hls.trigger(E.LEVEL_SWITCHED, { level: 0 });
    hls.trigger(E.LEVEL_SWITCHED, { level: 1 });
    hls.trigger(E.LEVEL_SWITCHED, { level: 0 });
    await tracker.destroy();

    expect(transport.names().filter((n) => n !== 'session_ended')).toEqual([
      'manifest_loaded',
      'manifest_loaded',
      'segment_loaded',
      'segment_loaded',
      'segment_loaded',
      'bitrate_switch',
      'bitrate_switch',
      'bitrate_switch',
    ]);
    const [master, media] = transport.find('manifest_loaded').map((e) => e.meta);
    expect(master).toEqual({
      'network.kind': 'manifest',
      'network.detail_status': 'available',
      'network.redacted_url': 'https://cdn.test/master.m3u8',
      'timing.ttfb_ms': 40,
      'timing.load_ms': 50,
      throughput_kbps: 144,
      bytes: 900,
      playlist: 'multivariant',
      level_count: 2,
      audio_track_count: 0,
    });
    expect(media).toMatchObject({ playlist: 'media', level: 1, live: true, target_duration_ms: 4000, 'network.redacted_url': 'https://cdn.test/v1/index.m3u8' });
    const [init, seg, part] = transport.find('segment_loaded').map((e) => e.meta!);
    expect(init).toMatchObject({ is_init: true, media_type: 'main', level: 1 });
    expect(init.duration_ms).toBeUndefined();
    expect(seg).toMatchObject({
      'network.kind': 'segment',
      'network.redacted_url': 'https://cdn.test/v1/seg7.m4s',
      'timing.ttfb_ms': 40,
      'timing.load_ms': 200,
      bytes: 500_000,
      throughput_kbps: 20000,
      duration_ms: 4004,
      bitrate_kbps: 2500,
      is_init: false,
    });
    // "seg8.0.m4s" is JWT-shaped (three dot-separated base64url blocks) under m-trace's rule, which
    // its server enforces with 422, so it is redacted like a token.
    expect(part).toMatchObject({ ll_part: true, 'network.redacted_url': 'https://cdn.test/v1/:redacted' });
    expect(transport.find('bitrate_switch').map((e) => [e.meta!.direction, e.meta!.bitrate_kbps, e.meta!.previous_bitrate_kbps])).toEqual([
      ['initial', 800, null],
      ['up', 2500, 800],
      ['down', 800, 2500],
    ]);
    expect(transport.find('session_ended')[0].meta).toMatchObject({ bitrate_switches_up: 1, bitrate_switches_down: 1 });
    for (const b of transport.bodies) expect(validateBatchBody(b, EXTENSION_EVENT_NAMES).errors).toEqual([]);
    expect(transport.bodies.join('')).not.toContain('token=abc');
  });

  it('reports errors with fatal flag and treats the stall family as rebuffering', async () => {
    const { tracker, transport, hls, v } = setup();
    hls.trigger(E.ERROR, { type: 'networkError', details: 'manifestLoadError', fatal: true, response: { code: 404 }, url: 'https://cdn.test/m.m3u8?s=1', error: new Error('HTTP 404 https://cdn.test/m.m3u8?s=1') });
    v.play();
    v.playing();
    v.advance(2);
    hls.trigger(E.ERROR, { type: 'mediaError', details: 'bufferStalledError', fatal: false });
    vi.advanceTimersByTime(900);
    v.playing();
    hls.trigger(E.ERROR, { type: 'networkError', details: 'fragLoadError', fatal: false, frag: frag(9) });
    await tracker.destroy();
    const errs = transport.find('playback_error').map((e) => e.meta!);
    expect(errs).toHaveLength(2);
    expect(errs[0]).toEqual({
      fatal: true,
      phase: 'startup',
      source: 'hls.js',
      error_type: 'networkError',
      error_details: 'manifestLoadError',
      error_message: 'HTTP 404 https://cdn.test/m.m3u8',
      http_status: 404,
      url: 'https://cdn.test/m.m3u8',
    });
    expect(errs[1]).toMatchObject({ fatal: false, phase: 'playback', error_details: 'fragLoadError', url: 'https://cdn.test/v1/seg9.m4s' });
    expect(transport.find('rebuffer_started')[0].meta).toMatchObject({ cause: 'hls:bufferStalledError' });
    expect(transport.find('rebuffer_ended')[0].meta).toMatchObject({ duration_ms: 900 });
  });

  it('decorates fragment requests with CMCD (br, tb, d, ot, bl, mtp, su, bs, st, sf, sid) and traceparent', async () => {
    const { hls, v } = setup({ cmcd: true });
    hls.trigger(E.LEVEL_LOADED, { level: 1, details: { live: false }, stats: stats(1, 2, 3, 4) });
    const F = hls.config.fLoader;
    const load = (f: any) => new F(hls.config).load({ url: f.url, type: 'media-fragment', frag: f, part: null }, {}, {});
    load(frag(1)); // before the first frame: su
    v.play();
    v.playing();
    v.buffered = new FakeTimeRanges([[0, 12.34]]);
    v.currentTime = 2;
    load(frag(2));
    v.waiting();
    load(frag(3)); // starved since the last request: bs, and urgent: su
    load(frag(4));
    load(frag('initSegment'));
    load(frag(5, 0, 'audio'));
    const c = FakeLoader.loads.map((l) => cmcdOf(l.url));
    expect(c[0]).toBe('bl=0,br=2500,d=4004,mtp=5000,ot=av,sf=h,sid="session-1",st=v,su,tb=2500');
    expect(c[1]).toBe('bl=10300,br=2500,d=4004,mtp=5000,ot=av,sf=h,sid="session-1",st=v,tb=2500');
    expect(c[2]).toBe('bl=10300,br=2500,bs,d=4004,mtp=5000,ot=av,sf=h,sid="session-1",st=v,su,tb=2500');
    expect(c[3]).toBe('bl=10300,br=2500,d=4004,mtp=5000,ot=av,sf=h,sid="session-1",st=v,su,tb=2500');
    expect(c[4]).toContain('ot=i');
    expect(c[4]).not.toMatch(/(^|,)d=/);
    expect(c[5]).toContain('ot=a');
    expect(c[5]).not.toContain('br=');
    // Cross-origin CDN, not allowed for traceparent by default: no preflight-triggering header.
    expect(FakeLoader.loads[0].headers.traceparent).toBeUndefined();
  });

  it('sends traceparent cross-origin only to allowed origins, and CMCD as headers when asked', () => {
    const { hls } = setup({ cmcd: { mode: 'headers' }, traceparent: { propagateTraceHeaderCorsUrls: ['https://cdn.test/', /^https:\/\/edge\d\.test\//] } });
    const P = hls.config.pLoader;
    for (const url of ['https://cdn.test/a.m3u8', 'https://edge2.test/b.m3u8', 'https://other.test/c.m3u8', '/local/d.m3u8']) {
      new P(hls.config).load({ url, type: 'level' }, {}, {});
    }
    const [a, b, c, d] = FakeLoader.loads;
    expect(a.headers.traceparent).toMatch(TRACEPARENT_RE);
    expect(b.headers.traceparent).toMatch(TRACEPARENT_RE);
    expect(c.headers.traceparent).toBeUndefined();
    expect(d.headers.traceparent).toMatch(TRACEPARENT_RE); // same origin as the page
    expect(a.headers['CMCD-Object']).toBe('ot=m');
    expect(a.headers['CMCD-Session']).toBe('sf=h,sid="session-1"');
    expect(a.url).toBe('https://cdn.test/a.m3u8');
    expect(a.headers.traceparent).not.toBe(b.headers.traceparent); // new span per request
  });

  it("chains an app's own pLoader, leaves CMCD to hls.js when its cmcd option is set, and cleans up", async () => {
    const t = makeTracker({ cmcd: true });
    class AppLoader extends FakeLoader {
      override load(context: any) {
        context.headers = { ...(context.headers ?? {}), 'X-App': '1' };
        super.load(context);
      }
    }
    const hls = new FakeHls({ pLoader: AppLoader, cmcd: { sessionId: 'x' } });
    const before = hls.listenerCount();
    const detach = t.tracker.attachHls(hls);
    new hls.config.pLoader(hls.config).load({ url: 'https://app.test/x.m3u8', type: 'manifest' }, {}, {});
    const l = FakeLoader.loads[0];
    expect(l.headers['X-App']).toBe('1');
    expect(l.headers.traceparent).toMatch(TRACEPARENT_RE);
    expect(l.url).toBe('https://app.test/x.m3u8');
    detach();
    expect(hls.config.pLoader).toBe(AppLoader);
    expect(hls.listenerCount()).toBe(before);
  });

  it('picks up the media element on hlsMediaAttached and detaches on hlsDestroying', async () => {
    const t = makeTracker();
    const hls = new FakeHls();
    t.tracker.attachHls(hls);
    const v = new FakeVideo();
    hls.trigger(E.MEDIA_ATTACHED, { media: v });
    v.play();
    v.playing();
    hls.trigger(E.DESTROYING, {});
    expect(hls.listenerCount()).toBe(0);
    expect(v.count()).toBe(0);
    await t.tracker.destroy();
    expect(t.transport.find('playback_started')[0].meta).toMatchObject({ adapter: 'hls.js', player_version: '1.7.4-fake' });
  });
});
