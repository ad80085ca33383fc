import { ApiError, type Cause } from './status.js';
import { base64ErrorOffset } from './limits.js';
import type { KubeObject } from './object.js';

/**
 * Secrets and ConfigMaps as Kubernetes treats them (core/v1 conversion and
 * pkg/apis/core/validation: ValidateSecret, ValidateConfigMap and their
 * updates):
 * - a Secret's `data` (a ConfigMap's `binaryData`) values are bytes, sent as
 *   base64: a value that is not fails decoding, 400 `Secret in version "v1" cannot be handled as a
 *   Secret: illegal base64 data at input byte N`;
 * - `stringData` is write-only: merged into `data` (base64, its values
 *   winning) on every create, update and patch, never stored or returned;
 * - the data of one object is at most 1 MiB;
 * - a Secret's type asks for its keys (kubernetes.io/tls: tls.crt and
 *   tls.key …) and cannot change; `immutable: true` freezes data and itself.
 */
export const MAX_SECRET_SIZE = 1024 * 1024;

/**
 * Before any other check: what the decoder of a v1 object refuses (400) —
 * a Secret's `data` and a ConfigMap's `binaryData` are bytes, sent as base64.
 */
export function checkBytesEncoding(kind: 'Secret' | 'ConfigMap', body: unknown): void {
  const data = (body as Record<string, unknown> | null)?.[kind === 'Secret' ? 'data' : 'binaryData'];
  if (!data || typeof data !== 'object' || Array.isArray(data)) return;
  for (const v of Object.values(data as Record<string, unknown>)) {
    if (typeof v !== 'string') continue; // the schema says what is wrong with it
    const at = base64ErrorOffset(v);
    if (at >= 0)
      throw new ApiError(
        'BadRequest',
        `${kind} in version "v1" cannot be handled as a ${kind}: illegal base64 data at input byte ${at}`,
      );
  }
}

/** `stringData` merged into `data` (base64), as the v1 → internal conversion does; returns a new object. */
export function mergeStringData<T extends Record<string, any>>(o: T): T {
  if (o.stringData === undefined) return o;
  const { stringData, ...rest } = o;
  const data: Record<string, string> = { ...(rest.data ?? {}) };
  for (const [k, v] of Object.entries(stringData as Record<string, string>))
    data[k] = Buffer.from(v, 'utf8').toString('base64');
  return { ...rest, data } as unknown as T;
}

const required = (field: string): Cause => ({ field, message: 'Required value', reason: 'FieldValueRequired' });
const tooLong = (field: string): Cause => ({
  field,
  message: `Too long: must have at most ${MAX_SECRET_SIZE} bytes`,
  reason: 'FieldValueTooLong',
});

const bytes = (b64: string) => Buffer.from(b64, 'base64');

/** ValidateSecret's rules beyond the keys (checked with ConfigMap's): size and what each type needs. */
export function secretCauses(o: Record<string, any>): Cause[] {
  const data = (o.data ?? {}) as Record<string, string>;
  const causes: Cause[] = [];
  const total = Object.entries(data).reduce((n, [k, v]) => n + k.length + bytes(v).length, 0);
  if (total > MAX_SECRET_SIZE) causes.push(tooLong('data'));
  const has = (k: string) => Object.hasOwn(data, k);
  const json = (k: string) => {
    try {
      JSON.parse(bytes(data[k]).toString('utf8'));
    } catch (e) {
      causes.push({
        field: `data[${k}]`,
        message: `Invalid value: "<secret contents redacted>": ${(e as Error).message}`,
        reason: 'FieldValueInvalid',
      });
    }
  };
  switch (o.type ?? 'Opaque') {
    case 'kubernetes.io/service-account-token':
      if (!o.metadata?.annotations?.['kubernetes.io/service-account.name'])
        causes.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    case 'kubernetes.io/dockercfg':
      if (!has('.dockercfg')) causes.push(required('data[.dockercfg]'));
      else json('.dockercfg');
      break;
    case 'kubernetes.io/dockerconfigjson':
      if (!has('.dockerconfigjson')) causes.push(required('data[.dockerconfigjson]'));
      else json('.dockerconfigjson');
      break;
    case 'kubernetes.io/basic-auth':
      // username or password may be empty, but one of them must be there
      if (!has('username') && !has('password')) causes.push(required('data[username]'), required('data[password]'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!data['ssh-privatekey']) causes.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) causes.push(required('data[tls.crt]'));
      if (!has('tls.key')) causes.push(required('data[tls.key]'));
      break;
  }
  return causes;
}

/** ValidateConfigMap's size rule: data and binaryData together at most 1 MiB. */
export function configMapCauses(o: Record<string, any>): Cause[] {
  let total = 0;
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) total += k.length + v.length;
  for (const [k, v] of Object.entries((o.binaryData ?? {}) as Record<string, string>))
    total += k.length + bytes(v).length;
  return total > MAX_SECRET_SIZE ? [tooLong('[]')] : [];
}

/**
 * ValidateSecretUpdate / ValidateConfigMapUpdate: a Secret's type is
 * immutable; once `immutable: true`, data (and binaryData) and the flag stay.
 */
export function configDataUpdateCauses(cur: KubeObject, next: KubeObject): Omit<Cause, 'reason'>[] {
  const causes: Omit<Cause, 'reason'>[] = [];
  if (cur.kind === 'Secret' && (cur.type ?? 'Opaque') !== (next.type ?? 'Opaque'))
    causes.push({ field: 'type', message: `Invalid value: ${JSON.stringify(next.type)}: field is immutable` });
  if (cur.immutable === true) {
    if (next.immutable !== true)
      causes.push({ field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' });
    const same = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
    if (!same(cur.data, next.data))
      causes.push({ field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' });
    if (cur.kind === 'ConfigMap' && !same(cur.binaryData, next.binaryData))
      causes.push({ field: 'binaryData', message: 'Forbidden: field is immutable when `immutable` is set' });
  }
  return causes;
}

const sorted = (m: unknown) =>
  m && typeof m === 'object' ? Object.fromEntries(Object.entries(m as Record<string, unknown>).sort()) : {};
