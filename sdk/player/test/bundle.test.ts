/**
 * Smoke test of the minified IIFE bundle exactly as a <script> tag would load it: built in memory
 * with the release options, run in a fresh VM context with browser-like globals, one session
 * against a fake fetch, and the body checked against the contract.
 */
import { build } from 'esbuild';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs without types
import { iife } from '../scripts/bundle_options.mjs';
import { validateBatchBody } from './contract_validator';
import { Emitter, FakeVideo } from './helpers';

describe('IIFE bundle', () => {
  it('exposes AvtracePlayer and delivers a valid batch through fetch', async () => {
    const out = await build({ ...iife, write: false });
    const code = out.outputFiles![0].text;
    expect(code).not.toMatch(/from\s*["']hls\.js["']|require\(/);
    const requests: Array<{ url: string; init: any }> = [];
    const win = new Emitter();
    const sandbox: any = {
      fetch: async (url: string, init: any) => (requests.push({ url, init }), { status: 202, headers: new Map() }),
      navigator: { sendBeacon: () => true },
      location: { origin: 'https://app.test', href: 'https://app.test/watch' },
      document: Object.assign(new Emitter(), { visibilityState: 'visible' }),
      addEventListener: win.addEventListener.bind(win),
      removeEventListener: win.removeEventListener.bind(win),
      crypto: globalThis.crypto,
      performance: globalThis.performance,
      setTimeout,
      clearTimeout,
      AbortController,
      URL,
      console,
    };
    sandbox.window = sandbox;
    runInNewContext(`${code};globalThis.AvtracePlayer = AvtracePlayer;`, sandbox);
    const AP = sandbox.AvtracePlayer;
    expect(typeof AP.createTracker).toBe('function');
    expect(AP.SDK_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    const tracker = AP.createTracker({ endpoint: 'https://c.test/api/playback-events', projectId: 'demo', token: 'demo-token', flushIntervalMs: 0 });
    const v = new FakeVideo();
    tracker.attachVideo(v);
    v.play();
    v.playing();
    tracker.track('bundle_smoke', { url: 'https://cdn.test/a.m3u8?token=secret' });
    await tracker.destroy();
    expect(requests).toHaveLength(1);
    const { url, init } = requests[0];
    expect(url).toBe('https://c.test/api/playback-events');
    expect(init.headers['X-MTrace-Token']).toBe('demo-token');
    expect(init.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(validateBatchBody(init.body, ['play_intent', 'bundle_smoke']).errors).toEqual([]);
    expect(JSON.parse(init.body).events.map((e: any) => e.event_name)).toEqual([
      'play_intent',
      'playback_started',
      'startup_time_measured',
      'bundle_smoke',
      'session_ended',
    ]);
    expect(init.body).not.toContain('secret');
  });
});
