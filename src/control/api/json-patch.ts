import { ApiError } from './status.js';

/**
 * JSON Patch (RFC 6902), `Content-Type: application/json-patch+json`: what
 * `kubectl rollout undo` sends (replace /spec/template and
 * /metadata/annotations) and `kubectl patch --type=json`. Operations apply
 * in order to a copy; any failure rejects the whole patch, worded as
 * kube-apiserver's (evanphx/json-patch) errors: a body that is no patch is
 * 400 BadRequest, an operation that does not apply 422.
 */
type Json = unknown;
interface Op {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

const fail = (msg: string): never => {
  throw new ApiError('Invalid', msg);
};
const malformed = (msg: string): never => {
  throw new ApiError('BadRequest', msg);
};

/** RFC 6901: "/a/b~1c/0" → ["a", "b/c", "0"] */
export function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) fail(`invalid JSON pointer "${p}": must start with "/"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function container(doc: Json, parts: string[], path: string): [any, string] {
  let at: any = doc;
  for (const k of parts.slice(0, -1)) {
    at = Array.isArray(at) ? at[Number(k)] : at && typeof at === 'object' ? at[k] : undefined;
    if (at === undefined || at === null || typeof at !== 'object')
      fail(`doc is missing path: "${path}": missing value`);
  }
  return [at, parts[parts.length - 1]];
}

function index(arr: unknown[], key: string, path: string, adding: boolean): number {
  if (key === '-' && adding) return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) fail(`invalid array index "${key}" in "${path}"`);
  const i = Number(key);
  if (i > arr.length || (!adding && i === arr.length)) fail(`index out of bounds: "${path}"`);
  return i;
}

function get(doc: Json, path: string): Json {
  const parts = parsePointer(path);
  if (!parts.length) return doc;
  const [c, k] = container(doc, parts, path);
  const v = Array.isArray(c) ? c[index(c, k, path, false)] : Object.hasOwn(c, k) ? c[k] : undefined;
  if (v === undefined) fail(`doc is missing key: "${path}": missing value`);
  return v;
}

function remove(doc: Json, path: string, op: string): Json {
  const parts = parsePointer(path);
  if (!parts.length) fail(`${op} operation does not apply: cannot remove the whole document`);
  const [c, k] = container(doc, parts, path);
  if (Array.isArray(c)) return c.splice(index(c, k, path, false), 1)[0];
  if (!Object.hasOwn(c, k)) fail(`${op} operation does not apply: doc is missing key: "${path}": missing value`);
  const v = c[k];
  delete c[k];
  return v;
}

function add(doc: Json, path: string, value: Json): Json {
  const parts = parsePointer(path);
  if (!parts.length) return value;
  const [c, k] = container(doc, parts, path);
  if (Array.isArray(c)) c.splice(index(c, k, path, true), 0, value);
  else c[k] = value;
  return doc;
}

const equal = (a: Json, b: Json): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => equal((a as any)[k], (b as any)[k]));
};

export function applyJsonPatch<T>(target: T, patch: unknown): T {
  if (!Array.isArray(patch)) malformed('a JSON patch is a list of operations');
  let doc: Json = structuredClone(target);
  for (const raw of patch as Op[]) {
    if (!raw || typeof raw !== 'object' || typeof raw.path !== 'string')
      malformed(`invalid JSON patch operation: ${JSON.stringify(raw)}`);
    const { op, path } = raw;
    const needValue = () => {
      if (!('value' in raw)) fail(`${op} operation: missing value`);
      return structuredClone(raw.value);
    };
    switch (op) {
      case 'add':
        doc = add(doc, path, needValue());
        break;
      case 'remove':
        remove(doc, path, op);
        break;
      case 'replace': {
        const value = needValue();
        if (!parsePointer(path).length) {
          doc = value;
          break;
        }
        const [c, k] = container(doc, parsePointer(path), path);
        if (Array.isArray(c)) c[index(c, k, path, false)] = value;
        else if (!Object.hasOwn(c, k))
          fail(`replace operation does not apply: doc is missing key: ${path}: missing value`);
        else c[k] = value;
        break;
      }
      case 'move': {
        if (typeof raw.from !== 'string') fail('move operation: missing from');
        doc = add(doc, path, remove(doc, raw.from!, op));
        break;
      }
      case 'copy':
        if (typeof raw.from !== 'string') fail('copy operation: missing from');
        doc = add(doc, path, structuredClone(get(doc, raw.from!)));
        break;
      case 'test':
        if (!equal(get(doc, path), raw.value)) fail(`testing value ${path} failed: test failed`);
        break;
      default:
        fail(`Unexpected kind: ${String(op)}`);
    }
  }
  return doc as T;
}
