import { ApiError, errors, type Cause } from './status.js';
import { dns1123LabelErrors, dns1123SubdomainErrors, pathSegmentNameErrors } from './names.js';
import { labelKeyError, labelValueError } from '../labels.js';
import type { ResourceType } from './resources.js';

/**
 * Strict validation of what clients send. Unknown fields are a 400
 * BadRequest "strict decoding error" (kubectl's default fieldValidation=Strict);
 * wrong values are 422 Invalid with one cause per field. Only kinds with a
 * complete schema here are served: a kind is not accepted half-checked.
 */
import { SCHEMAS } from './schemas/index.js';
import { semanticCauses } from './semantics.js';
import { rbacCauses, rbacDefaults } from './rbac-validation.js';
import { checkBytesEncoding, mergeStringData, secretCauses, configMapCauses } from './config-data.js';

export { SCHEMAS };

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const fieldPath = (path: PropertyKey[]) =>
  path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/**
 * Check an object of resource type `r`; returns it (typed loosely) or throws
 * ApiError. Unknown fields: Strict (podwire's default, and kubectl's) rejects
 * them; Warn and Ignore drop them (Warn reports them through `warnings`).
 */
export function validateObject(
  r: ResourceType,
  obj: unknown,
  fieldValidation: FieldValidation = 'Strict',
  warnings: string[] = [],
): Record<string, any> {
  const schema = SCHEMAS[r.kind];
  if (!schema) throw errors.methodNotAllowed(`podwire does not serve ${r.plural} yet`);
  if (r.kind === 'Secret' || r.kind === 'ConfigMap') checkBytesEncoding(r.kind, obj);
  let res = schema.safeParse(obj);
  const name = (obj as { metadata?: { name?: string } })?.metadata?.name ?? '';
  if (!res.success) {
    const unknown = res.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (unknown.length) {
      const fields = unknown.flatMap((i) => (i as { keys: string[] }).keys.map((k) => fieldPath([...i.path, k])));
      if (fieldValidation === 'Strict')
        throw new ApiError(
          'BadRequest',
          `strict decoding error: ${fields.map((f) => `unknown field "${f}"`).join(', ')}`,
        );
      if (fieldValidation === 'Warn') warnings.push(...fields.map((f) => `unknown field "${f}"`));
      const copy = structuredClone(obj) as Record<string, any>;
      for (const i of unknown) {
        let at: any = copy;
        for (const p of i.path) at = at?.[p as string];
        for (const k of (i as { keys: string[] }).keys) if (at && typeof at === 'object') delete at[k];
      }
      res = schema.safeParse(copy);
    }
  }
  if (!res.success) {
    throw errors.invalid(
      r.kind,
      name,
      res.error.issues.map((i) => ({
        field: fieldPath(i.path),
        message: i.message,
        reason: i.code === 'invalid_type' && /undefined/.test(i.message) ? 'FieldValueRequired' : 'FieldValueInvalid',
      })),
      r.group || undefined,
    );
  }
  // a Secret's stringData is write-only: merged into data here, never stored
  const parsed = res.data as Record<string, any>;
  const o = r.kind === 'Secret' ? mergeStringData(parsed) : parsed;
  const causes: Cause[] = [];
  const m = o.metadata ?? {};
  if (!m.name && !m.generateName && !r.virtual)
    causes.push({
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
      reason: 'FieldValueRequired',
    });
  if (m.name) {
    const nameErrors =
      r.nameRule === 'label'
        ? dns1123LabelErrors(m.name)
        : r.nameRule === 'path'
          ? pathSegmentNameErrors(m.name)
          : dns1123SubdomainErrors(m.name);
    for (const e of nameErrors) {
      causes.push({ field: 'metadata.name', message: `Invalid value: "${m.name}": ${e}`, reason: 'FieldValueInvalid' });
    }
  }
  for (const [k, v] of Object.entries((m.labels ?? {}) as Record<string, string>)) {
    const ke = labelKeyError(k);
    if (ke)
      causes.push({ field: 'metadata.labels', message: `Invalid value: "${k}": ${ke}`, reason: 'FieldValueInvalid' });
    const ve = labelValueError(v);
    if (ve)
      causes.push({ field: `metadata.labels`, message: `Invalid value: "${v}": ${ve}`, reason: 'FieldValueInvalid' });
  }
  let annotationBytes = 0; // ValidateAnnotations: keys and values together at most 256 KiB
  for (const [k, v] of Object.entries((m.annotations ?? {}) as Record<string, string>)) {
    const ke = labelKeyError(k);
    if (ke)
      causes.push({
        field: 'metadata.annotations',
        message: `Invalid value: "${k}": ${ke}`,
        reason: 'FieldValueInvalid',
      });
    annotationBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (annotationBytes > 256 * 1024)
    causes.push({
      field: 'metadata.annotations',
      message: 'Too long: must have at most 262144 bytes',
      reason: 'FieldValueTooLong',
    });
  if (r.kind === 'ConfigMap' || r.kind === 'Secret') {
    const data = (o.data ?? {}) as Record<string, string>;
    for (const k of Object.keys({ ...data, ...((o.binaryData ?? {}) as Record<string, string>) })) {
      if (!CONFIG_KEY.test(k) || k.length > 253)
        causes.push({
          field: `data[${k}]`,
          message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
          reason: 'FieldValueInvalid',
        });
    }
    causes.push(...(r.kind === 'Secret' ? secretCauses(o) : configMapCauses(o)));
  }
  causes.push(...semanticCauses(r.kind, o));
  rbacDefaults(r.kind, o); // (upstream defaults before it validates: a User subject's apiGroup)
  causes.push(...rbacCauses(r.kind, o));
  if (causes.length) throw errors.invalid(r.kind, m.name ?? m.generateName ?? '', causes, r.group || undefined);
  return o;
}

/** RFC 7386 JSON merge patch (kubectl's strategic merge patch is applied as a merge patch for these kinds). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
