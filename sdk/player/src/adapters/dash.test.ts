// @vitest-environment happy-dom
import * as dashjsModule from 'dashjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeDash, FakeVideo, makeTracker, useFakeClock } from '../../test/helpers';
import { validateBatchBody } from '../../test/contract_validator';
import { TRACEPARENT_RE } from '../ids';
import { EXTENSION_EVENT_NAMES } from '../wire';
import { DASH_EVENTS } from './dash';

// dashjs's ESM build has a default export its typings do not declare.
const dashjs: any = (dashjsModule as any).default ?? dashjsModule;

const E = DASH_EVENTS;

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

describe('dashjs event names', () => {
  it('match dashjs MediaPlayer.events', () => {
    const ev = (dashjs as any).MediaPlayer.events;
    expect(E.MANIFEST_LOADED).toBe(ev.MANIFEST_LOADED);
    expect(E.STREAM_INITIALIZED).toBe(ev.STREAM_INITIALIZED);
    expect(E.FRAGMENT_LOADING_COMPLETED).toBe(ev.FRAGMENT_LOADING_COMPLETED);
    expect(E.QUALITY_CHANGE_RENDERED).toBe(ev.QUALITY_CHANGE_RENDERED);
    expect(E.BUFFER_EMPTY).toBe(ev.BUFFER_EMPTY);
    expect(E.ERROR).toBe(ev.ERROR);
  });

  it('attach and detach on a real, not yet initialised dashjs MediaPlayer', async () => {
    const { tracker, transport } = makeTracker({ cmcd: true });
    const player = (dashjs as any).MediaPlayer().create();
    const detach = tracker.attachDash(player);
    detach();
    await tracker.destroy();
    expect(transport.names()).toEqual(['session_ended']);
  });
});

describe('dashjs adapter (fake player with dashjs event names and payloads)', () => {
  function setup(over = {}) {
    const t = makeTracker(over);
    const p = new FakeDash();
    const v = new FakeVideo();
    p.video = v;
    const detach = t.tracker.attachDash(p);
    return { ...t, p, v, detach };
  }
  const segReq = (over: any = {}) => ({
    type: 'MediaSegment',
    mediaType: 'video',
    url: 'https://cdn.test/dash/v1/seg-12.m4s?tok=1',
    index: 12,
    duration: 4,
    representation: { id: 'v1', bandwidth: 2_000_000 },
    startDate: new Date(Date.now()),
    firstByteDate: new Date(Date.now() + 30),
    endDate: new Date(Date.now() + 230),
    bytesLoaded: 1_000_000,
    ...over,
  });

  it('maps MPD response, fragments, quality changes and errors to m-trace events', async () => {
    const { tracker, transport, p } = setup();
    await p.respond({
      url: 'https://cdn.test/dash/manifest.mpd?sig=x',
      status: 200,
      request: { url: 'https://cdn.test/dash/manifest.mpd?sig=x', customData: { request: { type: 'MPD' } } },
      resourceTiming: { startTime: 100, responseStart: 160, duration: 90, encodedBodySize: 4000 },
    });
    await p.respond({ url: 'https://cdn.test/dash/manifest.mpd', status: 200, request: { customData: { request: { type: 'MPD' } } }, resourceTiming: {} }); // live refresh
    p.trigger(E.FRAGMENT_LOADING_COMPLETED, { request: segReq({ type: 'InitializationSegment', index: NaN }) });
    p.trigger(E.FRAGMENT_LOADING_COMPLETED, { request: segReq() });
    p.trigger(E.FRAGMENT_LOADING_COMPLETED, { request: segReq() }); // dashjs can report the same index twice
    p.trigger(E.QUALITY_CHANGE_RENDERED, { mediaType: 'video', newRepresentation: p.reps.video[0], oldRepresentation: null });
    p.trigger(E.QUALITY_CHANGE_RENDERED, { mediaType: 'video', newRepresentation: p.reps.video[1], oldRepresentation: p.reps.video[0] });
    p.trigger(E.QUALITY_CHANGE_RENDERED, { mediaType: 'audio', newRepresentation: p.reps.audio[0] });
    p.trigger(E.ERROR, { error: { code: 27, message: 'download failed https://cdn.test/x?s=1' } });
    p.trigger(E.ERROR, { error: { code: 25, message: 'manifest download failed' } });
    await tracker.destroy();

    expect(transport.find('manifest_loaded').map((e) => e.meta)).toEqual([
      {
        'network.kind': 'manifest',
        'network.detail_status': 'available',
        'network.redacted_url': 'https://cdn.test/dash/manifest.mpd',
        'timing.ttfb_ms': 60,
        'timing.load_ms': 90,
        throughput_kbps: 356,
        bytes: 4000,
        playlist: 'mpd',
        live: false,
      },
    ]);
    const segs = transport.find('segment_loaded').map((e) => e.meta!);
    expect(segs).toHaveLength(2);
    expect(segs[0]).toMatchObject({ is_init: true, media_type: 'video' });
    expect(segs[1]).toMatchObject({
      'network.redacted_url': 'https://cdn.test/dash/v1/seg-12.m4s',
      'timing.ttfb_ms': 30,
      'timing.load_ms': 230,
      bytes: 1_000_000,
      throughput_kbps: 34783,
      duration_ms: 4000,
      bitrate_kbps: 2000,
    });
    expect(transport.find('bitrate_switch').map((e) => [e.meta!.media_type, e.meta!.direction, e.meta!.bitrate_kbps, e.meta!.width])).toEqual([
      ['video', 'initial', 500, 640],
      ['video', 'up', 2000, 1280],
      ['audio', 'initial', 128, undefined],
    ]);
    const errs = transport.find('playback_error').map((e) => e.meta!);
    expect(errs.map((e) => [e.fatal, e.error_code])).toEqual([
      [false, '27'],
      [true, '25'],
    ]);
    expect(errs[0].error_message).toBe('download failed https://cdn.test/x');
    for (const b of transport.bodies) expect(validateBatchBody(b, EXTENSION_EVENT_NAMES).errors).toEqual([]);
  });

  it('decorates MPD and segment requests with traceparent and CMCD through a request interceptor', async () => {
    const { p, v } = setup({ cmcd: { contentId: 'ch1' }, traceparent: { propagateTraceHeaderCorsUrls: ['https://cdn.test/'] } });
    p.dynamic = true;
    const mpd = await p.request({ url: 'https://cdn.test/live.mpd', headers: {}, customData: { request: { type: 'MPD' } } });
    expect(new URL(mpd.url).searchParams.get('CMCD')).toBe('cid="ch1",ot=m,sf=d,sid="session-1",st=l');
    expect(mpd.headers.traceparent).toMatch(TRACEPARENT_RE);
    const r1 = segReq();
    const seg = await p.request({ url: r1.url, headers: {}, customData: { request: r1 } });
    expect(new URL(seg.url).searchParams.get('CMCD')).toBe(
      'bl=12300,br=2000,cid="ch1",d=4000,mtp=4300,ot=v,sf=d,sid="session-1",st=l,su,tb=2000',
    );
    v.play();
    v.playing();
    const seg2 = await p.request({ url: r1.url, headers: { Range: 'bytes=0-1' }, customData: { request: segReq({ mediaType: 'audio', representation: { id: 'a0', bandwidth: 128000 } }) } });
    const c2 = new URL(seg2.url).searchParams.get('CMCD')!;
    expect(c2).toContain('ot=a');
    expect(c2).toContain('br=128');
    expect(c2).not.toMatch(/(^|,)su(,|$)/);
    expect(seg2.headers.Range).toBe('bytes=0-1');
    const other = await p.request({ url: 'https://cdn.test/license', headers: {}, customData: { request: { type: 'license' } } });
    expect(other.url).toBe('https://cdn.test/license');
    expect(other.headers.traceparent).toBeUndefined();
  });

  it('leaves CMCD to dashjs when its own CMCD is enabled, and cleans up on detach', async () => {
    const t = makeTracker({ cmcd: true });
    const p = new FakeDash();
    p.settings.streaming.cmcd.enabled = true;
    p.video = new FakeVideo();
    const detach = t.tracker.attachDash(p);
    const r = await p.request({ url: 'https://app.test/a.mpd', headers: {}, customData: { request: { type: 'MPD' } } });
    expect(r.url).toBe('https://app.test/a.mpd');
    expect(r.headers.traceparent).toMatch(TRACEPARENT_RE);
    detach();
    expect(p.listenerCount()).toBe(0);
    expect(p.requestInterceptors).toHaveLength(0);
    expect(p.responseInterceptors).toHaveLength(0);
    expect(p.video.count()).toBe(0);
  });

  it('turns bufferStalled into a rebuffer and samples throughput and live latency', async () => {
    const { tracker, transport, p, v } = setup({ sampleIntervalMs: 5000 });
    p.dynamic = true;
    v.play();
    v.playing();
    v.advance(1);
    p.trigger(E.QUALITY_CHANGE_RENDERED, { mediaType: 'video', newRepresentation: p.reps.video[1] });
    p.trigger(E.BUFFER_EMPTY, { mediaType: 'video' });
    vi.advanceTimersByTime(600);
    v.playing();
    vi.advanceTimersByTime(5000);
    await tracker.destroy();
    expect(transport.find('rebuffer_started')[0].meta).toMatchObject({ cause: 'dashjs:bufferStalled' });
    expect(transport.find('rebuffer_ended')[0].meta).toMatchObject({ duration_ms: 600 });
    expect(transport.find('metrics_sampled')[0].meta).toMatchObject({ bitrate_kbps: 2000, throughput_kbps: 4321, live_latency_ms: 3500 });
  });

  it('creates the monitor at streamInitialized when the player had no element yet', async () => {
    const t = makeTracker();
    const p = new FakeDash();
    t.tracker.attachDash(p);
    const v = new FakeVideo();
    p.video = v;
    p.trigger(E.STREAM_INITIALIZED, {});
    v.play();
    v.playing();
    await t.tracker.destroy();
    expect(t.transport.find('playback_started')[0].meta).toMatchObject({ adapter: 'dashjs', player_version: '5.2.1-fake' });
  });
});
