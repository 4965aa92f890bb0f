/**
 * Entry of the IIFE build (global `AvtracePlayer`): the runtime API only, so the script-tag bundle
 * stays small. The ESM build (index.ts) also exports the building blocks, constants and types.
 */
export { createTracker } from './tracker';
export { redactUrl } from './redact';
export { SDK_NAME, SDK_VERSION } from './version';
