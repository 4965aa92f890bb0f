import { describe, expect, it } from 'vitest';
import { REDACTED, redactUrl, sanitizeMeta, scrubText } from './redact';

describe('redactUrl (m-trace rules)', () => {
  const cases: Array<[string, string]> = [
    ['https://cdn.example/live/index.m3u8?token=abc#t=10', 'https://cdn.example/live/index.m3u8'],
    ['https://user:pass@cdn.example:8443/a/b.ts', 'https://cdn.example:8443/a/b.ts'],
    ['https://cdn.example/v/abcdefghijklmnopqrstuvwxyz012345/seg1.m4s', 'https://cdn.example/v/:redacted/seg1.m4s'],
    ['https://cdn.example/0123456789abcdef0123456789abcdef/x.ts', 'https://cdn.example/:redacted/x.ts'],
    ['https://cdn.example/eyJhbGciOi.eyJzdWIiOjF9.c2lnbmF0dXJl/x.ts', 'https://cdn.example/:redacted/x.ts'],
    ['https://cdn.example/bad%E0%A4%A/x.ts', 'https://cdn.example/:redacted/x.ts'],
    ['https://cdn.example/segment_000123.m4s', 'https://cdn.example/segment_000123.m4s'],
    ['https://cdn.example/a-short-path/variant_720p/chunk-1.ts', 'https://cdn.example/a-short-path/variant_720p/chunk-1.ts'],
    ['not a url', REDACTED],
    ['', REDACTED],
  ];
  it.each(cases)('%s → %s', (input, want) => {
    expect(redactUrl(input)).toBe(want);
  });

  it('resolves relative URLs against a base, and is idempotent', () => {
    expect(redactUrl('seg.ts?sig=1', 'https://cdn.example/live/index.m3u8')).toBe('https://cdn.example/live/seg.ts');
    for (const [input] of cases) expect(redactUrl(redactUrl(input))).toBe(redactUrl(input));
  });
});

describe('sanitizeMeta', () => {
  it('keeps flat primitives, drops objects, arrays, undefined, functions and non-finite numbers', () => {
    const m = sanitizeMeta({ a: 1, b: 'x', c: true, d: null, e: { x: 1 }, f: [1], g: undefined, h: () => 1, i: NaN, j: Infinity });
    expect(m).toEqual({ a: 1, b: 'x', c: true, d: null });
  });

  it('redacts URL-valued keys and URLs inside free text', () => {
    const m = sanitizeMeta({
      manifest_url: 'https://cdn.example/x.m3u8?token=secret',
      'request.url': 'https://u:p@cdn.example/y.ts',
      note: 'failed at https://cdn.example/z.ts?sig=abc then retried',
    })!;
    expect(m.manifest_url).toBe('https://cdn.example/x.m3u8');
    expect(m['request.url']).toBe('https://cdn.example/y.ts');
    expect(m.note).toBe('failed at https://cdn.example/z.ts then retried');
    expect(JSON.stringify(m)).not.toContain('secret');
  });

  it('drops reserved keys that the server would reject with 422', () => {
    const m = sanitizeMeta({
      'network.kind': 'playlist',
      'network.detail_status': 'available',
      'network.unavailable_reason': 'cors_timing_blocked',
      'webrtc.custom': 1,
      'webrtc.packets_lost': -1,
      'webrtc.sample_id': 3,
      'webrtc.ice_state': 'weird',
      'timing.ttfb_ms': 12,
      'timing.start': 'yesterday',
      'timing.at': '2026-01-02T03:04:05.678Z',
      session_sample_rate: 0,
      custom: 'kept',
    });
    expect(m).toEqual({
      'network.detail_status': 'available',
      'webrtc.sample_id': 3,
      'timing.ttfb_ms': 12,
      'timing.at': '2026-01-02T03:04:05.678Z',
      custom: 'kept',
    });
  });

  it('keeps unavailable_reason only with detail_status=network_detail_unavailable', () => {
    expect(
      sanitizeMeta({ 'network.detail_status': 'network_detail_unavailable', 'network.unavailable_reason': 'cors_timing_blocked' }),
    ).toEqual({ 'network.detail_status': 'network_detail_unavailable', 'network.unavailable_reason': 'cors_timing_blocked' });
  });

  it('bounds strings and applies a custom redactor', () => {
    const m = sanitizeMeta({ long: 'x'.repeat(5000), email: 'a@b.c', keep: 'k' }, undefined, (k, v) =>
      k === 'email' ? undefined : v.toUpperCase(),
    )!;
    expect((m.long as string).length).toBe(1024);
    expect(m.email).toBeUndefined();
    expect(m.keep).toBe('K');
  });

  it('scrubText truncates to 256 characters and redacts URLs', () => {
    expect(scrubText('x'.repeat(300))!.length).toBe(256);
    expect(scrubText('GET https://a.example/p?q=1 failed')).toBe('GET https://a.example/p failed');
    expect(scrubText(undefined)).toBeUndefined();
  });
});
