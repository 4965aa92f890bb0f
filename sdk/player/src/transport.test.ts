import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { testEnv, useFakeClock } from '../test/helpers';
import { classifyStatus, createHttpTransport, parseRetryAfter } from './transport';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 0);

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('1', NOW)).toBe(1000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW + 7000).toUTCString(), NOW)).toBe(7000);
    expect(parseRetryAfter('Fri, 02 Jan 2026 03:04:15 GMT', NOW)).toBe(10000);
    expect(parseRetryAfter(new Date(NOW - 7000).toUTCString(), NOW)).toBe(0);
  });
  it('ignores absent and malformed values', () => {
    for (const v of [null, undefined, '', '1.5', '-3', 'soon', 'abc123']) expect(parseRetryAfter(v as any, NOW)).toBeUndefined();
  });
});

describe('classifyStatus', () => {
  it('retries 429 and 5xx only; 413 is too large; other 4xx are permanent', () => {
    expect(classifyStatus(202)).toBe('ok');
    expect(classifyStatus(200)).toBe('ok');
    expect(classifyStatus(429)).toBe('retry');
    expect(classifyStatus(500)).toBe('retry');
    expect(classifyStatus(503)).toBe('retry');
    expect(classifyStatus(413)).toBe('too_large');
    for (const s of [400, 401, 403, 404, 408, 422]) expect(classifyStatus(s)).toBe('reject');
  });
});

describe('HttpTransport', () => {
  beforeEach(() => useFakeClock(NOW));
  afterEach(() => vi.useRealTimers());

  function fakeFetch(status = 202, headers: Record<string, string> = {}) {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return { status, headers: new Headers(headers) } as Response;
    });
    return { fetch, calls };
  }

  it('POSTs JSON with the m-trace token header, traceparent, keepalive and credentials omitted', async () => {
    const { fetch, calls } = fakeFetch();
    const t = createHttpTransport({
      endpoint: 'https://c.test/api/playback-events',
      token: 'tok',
      traceparent: () => '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      env: testEnv({ fetch }),
    });
    expect(await t.send('{"a":1}', { keepalive: true })).toEqual({ outcome: 'ok', status: 202 });
    const { url, init } = calls[0];
    expect(url).toBe('https://c.test/api/playback-events');
    expect(init.method).toBe('POST');
    expect(init.keepalive).toBe(true);
    expect(init.credentials).toBe('omit');
    expect(init.body).toBe('{"a":1}');
    expect(init.headers).toEqual({
      'Content-Type': 'application/json',
      'X-MTrace-Token': 'tok',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
  });

  it('supports Bearer and session-token headers and token functions', async () => {
    const { fetch, calls } = fakeFetch();
    let n = 0;
    const t = createHttpTransport({ endpoint: 'https://c.test/e', token: () => `t${++n}`, authHeader: 'Authorization', env: testEnv({ fetch }) });
    await t.send('{}', { keepalive: false });
    await t.send('{}', { keepalive: false });
    expect((calls[0].init.headers as any).Authorization).toBe('Bearer t1');
    expect((calls[1].init.headers as any).Authorization).toBe('Bearer t2');
  });

  it('returns Retry-After with 429 and 503, and classifies network errors as retryable', async () => {
    const a = createHttpTransport({ endpoint: 'https://c.test/e', env: testEnv(fakeFetch(429, { 'Retry-After': '3' })) });
    expect(await a.send('{}', { keepalive: false })).toEqual({ outcome: 'retry', status: 429, retryAfterMs: 3000 });
    const date = new Date(NOW + 5000).toUTCString();
    const b = createHttpTransport({ endpoint: 'https://c.test/e', env: testEnv(fakeFetch(503, { 'Retry-After': date })) });
    expect(await b.send('{}', { keepalive: false })).toEqual({ outcome: 'retry', status: 503, retryAfterMs: 5000 });
    const c = createHttpTransport({ endpoint: 'https://c.test/e', env: testEnv({ fetch: async () => Promise.reject(new TypeError('net')) }) });
    expect(await c.send('{}', { keepalive: false })).toEqual({ outcome: 'retry', status: 0 });
  });

  it('aborts after the timeout and reports it as retryable', async () => {
    const fetch = (_: string, init: RequestInit) =>
      new Promise<Response>((_res, rej) => init.signal!.addEventListener('abort', () => rej(new DOMException('aborted', 'AbortError'))));
    const t = createHttpTransport({ endpoint: 'https://c.test/e', timeoutMs: 2000, env: testEnv({ fetch }) });
    const p = t.send('{}', { keepalive: false });
    await vi.advanceTimersByTimeAsync(2000);
    expect(await p).toEqual({ outcome: 'retry', status: 0 });
  });

  it('keeps in-flight keepalive bodies within 64 KiB', async () => {
    const releases: Array<() => void> = [];
    const fetch = vi.fn(
      (_: string, _init: RequestInit) => new Promise<Response>((res) => releases.push(() => res({ status: 202, headers: new Headers() } as Response))),
    );
    const t = createHttpTransport({ endpoint: 'https://c.test/e', env: testEnv({ fetch }) });
    const big = 'x'.repeat(40000);
    const p1 = t.send(big, { keepalive: true });
    expect(t.canKeepalive!(30000)).toBe(false);
    const p2 = t.send(big, { keepalive: true });
    expect(fetch.mock.calls[0][1].keepalive).toBe(true);
    expect(fetch.mock.calls[1][1].keepalive).toBe(false);
    releases[0]();
    await p1;
    expect(t.canKeepalive!(30000)).toBe(true);
    releases[1]();
    await p2;
    expect(t.canKeepalive!(60000)).toBe(true);
  });

  it('beacons carry the token as access_token and use navigator.sendBeacon', () => {
    const sent: Array<[string, string]> = [];
    const t = createHttpTransport({
      endpoint: 'https://c.test/api/playback-events',
      token: 'a b',
      env: testEnv({ sendBeacon: (u, d) => (sent.push([u, d]), true) }),
    });
    expect(t.beacon!('{"x":1}')).toBe(true);
    expect(sent[0]).toEqual(['https://c.test/api/playback-events?access_token=a%20b', '{"x":1}']);
    const none = createHttpTransport({ endpoint: 'https://c.test/e', token: 't', beaconAuthParam: null, env: testEnv({ sendBeacon: (u) => (sent.push([u, '']), false) }) });
    expect(none.beacon!('{}')).toBe(false);
    expect(sent[1][0]).toBe('https://c.test/e');
  });
});
