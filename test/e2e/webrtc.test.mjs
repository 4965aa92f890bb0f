// Browser end-to-end, WebRTC: two RTCPeerConnections in one headless Chromium page, connected on
// loopback, send a generated canvas video track and an oscillator audio track; the SDK's WebRTC
// adapter polls the receiver's getStats() and reports to the real `avtrace serve`. Asserts the
// stats samples (m-trace's webrtc.* fields and avtrace's rtc.* interval metrics), the startup,
// and the end of the session when the page goes away.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  E2E_PROJECT,
  E2E_TOKEN,
  api,
  countNames,
  failureScreenshot,
  missingPrerequisites,
  named,
  openPage,
  useE2eLab,
  waitForSession,
} from './harness.mjs';

const missing = missingPrerequisites();
if (missing.length) throw new Error(`e2e prerequisites missing:\n  ${missing.join('\n  ')}`);

// Media server, avtrace and Chromium for this file; fields are set before the first test.
const lab = useE2eLab();

const flowing = (e) => e.event_name === 'metrics_sampled'
  && e.meta?.['webrtc.connection_state'] === 'connected'
  && e.meta?.['webrtc.bytes_received'] > 0;

test('WebRTC loopback call: getStats samples reach avtrace', { timeout: 60000 }, async () => {
  let pg;
  let step = 'page load';
  try {
    pg = await openPage(lab.browser, lab.root, 'webrtc');
    const q = new URLSearchParams({
      endpoint: `${lab.server.http}/api/playback-events`, project: E2E_PROJECT, token: E2E_TOKEN, interval: '1000',
    });
    await pg.page.goto(`${lab.media.origin}/pages/webrtc.html?${q}`);
    const sessionId = await pg.page.evaluate(() => window.__tracker.sessionId);

    step = 'stats samples';
    const d = await waitForSession(lab.client, sessionId, (x) => x.events.filter(flowing).length >= 2,
      { timeoutMs: 30000, what: 'two metrics_sampled with media flowing' });
    const samples = named(d.events, 'metrics_sampled');
    for (const e of samples) {
      assert.equal(e.meta['webrtc.peer_connection_run_id'], 'e2e-receiver', JSON.stringify(e.meta));
      assert.ok(Number.isInteger(e.meta['webrtc.sample_id']) && e.meta['webrtc.sample_id'] >= 0, JSON.stringify(e.meta));
    }
    // sample ids strictly increase in sequence order; the cumulative byte counter never falls.
    const bySeq = [...samples].sort((a, b) => a.sequence_number - b.sequence_number);
    for (let i = 1; i < bySeq.length; i++) {
      assert.ok(bySeq[i].meta['webrtc.sample_id'] > bySeq[i - 1].meta['webrtc.sample_id']);
      assert.ok(bySeq[i].meta['webrtc.bytes_received'] >= bySeq[i - 1].meta['webrtc.bytes_received']);
    }
    const live = d.events.filter(flowing);
    const s = live.at(-1).meta;
    assert.equal(s['webrtc.ice_state'] === 'connected' || s['webrtc.ice_state'] === 'completed', true, JSON.stringify(s));
    assert.equal(s['webrtc.dtls_state'], 'connected', JSON.stringify(s));
    assert.ok(s['webrtc.packets_lost'] >= 0);
    assert.equal(s['rtc.inbound_streams'], 2, JSON.stringify(s));       // video + audio
    assert.ok(s['rtc.packets_received'] > 0, JSON.stringify(s));
    assert.ok(s['rtc.recv_kbps'] > 0, JSON.stringify(s));
    assert.equal(s['rtc.video.width'], 320, JSON.stringify(s));
    assert.equal(s['rtc.video.height'], 180, JSON.stringify(s));
    assert.ok(s['rtc.video.frames_decoded'] > 0, JSON.stringify(s));
    assert.ok(s['rtc.interval_ms'] > 0, JSON.stringify(s));

    const started = named(d.events, 'playback_started');
    assert.equal(started.length, 1, JSON.stringify(countNames(d.events)));
    assert.equal(started[0].meta.adapter, 'webrtc');
    const startup = named(d.events, 'startup_time_measured');
    assert.equal(startup.length, 1);
    assert.ok(startup[0].meta.duration_ms > 0 && startup[0].meta.duration_ms < 30000, JSON.stringify(startup[0].meta));
    assert.equal(startup[0].meta.measured_from, 'attach');
    assert.equal(named(d.events, 'playback_error').length, 0, JSON.stringify(named(d.events, 'playback_error')));

    step = 'close';
    await pg.close();
    pg = null;
    const e = await waitForSession(lab.client, sessionId, (x) => x.session.state === 'ended',
      { timeoutMs: 15000, what: 'session ended after page close' });
    assert.equal(e.session.end_source, 'client');
    assert.equal(named(e.events, 'session_ended').length, 1);
  } catch (err) {
    lab.failed = true;
    if (pg) {
      await failureScreenshot(pg.page, lab.root, 'webrtc');
      const state = await pg.page.evaluate(() => window.__state?.()).catch(() => null);
      err.message += `\n  page state: ${JSON.stringify(state)}\n  console: ${pg.logPath}`;
    }
    err.message += `\n  step: ${step}\n  server log: ${lab.server.logPath}`;
    throw err;
  } finally {
    await pg?.close().catch(() => {});
  }
});
