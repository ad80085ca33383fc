import type http from 'node:http';
import { ApiError, errors } from './status.js';
import { MAX_BODY_BYTES } from './limits.js';

/**
 * Just enough of Kubernetes' protobuf encoding (k8s.io/apimachinery's
 * `k8s\0` + runtime.Unknown envelope, generated.proto field numbers) to
 * read what kubectl sends as protobuf: `kubectl create rolebinding|
 * clusterrolebinding --user=…` (its --user collides with kubectl's global
 * --user, and that client then posts protobuf, which a real server takes).
 * Only RoleBinding and ClusterRoleBinding are decoded, into the JSON shape
 * the server validates as usual; anything else is a 415 and clients that
 * can, send JSON.
 */
const MAGIC = Buffer.from('k8s\0', 'latin1');

type Fields = Map<number, (Buffer | number)[]>;

function varint(buf: Buffer, at: { i: number }): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (at.i >= buf.length) throw errors.badRequest('truncated protobuf');
    const b = buf[at.i++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 128;
    if (mul > 2 ** 63) throw errors.badRequest('bad protobuf varint');
  }
}

/** One message's fields: length-delimited ones as bytes, varints as numbers (fixed-width skipped). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  const at = { i: 0 };
  while (at.i < buf.length) {
    const key = varint(buf, at);
    const no = Math.floor(key / 8);
    const wire = key & 7;
    let v: Buffer | number;
    if (wire === 0) v = varint(buf, at);
    else if (wire === 2) {
      const len = varint(buf, at);
      if (at.i + len > buf.length) throw errors.badRequest('truncated protobuf');
      v = buf.subarray(at.i, at.i + len);
      at.i += len;
    } else if (wire === 1 || wire === 5) {
      at.i += wire === 1 ? 8 : 4;
      continue;
    } else throw errors.badRequest(`unsupported protobuf wire type ${wire}`);
    const l = out.get(no) ?? [];
    l.push(v);
    out.set(no, l);
  }
  return out;
}

const str = (f: Fields, no: number): string | undefined => {
  const v = f.get(no)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
};
const msgs = (f: Fields, no: number): Fields[] =>
  (f.get(no) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)).map(fields);

function stringMap(f: Fields, no: number): Record<string, string> | undefined {
  const entries = msgs(f, no);
  if (!entries.length) return undefined;
  return Object.fromEntries(entries.map((e) => [str(e, 1) ?? '', str(e, 2) ?? '']));
}

/** metav1.ObjectMeta: the fields a client sets on create */
function objectMeta(f: Fields): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const [no, key] of [
    [1, 'name'],
    [2, 'generateName'],
    [3, 'namespace'],
    [5, 'uid'],
    [6, 'resourceVersion'],
  ] as const) {
    const v = str(f, no);
    if (v) m[key] = v;
  }
  const labels = stringMap(f, 11);
  const annotations = stringMap(f, 12);
  if (labels) m.labels = labels;
  if (annotations) m.annotations = annotations;
  return m;
}

function binding(raw: Buffer, apiVersion: string, kind: string): Record<string, unknown> {
  const f = fields(raw);
  const [meta] = msgs(f, 1);
  const [ref] = msgs(f, 3);
  return {
    apiVersion,
    kind,
    metadata: meta ? objectMeta(meta) : {},
    subjects: msgs(f, 2).map((s) => ({
      kind: str(s, 1) ?? '',
      ...(str(s, 2) !== undefined ? { apiGroup: str(s, 2) } : {}),
      name: str(s, 3) ?? '',
      ...(str(s, 4) ? { namespace: str(s, 4) } : {}),
    })),
    roleRef: ref ? { apiGroup: str(ref, 1) ?? '', kind: str(ref, 2) ?? '', name: str(ref, 3) ?? '' } : {},
  };
}

const unsupported = () =>
  new ApiError(
    'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json (and application/vnd.kubernetes.protobuf for RoleBindings and ClusterRoleBindings)',
  );

/** A protobuf body as JSON, for the kinds decoded here; else 415. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw errors.badRequest('not a Kubernetes protobuf body');
  const unknown = fields(body.subarray(4));
  const [tm] = msgs(unknown, 1);
  const apiVersion = tm ? (str(tm, 1) ?? '') : '';
  const kind = tm ? (str(tm, 2) ?? '') : '';
  const raw = unknown.get(2)?.[0];
  if (!Buffer.isBuffer(raw) || apiVersion !== 'rbac.authorization.k8s.io/v1') throw unsupported();
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') return binding(raw, apiVersion, kind);
  throw unsupported();
}

/** The raw body (3 MiB at most, as JSON bodies). */
export function readRaw(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        return reject(errors.tooLarge(`limit is ${MAX_BODY_BYTES}`));
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
