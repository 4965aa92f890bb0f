// Browser end-to-end harness: real ffmpeg live streams, a loopback media/page server that can
// stall segment responses on demand, headless Chromium through playwright-core, the real player
// SDK bundle and the real `avtrace serve` binary (started through ../integration/harness.mjs).
//
// - startFfmpeg(kind, dir): live HLS (MPEG-TS), HLS (fMP4) or DASH from lavfi testsrc + sine,
//   1 s segments, realtime (-re); stopped by its own PID (SIGTERM, then SIGKILL).
// - startMediaServer(root): node:http on 127.0.0.1:0 serving the stream dirs under `root`, the
//   test pages (pages/*.html), the SDK IIFE, hls.js / dashjs bundles and GET /time (UTCTiming).
//   stallSegments() holds every media segment response until releaseSegments().
// - launchBrowser(): /usr/bin/chromium (CHROMIUM_BIN) with the flags from components.md §4.
// - openPage(): a page whose console goes to a log file; failureScreenshot() on error.
// - Api: GET/POST helpers for avtrace's m-trace-compatible player API.
//
// Environment: AVTRACE_BIN (default <repo>/build/avtrace), CHROMIUM_BIN (default
// /usr/bin/chromium), FFMPEG_BIN (default ffmpeg), AVTRACE_E2E_KEEP=1 keeps temp dirs (they are
// always kept, and their path printed, when a test failed).

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';

import {
  REPO,
  avtraceBin,
  getJson,
  pollUntil,
  request,
  sleep,
  spawnTracked,
  startServer,
  stopChild,
} from '../integration/harness.mjs';

export { REPO, avtraceBin, getJson, pollUntil, request, sleep, startServer, stopChild };

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = path.join(HERE, 'node_modules');
export const SDK_IIFE = path.join(REPO, 'sdk', 'player', 'dist', 'avtrace-player.iife.js');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const FFMPEG = process.env.FFMPEG_BIN || 'ffmpeg';

// ---------------------------------------------------------------------------------------------
// Preconditions: a clear message instead of an obscure failure deep inside a test.

export function missingPrerequisites() {
  const missing = [];
  if (!fs.existsSync(avtraceBin())) missing.push(`avtrace binary ${avtraceBin()} (set AVTRACE_BIN)`);
  if (!fs.existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install chromium, or set CHROMIUM_BIN)`);
  if (!fs.existsSync(SDK_IIFE)) missing.push(`${SDK_IIFE} (cd sdk/player && npm run build)`);
  for (const f of ['playwright-core', 'hls.js/dist/hls.min.js', 'dashjs/dist/modern/umd/dash.all.min.js']) {
    if (!fs.existsSync(path.join(NODE_MODULES, f))) missing.push(`test/e2e/node_modules/${f} (cd test/e2e && npm ci)`);
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Temp root: kept when a test failed (screenshots and logs are there), removed otherwise.

export function makeE2eRoot(prefix = 'avtrace-e2e-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function finishE2eRoot(root, { failed }) {
  if (!root) return;
  if (failed || process.env.AVTRACE_E2E_KEEP) {
    console.error(`# e2e artefacts kept in ${root}`);
    return;
  }
  fs.rmSync(root, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// ffmpeg live streams.

const ENCODE = [
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
  '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-b:v', '400k',
  '-c:a', 'aac', '-b:a', '64k', '-ac', '2',
];
const INPUT = [
  '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25',
  '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
];

// kind: 'hls_ts' | 'hls_fmp4' | 'dash'. Writes into <dir> (created). Returns
// {child, dir, manifest (file name), kind, stop()}.
export function startFfmpeg(kind, dir, { timeUrl, logPath } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  let out;
  let manifest;
  if (kind === 'hls_ts') {
    manifest = 'live.m3u8';
    out = ['-f', 'hls', '-hls_time', '1', '-hls_list_size', '6',
      '-hls_flags', 'delete_segments+independent_segments+program_date_time',
      '-hls_segment_filename', path.join(dir, 'seg_%05d.ts'), path.join(dir, manifest)];
  } else if (kind === 'hls_fmp4') {
    manifest = 'live.m3u8';
    out = ['-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4',
      '-hls_time', '1', '-hls_list_size', '6', '-hls_flags', 'delete_segments+independent_segments',
      '-hls_segment_filename', path.join(dir, 'seg_%05d.m4s'), path.join(dir, manifest)];
  } else if (kind === 'dash') {
    manifest = 'live.mpd';
    out = ['-f', 'dash', '-seg_duration', '1', '-window_size', '8', '-extra_window_size', '4',
      '-remove_at_exit', '1', '-use_template', '1', '-use_timeline', '1',
      ...(timeUrl ? ['-utc_timing_url', timeUrl] : []),
      '-adaptation_sets', 'id=0,streams=v id=1,streams=a',
      '-init_seg_name', 'init-$RepresentationID$.m4s',
      '-media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s', path.join(dir, manifest)];
  } else {
    throw new Error(`unknown stream kind ${kind}`);
  }
  const args = ['-hide_banner', '-loglevel', 'warning', '-nostdin', ...INPUT, ...ENCODE, ...out];
  const child = spawnTracked(FFMPEG, args, { logPath: logPath ?? path.join(dir, '..', `ffmpeg-${kind}.log`) });
  return {
    child,
    dir,
    kind,
    manifest,
    // SIGTERM lets the DASH muxer remove its files; SIGKILL after 5 s.
    stop: () => stopChild(child, { signal: 'SIGTERM', timeoutMs: 5000 }),
  };
}

// Resolves once the manifest exists and names at least `segments` media segments.
export async function waitForStream(stream, { segments = 2, timeoutMs = 20000 } = {}) {
  const file = path.join(stream.dir, stream.manifest);
  return pollUntil(() => {
    if (stream.child.exitStatus) {
      throw Object.assign(new Error(`ffmpeg exited: ${JSON.stringify(stream.child.exitStatus)}\n${stream.child.logTail()}`), { fatal: true });
    }
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return null;
    }
    const n = stream.manifest.endsWith('.m3u8')
      ? (text.match(/^#EXTINF:/gm) ?? []).length
      : (text.match(/<S\b/g) ?? []).length > 0 ? countDashSegments(text) : 0;
    return n >= segments ? text : null;
  }, { timeoutMs, intervalMs: 100, what: `${file} with ${segments} segments` });
}

function countDashSegments(mpd) {
  // First SegmentTimeline: sum of (1 + r) over its <S> entries.
  const tl = /<SegmentTimeline>([\s\S]*?)<\/SegmentTimeline>/.exec(mpd);
  if (!tl) return 0;
  let n = 0;
  for (const m of tl[1].matchAll(/<S\b([^>]*)\/>/g)) n += 1 + Number(/\br="(\d+)"/.exec(m[1])?.[1] ?? 0);
  return n;
}

// ---------------------------------------------------------------------------------------------
// The media + page server.

export const MIME = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

const STATIC = {
  '/lib/avtrace-player.iife.js': SDK_IIFE,
  '/lib/hls.min.js': path.join(NODE_MODULES, 'hls.js', 'dist', 'hls.min.js'),
  '/lib/dash.all.min.js': path.join(NODE_MODULES, 'dashjs', 'dist', 'modern', 'umd', 'dash.all.min.js'),
};

const isSegment = (p) => /\.(ts|m4s)$/.test(p) && !/\/init[^/]*$/.test(p);

// Serves <root>/<stream dir>/..., /pages/* (from test/e2e/pages), /lib/*, /time.
// Returns {origin, port, stallSegments(), releaseSegments(), stats, close()}.
export async function startMediaServer(root) {
  const stats = { requests: 0, segments: 0, held: 0, notFound: [] };
  const access = fs.createWriteStream(path.join(root, 'media-access.log'));
  const t0 = Date.now();
  let stalled = false;
  let held = [];  // functions that send a held response

  const server = http.createServer((req, res) => {
    stats.requests++;
    const url = new URL(req.url, 'http://x');
    const p = decodeURIComponent(url.pathname);
    res.on('finish', () => access.write(`${Date.now() - t0} ${req.method} ${p} ${res.statusCode}\n`));
    const common = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-cache' };
    if (p === '/time') {
      res.writeHead(200, { ...common, 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
      res.end(new Date().toISOString());
      return;
    }
    if (p === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    let file;
    if (STATIC[p]) file = STATIC[p];
    else if (p.startsWith('/pages/')) file = path.join(HERE, 'pages', path.basename(p));
    else file = path.join(root, path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(HERE) && !file.startsWith(root) && !Object.values(STATIC).includes(file)) {
      res.writeHead(403, common);
      res.end();
      return;
    }
    let body;
    try {
      body = fs.readFileSync(file);  // read now: a live segment may be deleted while held
    } catch {
      stats.notFound.push(p);
      res.writeHead(404, common);
      res.end();
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(200, {
        ...common,
        'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': body.length,
      });
      res.end(body);
    };
    if (isSegment(p)) {
      stats.segments++;
      if (stalled) {
        stats.held++;
        held.push(send);
        return;
      }
    }
    send();
  });
  server.keepAliveTimeout = 2000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  const releaseSegments = () => {
    stalled = false;
    const h = held;
    held = [];
    for (const send of h) send();
  };
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    stats,
    stallSegments: () => {
      stalled = true;
    },
    releaseSegments,
    close: async () => {
      releaseSegments();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
      await new Promise((resolve) => access.end(resolve));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Chromium.

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // Loopback WebRTC: plain host candidates instead of mDNS names.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
}

// A new page (own context) whose console and page errors go to <root>/<name>-console.log.
export async function openPage(browser, root, name) {
  const context = await browser.newContext({ viewport: { width: 640, height: 400 } });
  const page = await context.newPage();
  const log = fs.createWriteStream(path.join(root, `${name}-console.log`));
  page.on('console', (m) => log.write(`[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => log.write(`[pageerror] ${e.stack ?? e}\n`));
  page.on('requestfailed', (r) => log.write(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText}\n`));
  return {
    page,
    context,
    logPath: path.join(root, `${name}-console.log`),
    close: async () => {
      try {
        await context.close();
      } finally {
        log.end();
      }
    },
  };
}

// Screenshot into the temp root; prints and returns its path (null if the page is gone).
export async function failureScreenshot(page, root, name) {
  const file = path.join(root, `${name}-failure.png`);
  try {
    await page.screenshot({ path: file, timeout: 5000 });
    console.error(`# failure screenshot: ${file}`);
    return file;
  } catch (err) {
    console.error(`# no failure screenshot (${err.message.split('\n')[0]})`);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// avtrace config and player API.

export const E2E_PROJECT = 'e2e';
export const E2E_TOKEN = 'e2e-token-0123456789';

// YAML for a server that accepts the SDK from `pageOrigin` under project e2e.
export function projectConfigYaml(pageOrigin) {
  return [
    'projects:',
    `  - id: ${JSON.stringify(E2E_PROJECT)}`,
    '    tokens:',
    `      - ${JSON.stringify(E2E_TOKEN)}`,
    '    allowed_origins:',
    `      - ${JSON.stringify(pageOrigin)}`,
    '',
  ].join('\n');
}

export function api(baseUrl, token) {
  const headers = { 'X-MTrace-Token': token };
  return {
    async sessions(limit = 100) {
      const r = await getJson(`${baseUrl}/api/stream-sessions?limit=${limit}`, { headers });
      if (r.status !== 200) throw new Error(`GET /api/stream-sessions -> ${r.status} ${r.raw.slice(0, 500)}`);
      return r.body.sessions;
    },
    // {session, events} with every event (follows next_cursor), or null on 404.
    async session(id) {
      const events = [];
      let session = null;
      let cursor = null;
      for (let page = 0; page < 50; page++) {
        const q = `events_limit=1000${cursor ? `&events_cursor=${encodeURIComponent(cursor)}` : ''}`;
        const r = await getJson(`${baseUrl}/api/stream-sessions/${encodeURIComponent(id)}?${q}`, { headers });
        if (r.status === 404) return null;
        if (r.status !== 200) throw new Error(`GET /api/stream-sessions/${id} -> ${r.status} ${r.raw.slice(0, 500)}`);
        session = r.body.session;
        events.push(...(r.body.events ?? []));
        cursor = r.body.next_cursor;
        if (!cursor) break;
      }
      return { session, events };
    },
    postBatch(batch, { token: tok = token, origin, extraHeaders = {}, raw } = {}) {
      const hdrs = { 'Content-Type': 'application/json', ...extraHeaders };
      if (tok !== null) hdrs['X-MTrace-Token'] = tok;
      if (origin) hdrs.Origin = origin;
      return request(`${baseUrl}/api/playback-events`, {
        method: 'POST', headers: hdrs, body: raw ?? JSON.stringify(batch),
      });
    },
  };
}

// Polls the session until `pred(detail)` holds; returns the detail. On timeout the message
// names the event counts seen, which is what one needs to debug a missing event.
export async function waitForSession(client, id, pred, { timeoutMs = 20000, what = 'session condition' } = {}) {
  let last = null;
  try {
    return await pollUntil(async () => {
      last = await client.session(id);
      return last && pred(last) ? last : null;
    }, { timeoutMs, intervalMs: 250, what });
  } catch (err) {
    err.message += `\n  session: ${JSON.stringify(last?.session ?? null)}\n  events: ${JSON.stringify(countNames(last?.events ?? []))}`;
    throw err;
  }
}

export function countNames(events) {
  const n = {};
  for (const e of events) n[e.event_name] = (n[e.event_name] ?? 0) + 1;
  return n;
}

export const named = (events, name) => events.filter((e) => e.event_name === name);

// A wire event per m-trace's event-schema.json.
export function wireEvent(over = {}) {
  return {
    event_name: 'playback_started',
    project_id: 'demo',
    session_id: 'e2e-session',
    client_timestamp: new Date().toISOString(),
    sdk: { name: '@avtrace/e2e', version: '0.0.1' },
    ...over,
  };
}

// Registers before/after hooks that start the media server (pages, SDK bundle, streams), avtrace
// configured for the media origin, and Chromium, and tear them down again; the temp dir is kept
// when anything failed (set `lab.failed = true` in a test). The returned object's fields are
// filled in before the first test runs.
export function useE2eLab() {
  const lab = { root: null, media: null, server: null, client: null, browser: null, failed: false };
  before(async () => {
    try {
      lab.root = makeE2eRoot();
      lab.media = await startMediaServer(lab.root);
      lab.server = await startServer({ root: lab.root, config: projectConfigYaml(lab.media.origin) });
      lab.client = api(lab.server.http, E2E_TOKEN);
      lab.browser = await launchBrowser();
    } catch (err) {
      lab.failed = true;  // keep the temp dir: the server log is there
      throw err;
    }
  });
  after(async () => {
    await lab.browser?.close().catch(() => {});
    await lab.media?.close().catch(() => {});
    if (lab.server) {
      const st = await lab.server.stop();
      if (st.code !== 0) {
        lab.failed = true;
        console.error(`# avtrace exited ${JSON.stringify(st)}; log ${lab.server.logPath}`);
      }
    }
    finishE2eRoot(lab.root, { failed: lab.failed });
  });
  return lab;
}
