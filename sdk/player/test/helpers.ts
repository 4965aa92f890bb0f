/**
 * Test doubles: a deterministic Env on vitest's fake timers, a capturing Transport, and fakes of
 * HTMLVideoElement, hls.js, dashjs and RTCPeerConnection that speak the real event names.
 */
import { vi } from 'vitest';
import type { Env } from '../src/env';
import type { SendResult, Transport } from '../src/transport';
import { createTracker, type Tracker } from '../src/tracker';
import type { TrackerConfig } from '../src/config';
import type { WireBatch, WireEvent } from '../src/wire';

/** mulberry32: a seeded PRNG so jitter and ids are reproducible. */
export function seeded(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Emitter {
  private l = new Map<string, Set<(ev: any) => void>>();
  addEventListener(t: string, f: (ev: any) => void) {
    if (!this.l.has(t)) this.l.set(t, new Set());
    this.l.get(t)!.add(f);
  }
  removeEventListener(t: string, f: (ev: any) => void) {
    this.l.get(t)?.delete(f);
  }
  dispatch(t: string, ev: any = { type: t }) {
    for (const f of [...(this.l.get(t) ?? [])]) f(ev);
  }
  count(t?: string): number {
    if (t) return this.l.get(t)?.size ?? 0;
    let n = 0;
    for (const s of this.l.values()) n += s.size;
    return n;
  }
}

/** Env on fake timers (call vi.useFakeTimers() first): Date.now drives both clocks. */
export function testEnv(over: Partial<Env> = {}): Env {
  const rnd = seeded(7);
  return {
    now: () => Date.now(),
    mono: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as any),
    random: seeded(99),
    randomBytes: (n) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
      return b;
    },
    origin: 'https://app.test',
    baseUrl: 'https://app.test/watch',
    ...over,
  };
}

/** Records every body; answers from a script of results (default 202). */
export class CaptureTransport implements Transport {
  bodies: string[] = [];
  beacons: string[] = [];
  keepalive: boolean[] = [];
  results: SendResult[] = [];
  keepaliveOk = true;
  beaconOk = true;
  inFlight = 0;
  maxInFlight = 0;
  /** When set, send() waits for release() before answering. */
  hold = false;
  private waiting: Array<() => void> = [];

  send(body: string, opts: { keepalive: boolean }): Promise<SendResult> {
    this.bodies.push(body);
    this.keepalive.push(opts.keepalive);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const r = this.results.shift() ?? { outcome: 'ok', status: 202 };
    const done = () => {
      this.inFlight--;
      return r;
    };
    if (!this.hold) return Promise.resolve().then(done);
    return new Promise((res) => this.waiting.push(() => res(done())));
  }
  release() {
    for (const w of this.waiting.splice(0)) w();
  }
  beacon(body: string): boolean {
    if (!this.beaconOk) return false;
    this.beacons.push(body);
    return true;
  }
  canKeepalive(): boolean {
    return this.keepaliveOk;
  }
  batches(): WireBatch[] {
    return [...this.bodies, ...this.beacons].map((b) => JSON.parse(b));
  }
  events(): WireEvent[] {
    return this.batches().flatMap((b) => b.events);
  }
  names(): string[] {
    return this.events().map((e) => e.event_name);
  }
  find(name: string): WireEvent[] {
    return this.events().filter((e) => e.event_name === name);
  }
}

export function makeTracker(over: Partial<TrackerConfig> = {}, envOver: Partial<Env> = {}) {
  const transport = new CaptureTransport();
  const env = testEnv(envOver);
  const tracker: Tracker = createTracker({
    endpoint: 'https://collector.test/api/playback-events',
    projectId: 'demo',
    token: 'demo-token',
    sessionId: 'session-1',
    flushIntervalMs: 0,
    sampleIntervalMs: 0,
    batchSize: 100,
    transport,
    env,
    ...over,
  });
  return { tracker, transport, env };
}

/** Lets queued promise callbacks run (fake timers do not flush microtasks by themselves). */
export async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export class FakeTimeRanges {
  constructor(private r: Array<[number, number]> = []) {}
  get length() {
    return this.r.length;
  }
  start(i: number) {
    return this.r[i][0];
  }
  end(i: number) {
    return this.r[i][1];
  }
}

/** A fake HTMLVideoElement: the test sets state, then fires the event the browser would fire. */
export class FakeVideo extends Emitter {
  paused = true;
  seeking = false;
  ended = false;
  currentTime = 0;
  readyState = 0;
  playbackRate = 1;
  buffered: FakeTimeRanges = new FakeTimeRanges();
  error: { code: number; message?: string } | null = null;
  src = '';
  currentSrc = '';
  dropped = 0;
  total = 0;
  getVideoPlaybackQuality() {
    return { droppedVideoFrames: this.dropped, totalVideoFrames: this.total };
  }
  play() {
    this.paused = false;
    this.dispatch('play');
  }
  /** Media ready and advancing. */
  playing() {
    this.readyState = 4;
    this.paused = false;
    this.dispatch('playing');
  }
  waiting() {
    this.readyState = 2;
    this.dispatch('waiting');
  }
  pause() {
    this.paused = true;
    this.dispatch('pause');
  }
  seek(to: number) {
    this.seeking = true;
    this.currentTime = to;
    this.readyState = 1;
    this.dispatch('seeking');
  }
  seeked(ready = 4) {
    this.seeking = false;
    this.readyState = ready;
    this.dispatch('seeked');
  }
  advance(sec: number) {
    this.currentTime += sec;
    this.dispatch('timeupdate');
  }
}

/** hls.js-shaped fake: on/off/trigger with (event, data) listeners, config with loader classes. */
export class FakeHls {
  static version = '1.7.4-fake';
  private l = new Map<string, Set<(e: string, d: any) => void>>();
  config: Record<string, any>;
  levels: Array<{ bitrate: number; width?: number; height?: number; videoCodec?: string; audioCodec?: string }> = [];
  media: FakeVideo | null = null;
  bandwidthEstimate = 5_000_000;
  latency = 0;
  constructor(config: Record<string, any> = {}) {
    this.config = { loader: FakeLoader, ...config };
  }
  on(e: string, f: (e: string, d: any) => void) {
    if (!this.l.has(e)) this.l.set(e, new Set());
    this.l.get(e)!.add(f);
  }
  off(e: string, f: (e: string, d: any) => void) {
    this.l.get(e)?.delete(f);
  }
  trigger(e: string, d: any) {
    for (const f of [...(this.l.get(e) ?? [])]) f(e, d);
  }
  listenerCount() {
    let n = 0;
    for (const s of this.l.values()) n += s.size;
    return n;
  }
}

/** Records the contexts it was asked to load. */
export class FakeLoader {
  static loads: any[] = [];
  stats = { loaded: 0, loading: { start: 0, first: 0, end: 0 } };
  context: any = null;
  constructor(public config: any) {}
  load(context: any) {
    this.context = context;
    FakeLoader.loads.push({ url: context.url, headers: { ...(context.headers ?? {}) }, type: context.type });
  }
  abort() {}
  destroy() {}
}

/** dashjs-shaped fake: on/off(type, fn), interceptors, getters. */
export class FakeDash {
  private l = new Map<string, Set<(e: any) => void>>();
  requestInterceptors: Array<(r: any) => Promise<any>> = [];
  responseInterceptors: Array<(r: any) => Promise<any>> = [];
  video: FakeVideo | null = null;
  dynamic = false;
  settings: any = { streaming: { cmcd: { enabled: false } } };
  reps: Record<string, Array<{ id: string; bandwidth: number; width?: number; height?: number }>> = {
    video: [
      { id: 'v0', bandwidth: 500_000, width: 640, height: 360 },
      { id: 'v1', bandwidth: 2_000_000, width: 1280, height: 720 },
    ],
    audio: [{ id: 'a0', bandwidth: 128_000 }],
  };
  on(t: string, f: (e: any) => void) {
    if (!this.l.has(t)) this.l.set(t, new Set());
    this.l.get(t)!.add(f);
  }
  off(t: string, f: (e: any) => void) {
    this.l.get(t)?.delete(f);
  }
  trigger(t: string, e: any) {
    for (const f of [...(this.l.get(t) ?? [])]) f({ type: t, ...e });
  }
  listenerCount() {
    let n = 0;
    for (const s of this.l.values()) n += s.size;
    return n;
  }
  addRequestInterceptor(f: any) {
    this.requestInterceptors.push(f);
  }
  removeRequestInterceptor(f: any) {
    this.requestInterceptors = this.requestInterceptors.filter((x) => x !== f);
  }
  addResponseInterceptor(f: any) {
    this.responseInterceptors.push(f);
  }
  removeResponseInterceptor(f: any) {
    this.responseInterceptors = this.responseInterceptors.filter((x) => x !== f);
  }
  getVideoElement() {
    if (!this.video) throw new Error('not initialized');
    return this.video;
  }
  getVersion() {
    return '5.2.1-fake';
  }
  isDynamic() {
    return this.dynamic;
  }
  getAverageThroughput() {
    return 4321;
  }
  getBufferLength() {
    return 12.34;
  }
  getRepresentationsByType(t: string) {
    return this.reps[t] ?? [];
  }
  getCurrentLiveLatency() {
    return 3.5;
  }
  getSettings() {
    return this.settings;
  }
  /** Runs a request through the interceptors like dashjs's HTTPLoader. */
  async request(req: any) {
    let r = req;
    for (const f of this.requestInterceptors) r = await f(r);
    return r;
  }
  async respond(res: any) {
    let r = res;
    for (const f of this.responseInterceptors) r = await f(r);
    return r;
  }
}

export class FakePeerConnection extends Emitter {
  connectionState = 'new';
  iceConnectionState = 'new';
  reports: any[][] = [];
  statsCalls = 0;
  getStats() {
    this.statsCalls++;
    const r = this.reports.length > 1 ? this.reports.shift()! : (this.reports[0] ?? []);
    return Promise.resolve(new Map(r.map((s) => [s.id, s])));
  }
  setState(s: string) {
    this.connectionState = s;
    this.dispatch('connectionstatechange');
  }
}

export function useFakeClock(start = Date.UTC(2026, 0, 2, 3, 4, 5, 678)) {
  vi.useFakeTimers({ now: start });
}
