/**
 * Env: everything the SDK takes from the browser, in one injectable object.
 *
 * The tracker never touches a global directly; it asks its Env. Tests pass a partial Env with a
 * fake clock, seeded randomness, a fake fetch and fake window/document targets, so every time- or
 * network-dependent path is deterministic. Defaults come from globalThis and are resolved once, when
 * createTracker() runs.
 */

/** The subset of EventTarget the SDK listens on (window, document, media elements). */
export interface Listenable {
  addEventListener(type: string, listener: (ev: any) => void, options?: any): void;
  removeEventListener(type: string, listener: (ev: any) => void, options?: any): void;
}

export type TimerHandle = unknown;

export interface Env {
  /** Wall clock, epoch milliseconds: used for client_timestamp only. */
  now(): number;
  /** Monotonic milliseconds: used for every duration. */
  mono(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Uniform [0, 1): backoff jitter only. */
  random(): number;
  /** Cryptographically random bytes when the platform has them: ids. */
  randomBytes(n: number): Uint8Array;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  sendBeacon?: (url: string, data: string) => boolean;
  /** window: pagehide / pageshow. */
  win?: Listenable;
  /** document: visibilitychange; visibilityState is read from it. */
  doc?: Listenable & { visibilityState?: string };
  /** Page origin (e.g. "https://app.example"), for the same-origin test of traceparent injection. */
  origin?: string;
  /** Base for resolving relative media URLs (usually location.href). */
  baseUrl?: string;
}

function defaultRandomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const c = (globalThis as any).crypto;
  if (c && typeof c.getRandomValues === 'function') {
    c.getRandomValues(out);
    return out;
  }
  // No Web Crypto (very old engines): ids stay unique enough for telemetry, not for security.
  for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * 256);
  return out;
}

/** Builds an Env from globalThis, with `overrides` taking precedence key by key. */
export function resolveEnv(overrides: Partial<Env> = {}): Env {
  const g: any = globalThis;
  const perf = g.performance;
  const nav = g.navigator;
  const loc = g.location;
  const base: Env = {
    now: () => Date.now(),
    mono: perf && typeof perf.now === 'function' ? () => perf.now() : () => Date.now(),
    setTimeout: (fn, ms) => g.setTimeout(fn, ms),
    clearTimeout: (h) => g.clearTimeout(h as any),
    random: Math.random,
    randomBytes: defaultRandomBytes,
    fetch: typeof g.fetch === 'function' ? (i, init) => g.fetch(i, init) : undefined,
    sendBeacon:
      nav && typeof nav.sendBeacon === 'function' ? (u, d) => nav.sendBeacon(u, d) : undefined,
    win: typeof g.addEventListener === 'function' && g.window === g ? g : undefined,
    doc: g.document && typeof g.document.addEventListener === 'function' ? g.document : undefined,
    origin: loc && typeof loc.origin === 'string' && loc.origin !== 'null' ? loc.origin : undefined,
    baseUrl: loc && typeof loc.href === 'string' ? loc.href : undefined,
  };
  return { ...base, ...overrides };
}
