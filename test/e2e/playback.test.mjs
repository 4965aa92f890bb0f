// Browser end-to-end: real ffmpeg live streams (HLS MPEG-TS, HLS fMP4, DASH) played by hls.js /
// dashjs in headless Chromium with the real avtrace player SDK, reporting to the real
// `avtrace serve`. For each stream: the session appears with a measured startup and
// segment_loaded events; stalling the segment responses gives a rebuffer_started/_ended pair with
// a duration; closing the page ends the session with end_source=client.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  E2E_PROJECT,
  E2E_TOKEN,
  api,
  countNames,
  failureScreenshot,
  missingPrerequisites,
  named,
  openPage,
  pollUntil,
  startFfmpeg,
  useE2eLab,
  waitForSession,
  waitForStream,
} from './harness.mjs';

const missing = missingPrerequisites();
if (missing.length) throw new Error(`e2e prerequisites missing:\n  ${missing.join('\n  ')}`);

// Media server, avtrace and Chromium for this file; fields are set before the first test.
const lab = useE2eLab();

const STREAMS = [
  { kind: 'hls_ts', player: 'hls', title: 'HLS MPEG-TS with hls.js' },
  { kind: 'hls_fmp4', player: 'hls', title: 'HLS fMP4 with hls.js' },
  { kind: 'dash', player: 'dash', title: 'DASH with dashjs' },
];

function pageUrl({ kind, player, manifest }) {
  const q = new URLSearchParams({
    player,
    src: `${lab.media.origin}/${kind}/${manifest}`,  // absolute: dashjs' CMCD code needs it
    endpoint: `${lab.server.http}/api/playback-events`,
    project: E2E_PROJECT,
    token: E2E_TOKEN,
  });
  // dashjs only schedules a live stream when it autoplays itself (an early element play() leaves
  // it stuck after the first segments); hls.js pages call video.play() at once (play intent).
  if (player === 'dash') q.set('autoplay', '1');
  return `${lab.media.origin}/pages/player.html?${q}`;
}

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

describe('live playback through the SDK into avtrace', () => {
  for (const s of STREAMS) {
    test(s.title, { timeout: 90000 }, async () => {
      const stream = startFfmpeg(s.kind, path.join(lab.root, s.kind), { timeUrl: `${lab.media.origin}/time` });
      let pg;
      let step = 'stream start';
      try {
        await waitForStream(stream, { segments: 3 });

        step = 'page load';
        pg = await openPage(lab.browser, lab.root, s.kind);
        await pg.page.goto(pageUrl({ ...s, manifest: stream.manifest }));
        const sessionId = await pg.page.evaluate(() => window.__tracker.sessionId);
        assert.match(sessionId, /^[0-9a-f-]{36}$/);

        // 1. Startup: the session is listed, with a measured startup and loaded segments.
        step = 'startup';
        let d = await waitForSession(lab.client, sessionId, (x) =>
          named(x.events, 'startup_time_measured').length === 1
          && named(x.events, 'playback_started').length === 1
          && named(x.events, 'segment_loaded').length >= 2,
        { timeoutMs: 30000, what: `${s.kind}: startup events` });

        const listed = await pollUntil(async () =>
          (await lab.client.sessions()).find((x) => x.session_id === sessionId),
        { timeoutMs: 5000, what: 'session in GET /api/stream-sessions' });
        assert.equal(listed.project_id, E2E_PROJECT);
        assert.equal(listed.state, 'active');
        assert.equal(listed.end_source ?? null, null);
        assert.ok(listed.started_at && listed.last_event_at, JSON.stringify(listed));
        assert.ok(listed.event_count >= 4, JSON.stringify(listed));
        assert.equal(typeof listed.correlation_id, 'string');
        assert.ok(listed.correlation_id.length > 0);

        const startup = named(d.events, 'startup_time_measured')[0];
        assert.ok(finite(startup.meta?.duration_ms) && startup.meta.duration_ms > 0 && startup.meta.duration_ms < 30000,
          `startup duration_ms: ${JSON.stringify(startup.meta)}`);
        const started = named(d.events, 'playback_started')[0];
        assert.equal(started.meta.adapter, s.player === 'dash' ? 'dashjs' : 'hls.js');
        assert.equal(started.meta.startup_ms, startup.meta.duration_ms);
        assert.ok(named(d.events, 'manifest_loaded').length >= 1, JSON.stringify(countNames(d.events)));

        const segs = named(d.events, 'segment_loaded');
        for (const e of segs) {
          assert.equal(e.meta['network.kind'], 'segment', JSON.stringify(e.meta));
          assert.ok(String(e.meta['network.redacted_url']).includes(`/${s.kind}/`), JSON.stringify(e.meta));
          assert.equal(e.session_id, sessionId);
          assert.equal(e.project_id, E2E_PROJECT);
          assert.equal(e.sdk?.name, '@avtrace/player-sdk');
          assert.ok(Number.isInteger(e.ingest_sequence), JSON.stringify(e));
          assert.ok(e.server_received_at, JSON.stringify(e));
          assert.equal(e.correlation_id, listed.correlation_id);
        }
        assert.ok(segs.some((e) => e.meta.bytes > 0 && e.meta.is_init !== true), 'a media segment with bytes');

        // 2. Rebuffer: hold every segment response until the SDK's rebuffer_started is stored.
        step = 'rebuffer';
        const before = named(d.events, 'rebuffer_started').length;
        lab.media.stallSegments();
        d = await waitForSession(lab.client, sessionId, (x) => named(x.events, 'rebuffer_started').length > before,
          { timeoutMs: 30000, what: `${s.kind}: rebuffer_started while segments are held` });
        assert.ok(lab.media.stats.held > 0, 'the stall held segment requests');
        const stall = named(d.events, 'rebuffer_started').at(-1);
        lab.media.releaseSegments();
        d = await waitForSession(lab.client, sessionId, (x) =>
          named(x.events, 'rebuffer_ended').some((e) => e.meta?.rebuffer_count === stall.meta?.rebuffer_count),
        { timeoutMs: 30000, what: `${s.kind}: rebuffer_ended after the release` });
        const ended = named(d.events, 'rebuffer_ended').find((e) => e.meta.rebuffer_count === stall.meta.rebuffer_count);
        assert.ok(finite(ended.meta.duration_ms) && ended.meta.duration_ms > 0, JSON.stringify(ended.meta));
        assert.ok(ended.meta.total_rebuffer_duration_ms >= ended.meta.duration_ms, JSON.stringify(ended.meta));
        assert.ok(ended.ingest_sequence > stall.ingest_sequence);
        // Playback really resumed.
        const t0 = await pg.page.evaluate(() => document.querySelector('video').currentTime);
        await pg.page.waitForFunction((t) => document.querySelector('video').currentTime > t + 0.5, t0, { timeout: 15000 });

        // 3. Close the page: pagehide → session_ended (keepalive fetch) → state ended, client.
        step = 'close';
        await pg.close();
        pg = null;
        d = await waitForSession(lab.client, sessionId, (x) => x.session.state === 'ended',
          { timeoutMs: 15000, what: `${s.kind}: session ended after page close` });
        assert.equal(d.session.end_source, 'client');
        assert.ok(d.session.ended_at, JSON.stringify(d.session));
        const end = named(d.events, 'session_ended');
        assert.equal(end.length, 1, JSON.stringify(countNames(d.events)));
        assert.equal(end[0].meta.end_reason, 'pagehide');
        assert.ok(end[0].meta.rebuffer_count >= 1, JSON.stringify(end[0].meta));
        const relisted = (await lab.client.sessions()).find((x) => x.session_id === sessionId);
        assert.equal(relisted.state, 'ended');
        assert.equal(relisted.end_source, 'client');
      } catch (err) {
        lab.failed = true;
        if (pg) {
          await failureScreenshot(pg.page, lab.root, s.kind);
          const state = await pg.page.evaluate(() => window.__state?.()).catch(() => null);
          err.message += `\n  step: ${step}\n  page state: ${JSON.stringify(state)}\n  console: ${pg.logPath}`;
        } else {
          err.message += `\n  step: ${step}`;
        }
        err.message += `\n  media: ${JSON.stringify({ ...lab.media.stats, notFound: lab.media.stats.notFound.slice(-5) })}\n  server log: ${lab.server.logPath}`;
        throw err;
      } finally {
        lab.media.releaseSegments();
        await pg?.close().catch(() => {});
        await stream.stop();
      }
    });
  }
});
