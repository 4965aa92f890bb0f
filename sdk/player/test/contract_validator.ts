/**
 * Validates batch bodies against m-trace's wire contract, read at run time from
 * test-fixtures/event-schema.json (a verbatim copy of contracts/event-schema.json).
 *
 * The contract file is not a JSON Schema: it lists limits, enums and reserved meta rules. This
 * module turns it into (1) a JSON Schema for the envelope, compiled with ajv — batch size limits,
 * event names, boundary enums and required fields come from the file; the required event fields
 * and their types come from m-trace's backend (event_name, project_id, session_id,
 * client_timestamp RFC 3339, sdk{name,version}, optional sequence_number ≥ 0 and flat meta) — and
 * (2) a checker for reserved_meta_keys (types, enums, patterns, bounds, `requires`, the timing.*
 * wildcard and the closed webrtc.* namespace) and the byte limit.
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const contract = JSON.parse(readFileSync(resolve(here, '../test-fixtures/event-schema.json'), 'utf8'));

const RFC3339_MS_Z = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';

export function envelopeSchema(eventNames: string[]) {
  const b = contract.batch;
  const sb = contract.session_boundaries;
  return {
    type: 'object',
    required: [b.schema_version_field, b.events_field],
    properties: {
      [b.schema_version_field]: { const: contract.schema_version },
      [b.events_field]: {
        type: 'array',
        minItems: b.min_events,
        maxItems: b.max_events,
        items: {
          type: 'object',
          required: ['event_name', 'project_id', 'session_id', 'client_timestamp', 'sdk'],
          properties: {
            event_name: { type: 'string', enum: eventNames },
            project_id: { type: 'string', minLength: 1 },
            session_id: { type: 'string', minLength: 1 },
            client_timestamp: { type: 'string', pattern: RFC3339_MS_Z },
            sequence_number: { type: 'integer', minimum: 0 },
            sdk: {
              type: 'object',
              required: ['name', 'version'],
              properties: { name: { type: 'string', minLength: 1 }, version: { type: 'string', minLength: 1 } },
            },
            meta: {
              type: 'object',
              additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
            },
          },
        },
      },
      [b.session_boundaries_field]: {
        type: 'array',
        maxItems: b.max_session_boundaries,
        items: {
          type: 'object',
          required: sb.required_fields,
          properties: {
            kind: { enum: sb.kinds },
            network_kind: { enum: sb.network_kinds },
            adapter: { enum: sb.adapters },
            reason: { enum: contract[sb.reasons_ref], pattern: contract[sb.reason_pattern_ref] },
            client_timestamp: { type: 'string', pattern: RFC3339_MS_Z },
          },
        },
      },
    },
  };
}

function checkReserved(key: string, value: unknown, meta: Record<string, unknown>): string | undefined {
  const rules = contract.reserved_meta_keys as Record<string, any>;
  let rule = rules[key];
  if (!rule && key.startsWith('timing.')) rule = rules['timing.*'];
  if (!rule) {
    if (key.startsWith('webrtc.')) return `${key}: unknown key in the closed webrtc.* namespace`;
    return undefined;
  }
  if (rule.types) {
    const okNumber = rule.types.includes('number') && typeof value === 'number' && Number.isFinite(value);
    const okDate = rule.types.includes('rfc3339_string') && typeof value === 'string' && !Number.isNaN(Date.parse(value));
    return okNumber || okDate ? undefined : `${key}: not one of ${rule.types}`;
  }
  if (rule.type === 'string' && typeof value !== 'string') return `${key}: not a string`;
  if (rule.type === 'integer' && !(typeof value === 'number' && Number.isInteger(value))) return `${key}: not an integer`;
  if (rule.type === 'number' && typeof value !== 'number') return `${key}: not a number`;
  const values = rule.values ?? (rule.values_ref ? contract[rule.values_ref] : undefined);
  if (values && !values.includes(value)) return `${key}: ${String(value)} not in enum`;
  const pattern = rule.pattern ?? (rule.pattern_ref ? contract[rule.pattern_ref] : undefined);
  if (pattern && !new RegExp(pattern).test(String(value))) return `${key}: pattern`;
  if (rule.min !== undefined && (value as number) < rule.min) return `${key}: below min`;
  if (rule.min_exclusive !== undefined && (value as number) <= rule.min_exclusive) return `${key}: not above ${rule.min_exclusive}`;
  if (rule.max !== undefined && (value as number) > rule.max) return `${key}: above max`;
  if (rule.max_length !== undefined && String(value).length > rule.max_length) return `${key}: too long`;
  if (rule.redacted_url && typeof value === 'string' && value !== '') {
    if (/[?#@]/.test(value)) return `${key}: not redacted`;
  }
  if (rule.requires) {
    for (const [k, v] of Object.entries(rule.requires)) if (meta[k] !== v) return `${key}: requires ${k}=${String(v)}`;
  }
  return undefined;
}

const ajv = new Ajv({ allErrors: true, strict: false });

export interface Validation {
  ok: boolean;
  errors: string[];
}

/**
 * Validates one request body. `names` defaults to the contract's event names; pass extra names to
 * allow avtrace's documented extensions.
 */
export function validateBatchBody(body: string, extraNames: readonly string[] = []): Validation {
  const errors: string[] = [];
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > contract.batch.max_body_bytes) errors.push(`body ${bytes} B > ${contract.batch.max_body_bytes}`);
  let batch: any;
  try {
    batch = JSON.parse(body);
  } catch {
    return { ok: false, errors: ['not JSON'] };
  }
  const validate = ajv.compile(envelopeSchema([...contract.event_names, ...extraNames]));
  if (!validate(batch)) for (const e of validate.errors ?? []) errors.push(`${e.instancePath} ${e.message}`);
  for (const ev of Array.isArray(batch?.events) ? batch.events : []) {
    const meta = ev?.meta ?? {};
    for (const [k, v] of Object.entries(meta)) {
      const err = checkReserved(k, v, meta);
      if (err) errors.push(`event ${ev.event_name}: ${err}`);
    }
  }
  const bs = batch?.session_boundaries;
  if (Array.isArray(bs)) {
    if (contract.batch.boundary_only_batches === false && (!batch.events || batch.events.length === 0)) errors.push('boundary-only batch');
    if (contract.batch.boundaries_must_match_event_partition) {
      for (const b of bs) {
        const match = batch.events?.some((e: any) => e.project_id === b.project_id && e.session_id === b.session_id);
        if (!match) errors.push(`boundary for ${b.session_id} has no event in the batch`);
      }
    }
  }
  return { ok: errors.length === 0, errors };
}
