import { describe, expect, it } from 'vitest';
import { testEnv } from '../test/helpers';
import { TRACEPARENT_RE, createSessionId, createSpanId, createTraceId, fnv1a32, formatTraceparent, isSessionSampled } from './ids';

describe('ids', () => {
  it('session ids are RFC 4122 v4 UUIDs, unique, and fit CMCD sid and the webrtc run-id pattern', () => {
    const env = testEnv();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = createSessionId(env);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(id).toMatch(/^[a-z0-9_-]{1,64}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(200);
  });

  it('traceparent is W3C version 00 with a 32-hex trace id, a 16-hex span id and sampled flags', () => {
    const env = testEnv();
    const t = createTraceId(env);
    const a = formatTraceparent(t, createSpanId(env), true);
    const b = formatTraceparent(t, createSpanId(env), false);
    expect(a).toMatch(TRACEPARENT_RE);
    expect(b).toMatch(TRACEPARENT_RE);
    expect(a).toHaveLength(55);
    expect(a.endsWith('-01')).toBe(true);
    expect(b.endsWith('-00')).toBe(true);
    expect(a.split('-')[1]).toBe(b.split('-')[1]);
    expect(a.split('-')[2]).not.toBe(b.split('-')[2]);
  });

  it('never returns an all-zero trace or span id', () => {
    let calls = 0;
    const env = testEnv({ randomBytes: (n) => new Uint8Array(n).fill(calls++ === 0 ? 0 : 1) });
    expect(createTraceId(env)).toBe('01'.repeat(16));
    expect(TRACEPARENT_RE.test(`00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`)).toBe(false);
  });

  it('FNV-1a matches the reference vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('session sampling is deterministic per id and close to the rate over many ids', () => {
    const env = testEnv();
    const ids = Array.from({ length: 20000 }, () => createSessionId(env));
    for (const rate of [0.1, 0.5]) {
      const a = ids.map((id) => isSessionSampled(id, rate));
      const b = ids.map((id) => isSessionSampled(id, rate));
      expect(a).toEqual(b);
      const frac = a.filter(Boolean).length / ids.length;
      expect(Math.abs(frac - rate)).toBeLessThan(0.02);
    }
    // Monotone in the rate: a session sampled at 10 % is also sampled at 50 %.
    for (const id of ids.slice(0, 2000)) if (isSessionSampled(id, 0.1)) expect(isSessionSampled(id, 0.5)).toBe(true);
    expect(isSessionSampled('x', 1)).toBe(true);
    expect(isSessionSampled('x', 0)).toBe(false);
  });
});
