/**
 * RtcDeltaEngine: turns successive RTCPeerConnection.getStats() reports into one flat meta map per
 * interval. Pure (no timers, no I/O): the poller feeds it reports and a monotonic time.
 *
 * Cumulative counters become per-interval deltas consistently:
 * - streams are keyed by direction, kind and SSRC; the first report is a baseline (no deltas);
 * - a stream first seen later is new: its whole counter value is its delta (it started from 0);
 * - a stream whose packetsReceived/bytesReceived (or packetsSent/bytesSent) went down was reset
 *   (renegotiation, SSRC reuse): it is re-based on zero and counted in rtc.counter_resets;
 * - packetsLost may fall legitimately (late packets); deltas use a high-water mark so they are
 *   never negative and never counted twice;
 * - streams that disappear are forgotten.
 * Hence Σ deltas over a session equals the true change of every counter, and the m-trace
 * cumulative fields (webrtc.packets_lost / bytes_received / bytes_sent) are running sums of the
 * deltas: monotonic even across resets, as m-trace's server-side delta logic expects.
 *
 * Units: W3C times are seconds; the meta uses ms. Rates: kbps. Percentages: 0..100.
 */
import type { Meta } from '../wire';

export interface StatLike {
  id: string;
  type: string;
  [k: string]: any;
}

export type StatsReportLike = Iterable<StatLike> | { forEach(cb: (s: StatLike) => void): void };

const IN_COUNTERS = [
  'packetsReceived',
  'packetsLost',
  'bytesReceived',
  'nackCount',
  'pliCount',
  'firCount',
  'framesDecoded',
  'framesDropped',
  'freezeCount',
  'totalFreezesDuration',
  'jitterBufferDelay',
  'jitterBufferEmittedCount',
  'concealedSamples',
  'totalSamplesReceived',
];
const OUT_COUNTERS = ['packetsSent', 'bytesSent', 'nackCount', 'pliCount'];

/** Per-interval delta outputs: [meta key, aggregate ('' = all inbound, 'video', 'out'), counter]. */
const DELTA_KEYS: Array<[string, string, string]> = [
  ['rtc.packets_received', '', 'packetsReceived'],
  ['rtc.packets_lost', '', 'packetsLost'],
  ['rtc.bytes_received', '', 'bytesReceived'],
  ['rtc.nack_count', '', 'nackCount'],
  ['rtc.pli_count', '', 'pliCount'],
  ['rtc.fir_count', '', 'firCount'],
  ['rtc.video.frames_decoded', 'video', 'framesDecoded'],
  ['rtc.video.frames_dropped', 'video', 'framesDropped'],
  ['rtc.video.freeze_count', 'video', 'freezeCount'],
  ['rtc.bytes_sent', 'out', 'bytesSent'],
  ['rtc.packets_sent', 'out', 'packetsSent'],
  ['rtc.out.nack_count', 'out', 'nackCount'],
  ['rtc.out.pli_count', 'out', 'pliCount'],
];

type Counters = Record<string, number>;

interface StreamState {
  c: Counters;
  lostHwm: number;
  poll: number;
}

function toArray(report: StatsReportLike): StatLike[] {
  const out: StatLike[] = [];
  if (report && typeof (report as any).forEach === 'function') (report as any).forEach((s: StatLike) => out.push(s));
  else for (const s of report as Iterable<StatLike>) out.push(s);
  return out;
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export interface RtcSampleResult {
  meta: Meta;
  /** Media is arriving: decoded video frames, or received audio packets when there is no video. */
  flowing: boolean;
  /** Freeze delta this interval (for the session's QoE summary). */
  freezeCount: number;
  freezeMs: number;
}

export interface RtcDeltaEngine {
  /** Folds one getStats() report taken at monotonic `nowMs` into the next sample. */
  update(report: StatsReportLike, nowMs: number): RtcSampleResult;
  /** Running sums reported as m-trace's cumulative webrtc.* fields. */
  readonly totals: { packetsLost: number; bytesReceived: number; bytesSent: number };
}

export function createRtcDeltaEngine(): RtcDeltaEngine {
  const streams = new Map<string, StreamState>();
  let polls = 0;
  let lastAt = 0;
  let pair: { id: string; rtt: number; responses: number } | undefined;
  const totals = { packetsLost: 0, bytesReceived: 0, bytesSent: 0 };

  const update = (report: StatsReportLike, nowMs: number): RtcSampleResult => {
    const stats = toArray(report);
    const baseline = polls === 0;
    const poll = ++polls;
    const interval = nowMs - lastAt;
    lastAt = nowMs;
    /** Summed deltas per aggregate: '' (all inbound), 'video', 'audio', 'out'. */
    const agg: Record<string, Counters> = { '': {}, out: {} };
    /** Instantaneous maxima: `${kind}.jitter`, video.fps / width / height; cumulative frames / packets. */
    const inst: Record<string, number> = {};
    const max = (k: string, v: unknown, f = 1) => {
      if (num(v)) inst[k] = Math.max(inst[k] ?? 0, v * f);
    };
    const add = (a: string, k: string, v: number) => {
      const c = (agg[a] ??= {});
      c[k] = (c[k] ?? 0) + v;
    };
    let resets = 0;
    let inbound = 0;
    let dtls: string | undefined;
    let selected: string | undefined;

    /** Per-stream deltas with baseline, new-stream, reset and packetsLost high-water-mark rules. */
    const delta = (key: string, s: StatLike, names: string[], resetOn: [string, string]): Counters => {
      const cur: Counters = {};
      for (const k of names) if (num(s[k])) cur[k] = s[k];
      const st = streams.get(key);
      let prev: Counters = {};
      let hwm = 0;
      if (!st) {
        if (baseline) {
          prev = cur;
          hwm = cur.packetsLost ?? 0;
        }
      } else if ((cur[resetOn[0]] ?? 0) < (st.c[resetOn[0]] ?? 0) || (cur[resetOn[1]] ?? 0) < (st.c[resetOn[1]] ?? 0)) {
        resets++;
      } else {
        prev = st.c;
        hwm = st.lostHwm;
      }
      const d: Counters = {};
      for (const k of Object.keys(cur)) {
        if (k === 'packetsLost') {
          const base = Math.max(hwm, prev.packetsLost ?? 0, 0);
          d[k] = Math.max(0, cur[k] - base);
          hwm = Math.max(base, cur[k]);
        } else d[k] = Math.max(0, cur[k] - (prev[k] ?? 0));
      }
      streams.set(key, { c: cur, lostHwm: hwm, poll });
      // The baseline counts what accrued before attach into the cumulative totals.
      return baseline ? Object.fromEntries(Object.keys(cur).map((k) => [k, Math.max(0, cur[k])])) : d;
    };

    for (const s of stats) {
      const kind: string = s.kind ?? s.mediaType ?? 'video';
      if (s.type === 'inbound-rtp') {
        inbound++;
        const d = delta(`in:${kind}:${s.ssrc ?? s.id}`, s, IN_COUNTERS, ['packetsReceived', 'bytesReceived']);
        totals.packetsLost += d.packetsLost ?? 0;
        totals.bytesReceived += d.bytesReceived ?? 0;
        if (!baseline) for (const k of Object.keys(d)) add('', k, d[k]), add(kind, k, d[k]);
        add(kind, 'cumFrames', num(s.framesDecoded) ? s.framesDecoded : 0);
        add(kind, 'cumPackets', num(s.packetsReceived) ? s.packetsReceived : 0);
        max(`${kind}.jitter`, s.jitter, 1000);
        max(`${kind}.fps`, s.framesPerSecond);
        max(`${kind}.width`, s.frameWidth);
        max(`${kind}.height`, s.frameHeight);
      } else if (s.type === 'outbound-rtp') {
        const d = delta(`out:${kind}:${s.ssrc ?? s.id}`, s, OUT_COUNTERS, ['packetsSent', 'bytesSent']);
        totals.bytesSent += d.bytesSent ?? 0;
        if (!baseline) for (const k of Object.keys(d)) add('out', k, d[k]);
      } else if (s.type === 'remote-inbound-rtp') {
        max('remote.rtt', s.roundTripTime, 1000);
        max('remote.loss', s.fractionLost, 100);
      } else if (s.type === 'transport') {
        if (typeof s.dtlsState === 'string') dtls = s.dtlsState;
        if (typeof s.selectedCandidatePairId === 'string') selected = s.selectedCandidatePairId;
      }
    }
    for (const [k, st] of streams) if (st.poll !== poll) streams.delete(k);

    const p =
      stats.find((s) => s.type === 'candidate-pair' && s.id === selected) ??
      stats.find((s) => s.type === 'candidate-pair' && (s.selected === true || (s.nominated === true && s.state === 'succeeded')));

    const m: Meta = {
      'webrtc.packets_lost': Math.round(totals.packetsLost),
      'webrtc.bytes_received': Math.round(totals.bytesReceived),
      'webrtc.bytes_sent': Math.round(totals.bytesSent),
      'rtc.inbound_streams': inbound,
    };
    if (dtls) m['webrtc.dtls_state'] = dtls;
    for (const k of ['video', 'audio']) if (`${k}.jitter` in inst) m[`rtc.${k}.jitter_ms`] = r1(inst[`${k}.jitter`]);
    for (const k of ['width', 'height']) if (inst[`video.${k}`]) m[`rtc.video.${k}`] = inst[`video.${k}`];
    if ('video.fps' in inst) m['rtc.video.fps'] = r1(inst['video.fps']);
    if ('remote.rtt' in inst) m['rtc.remote.rtt_ms'] = r1(inst['remote.rtt']);
    if ('remote.loss' in inst) m['rtc.remote.loss_pct'] = r2(inst['remote.loss']);

    if (p) {
      const tot = p.totalRoundTripTime;
      const resp = p.responsesReceived;
      let rtt: number | undefined;
      if (pair && pair.id === p.id && num(tot) && num(resp) && resp > pair.responses) {
        rtt = ((tot - pair.rtt) / (resp - pair.responses)) * 1000;
      } else if (num(p.currentRoundTripTime)) rtt = p.currentRoundTripTime * 1000;
      if (rtt !== undefined && rtt >= 0) m['rtc.rtt_ms'] = r1(rtt);
      if (num(tot) && num(resp)) pair = { id: p.id, rtt: tot, responses: resp };
      if (num(p.availableIncomingBitrate)) m['rtc.available_incoming_kbps'] = Math.round(p.availableIncomingBitrate / 1000);
      if (num(p.availableOutgoingBitrate)) m['rtc.available_outgoing_kbps'] = Math.round(p.availableOutgoingBitrate / 1000);
    }

    const video = agg.video;
    let freezeCount = 0;
    let freezeMs = 0;
    if (!baseline) {
      m['rtc.interval_ms'] = Math.round(interval);
      for (const [key, a, c] of DELTA_KEYS) {
        if (a === '' || (agg[a] && c in agg[a])) m[key] = agg[a]?.[c] ?? 0;
      }
      const all = agg[''];
      const recv = all.packetsReceived ?? 0;
      const lost = all.packetsLost ?? 0;
      if (recv + lost > 0) m['rtc.loss_pct'] = r2((lost * 100) / (recv + lost));
      if (interval > 0) {
        m['rtc.recv_kbps'] = r1(((all.bytesReceived ?? 0) * 8) / interval);
        if (agg.out.bytesSent !== undefined) m['rtc.send_kbps'] = r1((agg.out.bytesSent * 8) / interval);
        if (video?.framesDecoded !== undefined && !('video.fps' in inst)) m['rtc.video.fps'] = r1((video.framesDecoded * 1000) / interval);
      }
      if (video) {
        freezeCount = video.freezeCount ?? 0;
        freezeMs = Math.round((video.totalFreezesDuration ?? 0) * 1000);
        if ('freezeCount' in video) m['rtc.video.freeze_ms'] = freezeMs;
      }
      for (const k of ['video', 'audio']) {
        const a = agg[k];
        if (a?.jitterBufferEmittedCount) m[`rtc.${k}.jitter_buffer_ms`] = r1(((a.jitterBufferDelay ?? 0) / a.jitterBufferEmittedCount) * 1000);
      }
      const audio = agg.audio;
      if (audio?.totalSamplesReceived) m['rtc.audio.concealed_pct'] = r2(((audio.concealedSamples ?? 0) * 100) / audio.totalSamplesReceived);
      if (resets > 0) m['rtc.counter_resets'] = resets;
    }

    const flowing = video ? video.cumFrames > 0 : (agg.audio?.cumPackets ?? 0) > 0;
    return { meta: m, flowing, freezeCount, freezeMs };
  };
  return { update, totals };
}
