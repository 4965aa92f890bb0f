// Live probes end to end: real ffmpeg live HLS (behind a Multivariant Playlist) and live DASH,
// served on 127.0.0.1 by a server that can freeze a manifest; avtrace probes them (config probes
// and API probes), the results go through the pipeline into the store and come back through
// /api/v1/probes, /api/v1/logs and /api/v1/metrics; API probes survive a restart; a request can
// never lift the private-address block.
//
// Run: node --test test/integration/probes.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { MIME, startFfmpeg, waitForStream } from '../e2e/harness.mjs';
import { getJson, makeTempRoot, pollUntil, removeTempRoot, request, startServer } from './harness.mjs';


let root;
let media;  // {url, frozen: Map<path, text>, close()}
let streams = [];

// Serves <root>/media; a path in `frozen` keeps answering the text it had when frozen.
function startMedia(dir) {
  const frozen = new Map();
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (p === '/master.m3u8') {
      res.writeHead(200, { 'Content-Type': MIME['.m3u8'] });
      res.end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=600000,CODECS="avc1.42c00d,mp4a.40.2"\nhls/live.m3u8\n');
      return;
    }
    const file = path.join(dir, path.normalize(p));
    let body = frozen.get(p);
    if (body === undefined) {
      try {
        body = fs.readFileSync(file);
      } catch {
        res.writeHead(404).end();
        return;
      }
    }
    res.writeHead(200, { 'Content-Type': MIME[path.extname(p)] ?? 'application/octet-stream' });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url: base,
        freeze: (p) => frozen.set(p, fs.readFileSync(path.join(dir, p))),
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}

before(async () => {
  root = makeTempRoot('avtrace-probes-');
  const dir = path.join(root, 'media');
  streams = [startFfmpeg('hls_ts', path.join(dir, 'hls')), startFfmpeg('dash', path.join(dir, 'dash'))];
  await Promise.all(streams.map((s) => waitForStream(s, { segments: 2 })));
  media = await startMedia(dir);
});

after(async () => {
  await Promise.all(streams.map((s) => s.stop()));
  await media?.close();
  removeTempRoot(root);
});

const probe = async (server, name) => (await getJson(`${server.http}/api/v1/probes/${name}`)).body;

test('config probes follow live HLS and DASH; a frozen playlist goes stale and it is stored', async () => {
  const server = await startServer({
    root: path.join(root, 's1'),
    config: {
      probe_settings: { allow_private: true, metrics_interval: '1s' },
      probes: [
        { name: 'hls', url: `${media.url}/master.m3u8` },
        { name: 'dash', url: `${media.url}/dash/live.mpd` },
      ],
    },
  });
  try {
    const ok = await pollUntil(async () => {
      const { body } = await getJson(`${server.http}/api/v1/probes`);
      const byName = Object.fromEntries(body.probes.map((p) => [p.name, p]));
      const live = (p) => p?.state === 'ok' && p.playlists.some((l) => l.newSegments >= 2);
      return live(byName.hls) && live(byName.dash) ? byName : null;
    }, { timeoutMs: 30000, intervalMs: 250, what: 'both probes ok with new segments' });

    assert.equal(ok.hls.kind, 'hls-multivariant');
    assert.equal(ok.hls.source, 'config');
    const variant = ok.hls.playlists.find((l) => l.role === 'variant');
    assert.equal(variant.url, `${media.url}/hls/live.m3u8`);
    assert.equal(variant.format, 'hls');
    assert.ok(variant.mediaSequence >= 0);
    assert.equal(variant.segmentFailures, 0);
    assert.equal(variant.lastError, '');
    // Outside-in latency from PROGRAM-DATE-TIME: ffmpeg dates segments as it writes them.
    assert.ok(variant.latencySeconds > -2 && variant.latencySeconds < 10, `latency ${variant.latencySeconds}`);
    assert.equal(ok.dash.kind, 'dash');
    assert.equal(ok.dash.playlists[0].format, 'dash');
    assert.ok(ok.dash.playlists[0].latencySeconds !== null);
    assert.equal(ok.dash.playlists[0].segmentFailures, 0);
    // Real ffmpeg output raises no errors.
    for (const p of [ok.hls, ok.dash]) {
      const errors = p.recentFindings.filter((f) => f.level === 'error');
      assert.deepEqual(errors, [], `${p.name}: ${JSON.stringify(errors)}`);
    }

    // Freeze the HLS media playlist: after 1.5 x 1 s target duration it is stale.
    media.freeze('/hls/live.m3u8');
    const stale = await pollUntil(async () => {
      const p = await probe(server, 'hls');
      return p.state === 'stale' ? p : null;
    }, { timeoutMs: 15000, intervalMs: 200, what: 'hls probe stale' });
    assert.ok(stale.recentFindings.some((f) => f.rule === 'live_playlist_stale' && f.level === 'error'));
    assert.equal((await probe(server, 'dash')).state, 'ok');

    // Stored: the finding as a log record, the state as metric points.
    const logs = await pollUntil(async () => {
      const { body } = await getJson(
        `${server.http}/api/v1/logs?service=avtrace-probe&attr=rule.id=live_playlist_stale&limit=10`);
      const recs = body.resourceLogs?.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)) ?? [];
      return recs.length ? recs : null;
    }, { timeoutMs: 10000, what: 'stored stale finding' });
    assert.equal(logs[0].severityText, 'ERROR');
    assert.match(logs[0].body.stringValue, /No new segment for/);
    const attr = Object.fromEntries(logs[0].attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    assert.equal(attr['probe.name'], 'hls');
    assert.equal(attr['probe.playlist'], `${media.url}/hls/live.m3u8`);
    assert.equal(attr['rule.spec'], 'RFC8216bis §6.2.1, §6.3.4; ISO/IEC 23009-1 §5.4');

    const series = await pollUntil(async () => {
      const { status, body } = await getJson(
        `${server.http}/api/v1/metrics/avtrace.probe.stale/series?match=probe.name=hls`);
      if (status !== 200) return null;
      const pts = body.series.flatMap((s) => s.points);
      return pts.some((p) => p.v === 1) && pts.some((p) => p.v === 0) ? pts : null;
    }, { timeoutMs: 10000, what: 'avtrace.probe.stale went 0 -> 1 in the store' });
    assert.ok(series.length >= 2);
    const { body: rate } = await getJson(
      `${server.http}/api/v1/metrics/avtrace.probe.segments.new/series?match=probe.name=dash&fn=last&step=1m`);
    assert.ok(rate.series.length >= 1);
    const { body: list } = await getJson(`${server.http}/api/v1/metrics?prefix=avtrace.probe.`);
    const names = list.metrics.map((m) => m.name);
    for (const n of ['avtrace.probe.up', 'avtrace.probe.latency', 'avtrace.probe.reloads', 'avtrace.probe.findings'])
      assert.ok(names.includes(n), `${n} in ${names}`);
    // Self-telemetry.
    const prom = await (await fetch(`${server.http}/metrics`)).text();
    assert.match(prom, /avtrace_probe_reloads_total\{result="ok"\} [1-9]/);
    assert.match(prom, /avtrace_probes 2/);
    assert.match(prom, /avtrace_probe_segment_checks_total\{result="ok"\} [1-9]/);
    assert.match(prom, /avtrace_probe_segment_checks_total\{result="error"\} 0/);
  } finally {
    await server.stop();
  }
});

test('API probes: add, validate, list, delete, persist across a restart', async () => {
  const sroot = path.join(root, 's2');
  const config = { probe_settings: { allow_private: true }, probes: [{ name: 'cfg', url: `${media.url}/dash/live.mpd` }] };
  let server = await startServer({ root: sroot, config });
  const post = (body) => request(`${server.http}/api/v1/probes`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  try {
    const created = await post({ name: 'api-hls', url: `${media.url}/hls/live.m3u8`, checkSegments: false });
    assert.equal(created.status, 201, created.text());
    assert.equal(created.headers.location, '/api/v1/probes/api-hls');
    const c = JSON.parse(created.text());
    assert.equal(c.source, 'api');
    assert.equal(c.checkSegments, false);

    const cases = [
      [{ name: 'api-hls', url: `${media.url}/x.m3u8` }, 409, /already exists/],
      [{ name: 'x', url: 'ftp://example.com/x.m3u8' }, 400, /url: expected an http/],
      [{ name: 'bad name!', url: `${media.url}/x.m3u8` }, 400, /name: expected/],
      [{ url: `${media.url}/x.m3u8` }, 400, /name: required/],
      [{ name: 'p', url: `${media.url}/x.m3u8`, allowPrivate: true }, 400, /only be allowed in the server's config/],
      [{ name: 'p', url: `${media.url}/x.m3u8`, colour: 'red' }, 400, /unknown key 'colour'/],
      [{ name: 'p', url: `${media.url}/x.m3u8`, maxPlaylists: 0 }, 400, /max_playlists/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(body);
      assert.equal(r.status, status, `${JSON.stringify(body)} -> ${r.text()}`);
      assert.match(JSON.parse(r.text()).error.message, message);
    }
    const notJson = await request(`${server.http}/api/v1/probes`, { method: 'POST', body: '{' });
    assert.equal(notJson.status, 400);

    await pollUntil(async () => (await probe(server, 'api-hls')).state === 'ok', { timeoutMs: 15000, what: 'api probe ok' });
    const del = await request(`${server.http}/api/v1/probes/cfg`, { method: 'DELETE' });
    assert.equal(del.status, 409);
    assert.match(JSON.parse(del.text()).error.message, /comes from the config file/);
    assert.equal((await post({ name: 'gone', url: `${media.url}/hls/live.m3u8` })).status, 201);
    assert.equal((await request(`${server.http}/api/v1/probes/gone`, { method: 'DELETE' })).status, 204);
    assert.equal((await getJson(`${server.http}/api/v1/probes/gone`)).status, 404);
    assert.equal((await request(`${server.http}/api/v1/probes/gone`, { method: 'DELETE' })).status, 404);
  } finally {
    await server.stop();
  }
  server = await startServer({ root: sroot, config });
  try {
    const { body } = await getJson(`${server.http}/api/v1/probes`);
    assert.deepEqual(body.probes.map((p) => [p.name, p.source]), [['api-hls', 'api'], ['cfg', 'config']]);
    assert.equal(body.probes[0].checkSegments, false);
  } finally {
    await server.stop();
  }
});

// A synthetic LL-HLS origin: 1 s segments of four 0.25 s parts, produced on the wall clock, with
// Blocking Playlist Reload (§6.2.5.2): a request for _HLS_msn=N&_HLS_part=M is held until that
// part exists. `honest: false` ignores the directives and answers at once (a broken origin).
function startLlHls({ honest }) {
  const PART = 0.25, PARTS = 4;
  const t0 = Date.now() / 1000 - 10;  // ten segments already produced
  const produced = () => Math.floor((Date.now() / 1000 - t0) / PART);  // complete parts
  const playlist = () => {
    const p = produced();
    const complete = Math.floor(p / PARTS);  // segments 0..complete-1 are complete
    const first = Math.max(0, complete - 6);
    let s = '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n' +
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.75\n' +
      `#EXT-X-PART-INF:PART-TARGET=${PART}\n#EXT-X-MEDIA-SEQUENCE:${first}\n` +
      `#EXT-X-PROGRAM-DATE-TIME:${new Date((t0 + first) * 1000).toISOString()}\n`;
    const parts = (n, count) => {
      let out = '';
      for (let k = 0; k < count; k++)
        out += `#EXT-X-PART:DURATION=${PART},URI="part${n}.${k}.ts"${k === 0 ? ',INDEPENDENT=YES' : ''}\n`;
      return out;
    };
    for (let n = first; n < complete; n++) s += (n >= complete - 2 ? parts(n, PARTS) : '') + `#EXTINF:1.00000,\nseg${n}.ts\n`;
    s += parts(complete, p - complete * PARTS);
    return { text: s + `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part${complete}.${p - complete * PARTS}.ts"\n`, complete, trailing: p - complete * PARTS };
  };
  const directives = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname.endsWith('.ts')) {
      res.writeHead(200, { 'Content-Type': 'video/mp2t' });
      res.end(Buffer.alloc(1024, 0x47));
      return;
    }
    const msn = u.searchParams.get('_HLS_msn');
    const part = u.searchParams.get('_HLS_part');
    if (msn !== null) directives.push([Number(msn), part === null ? null : Number(part)]);
    const deadline = Date.now() + 3000;
    const answer = () => {
      const pl = playlist();
      const ready = msn === null || !honest || pl.complete > Number(msn) ||
        (part !== null && pl.complete === Number(msn) && pl.trailing > Number(part));
      if (!ready && Date.now() < deadline) return setTimeout(answer, 20);
      res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl', 'Cache-Control': 'no-cache' });
      res.end(pl.text);
    };
    answer();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/ll/index.m3u8`,
    directives,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

test('LL-HLS: blocking reloads for the next part over real HTTP; an origin that ignores them is reported', async () => {
  const good = await startLlHls({ honest: true });
  const bad = await startLlHls({ honest: false });
  const server = await startServer({
    root: path.join(root, 's5'),
    config: {
      probe_settings: { allow_private: true, metrics_interval: '1s' },
      probes: [{ name: 'll-good', url: good.url }, { name: 'll-bad', url: bad.url }],
    },
  });
  try {
    const g = await pollUntil(async () => {
      const p = await probe(server, 'll-good');
      return p.playlists[0].newSegments >= 3 ? p : null;
    }, { timeoutMs: 20000, intervalMs: 200, what: 'LL-HLS probe saw 3 new segments' });
    assert.equal(g.state, 'ok');
    assert.equal(g.playlists[0].blockingReloads, true);
    // Part by part: many more reloads than segments, each one asking for the next part.
    assert.ok(g.playlists[0].reloads >= 3 * g.playlists[0].newSegments, JSON.stringify(g.playlists[0]));
    assert.ok(good.directives.length >= 8);
    assert.ok(good.directives.every(([, part]) => part !== null && part >= 0 && part < 4));
    const bad_rules = (p) => p.recentFindings.filter((f) => f.level !== 'info').map((f) => f.rule);
    assert.deepEqual(bad_rules(g), [], JSON.stringify(g.recentFindings));

    const b = await pollUntil(async () => {
      const p = await probe(server, 'll-bad');
      return p.recentFindings.some((f) => f.rule === 'live_blocking_reload_unsatisfied') ? p : null;
    }, { timeoutMs: 10000, intervalMs: 200, what: 'unsatisfied blocking reload reported' });
    const f = b.recentFindings.find((x) => x.rule === 'live_blocking_reload_unsatisfied');
    assert.equal(f.level, 'error');
    assert.equal(f.spec, 'RFC8216bis §6.2.5.2');
    assert.match(f.message, /_HLS_msn=\d+&_HLS_part=\d+ was answered/);
  } finally {
    await server.stop();
    await good.close();
    await bad.close();
  }
});

test('SIGTERM while a probe waits on a hanging origin exits 0 promptly', async () => {
  let requests = 0;
  const hang = http.createServer(() => { requests++; });  // never answers
  await new Promise((r) => hang.listen(0, '127.0.0.1', r));
  const server = await startServer({
    root: path.join(root, 's6'),
    config: {
      probe_settings: { allow_private: true, timeout: '60s' },
      probes: [{ name: 'hang', url: `http://127.0.0.1:${hang.address().port}/live.m3u8` }],
    },
  });
  try {
    await pollUntil(() => requests > 0, { timeoutMs: 10000, what: 'the probe request reached the origin' });
    const t0 = Date.now();
    const st = await server.stop({ timeoutMs: 20000 });
    assert.equal(st.code, 0, server.logTail());
    assert.equal(st.escalated, false);
    assert.ok(Date.now() - t0 < 5000, `shutdown took ${Date.now() - t0} ms`);
  } finally {
    hang.closeAllConnections();
    await new Promise((r) => hang.close(r));
  }
});

test('without allow_private a probe of a loopback origin is refused by the fetcher, whatever the request says', async () => {
  const server = await startServer({ root: path.join(root, 's3'), config: { probe_settings: { api_writes: true } } });
  try {
    const r = await request(`${server.http}/api/v1/probes`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'local', url: `${media.url}/hls/live.m3u8` }),
    });
    assert.equal(r.status, 201);
    const p = await pollUntil(async () => {
      const s = await probe(server, 'local');
      return s.state === 'failing' ? s : null;
    }, { timeoutMs: 10000, what: 'probe failing' });
    assert.match(p.playlists[0].lastError, /blocked address range/);
    assert.ok(p.recentFindings.some((f) => f.rule === 'live_reload_failed'));
  } finally {
    await server.stop();
  }
  const locked = await startServer({ root: path.join(root, 's4'), config: { probe_settings: { api_writes: false } } });
  try {
    const r = await request(`${locked.http}/api/v1/probes`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'x', url: 'https://example.com/x.m3u8' }),
    });
    assert.equal(r.status, 403);
    assert.equal((await getJson(`${locked.http}/api/v1/probes`)).body.probes.length, 0);
  } finally {
    await locked.stop();
  }
});
