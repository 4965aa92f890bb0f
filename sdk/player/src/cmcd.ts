/**
 * CMCD v1 (CTA-5004) encoding: the query-argument form (`CMCD=<url-encoded payload>`) and the
 * four-header form (CMCD-Object, CMCD-Request, CMCD-Session, CMCD-Status).
 *
 * Rules implemented (CTA-5004 §3, and common-media-library's v1 encoder, which the tests compare
 * against key by key):
 * - keys sorted alphabetically, joined with ","; `key=value`; a true boolean is the bare key and
 *   false is omitted;
 * - integers: br, d, tb rounded to the nearest integer; bl, dl, mtp, rtp to the nearest 100;
 * - strings (cid, sid, nor, nrr) double-quoted with `\` and `"` escaped; `nor` URL-encoded;
 * - tokens (ot, sf, st) bare; pr a decimal with at most 3 fractional digits, omitted when 1;
 *   v omitted when 1; negative, non-finite and empty values omitted.
 */

export type CmcdObjectType = 'm' | 'a' | 'v' | 'av' | 'i' | 'c' | 'tt' | 'k' | 'o';
export type CmcdStreamingFormat = 'd' | 'h' | 's' | 'o';
export type CmcdStreamType = 'v' | 'l';

export interface CmcdData {
  /** Encoded bitrate of the object, kbps. */
  br?: number;
  /** Buffer length, ms. */
  bl?: number;
  /** Buffer starvation since the previous request. */
  bs?: boolean;
  /** Content id, ≤ 64 characters. */
  cid?: string;
  /** Object duration, ms. */
  d?: number;
  /** Deadline, ms. */
  dl?: number;
  /** Measured throughput, kbps. */
  mtp?: number;
  /** Next object request, relative URL. */
  nor?: string;
  /** Next range request, "<start>-<end>". */
  nrr?: string;
  ot?: CmcdObjectType;
  /** Playback rate. */
  pr?: number;
  /** Requested maximum throughput, kbps. */
  rtp?: number;
  sf?: CmcdStreamingFormat;
  /** Session id, ≤ 64 characters. */
  sid?: string;
  st?: CmcdStreamType;
  /** Startup: the object is needed urgently (startup, seek, recovery after starvation). */
  su?: boolean;
  /** Top bitrate available, kbps. */
  tb?: number;
  v?: number;
}

export type CmcdShard = 'CMCD-Object' | 'CMCD-Request' | 'CMCD-Session' | 'CMCD-Status';

const SHARD: Record<keyof CmcdData, CmcdShard> = {
  br: 'CMCD-Object',
  d: 'CMCD-Object',
  ot: 'CMCD-Object',
  tb: 'CMCD-Object',
  bl: 'CMCD-Request',
  dl: 'CMCD-Request',
  mtp: 'CMCD-Request',
  nor: 'CMCD-Request',
  nrr: 'CMCD-Request',
  su: 'CMCD-Request',
  cid: 'CMCD-Session',
  pr: 'CMCD-Session',
  sf: 'CMCD-Session',
  sid: 'CMCD-Session',
  st: 'CMCD-Session',
  v: 'CMCD-Session',
  bs: 'CMCD-Status',
  rtp: 'CMCD-Status',
};

const ROUND_1 = new Set(['br', 'd', 'tb']);
const ROUND_100 = new Set(['bl', 'dl', 'mtp', 'rtp']);
const STRINGS = new Set(['cid', 'sid', 'nor', 'nrr']);
const TOKENS = new Set(['ot', 'sf', 'st']);
const BOOLS = new Set(['bs', 'su']);
const MAX_ID = 64;

/** Characters a structured-field string may hold are printable ASCII; others are %-encoded. */
function sfString(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += c >= 0x20 && c <= 0x7e && ch.length === 1 ? ch : encodeURIComponent(ch);
  }
  return '"' + out.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** One `key[=value]` member, or undefined when the value is to be omitted. */
function member(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === false || value === '') return undefined;
  if (BOOLS.has(key)) return value === true ? key : undefined;
  if (STRINGS.has(key)) {
    if (typeof value !== 'string') return undefined;
    let s = value;
    if (key === 'nor') s = encodeURIComponent(s);
    if ((key === 'sid' || key === 'cid') && s.length > MAX_ID) s = s.slice(0, MAX_ID);
    return `${key}=${sfString(s)}`;
  }
  if (TOKENS.has(key)) return typeof value === 'string' && /^[a-z]+$/.test(value) ? `${key}=${value}` : undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  if (ROUND_1.has(key)) return `${key}=${Math.round(value)}`;
  if (ROUND_100.has(key)) return `${key}=${Math.round(value / 100) * 100}`;
  if (key === 'pr') {
    const r = Math.round(value * 1000) / 1000;
    return r === 1 ? undefined : `${key}=${r}`;
  }
  if (key === 'v') return value === 1 ? undefined : `${key}=${Math.round(value)}`;
  return undefined; // not a v1 key
}

function members(data: CmcdData, shard?: CmcdShard): string[] {
  const out: string[] = [];
  for (const key of Object.keys(data).sort()) {
    if (!(key in SHARD)) continue;
    if (shard && SHARD[key as keyof CmcdData] !== shard) continue;
    const m = member(key, (data as Record<string, unknown>)[key]);
    if (m !== undefined) out.push(m);
  }
  return out;
}

/** The CMCD payload, e.g. `bl=21300,br=3200,bs,cid="c1",d=4004,ot=v,sf=d,sid="s",su`. */
export function encodeCmcd(data: CmcdData): string {
  return members(data).join(',');
}

/** The header form; shards with no member are left out. */
export function toCmcdHeaders(data: CmcdData): Partial<Record<CmcdShard, string>> {
  const out: Partial<Record<CmcdShard, string>> = {};
  for (const shard of ['CMCD-Object', 'CMCD-Request', 'CMCD-Session', 'CMCD-Status'] as CmcdShard[]) {
    const m = members(data, shard);
    if (m.length > 0) out[shard] = m.join(',');
  }
  return out;
}

const CMCD_PARAM = /([?&])CMCD=[^&#]*/;

/**
 * Adds (or replaces) the `CMCD` query argument, keeping any fragment at the end. Returns `url`
 * unchanged when there is nothing to send.
 */
export function appendCmcdQuery(url: string, data: CmcdData): string {
  const payload = encodeCmcd(data);
  if (payload === '') return url;
  const arg = 'CMCD=' + encodeURIComponent(payload);
  if (CMCD_PARAM.test(url)) return url.replace(CMCD_PARAM, `$1${arg}`);
  const hash = url.indexOf('#');
  const head = hash >= 0 ? url.slice(0, hash) : url;
  const tail = hash >= 0 ? url.slice(hash) : '';
  return head + (head.includes('?') ? '&' : '?') + arg + tail;
}
