import { describe, it, expect } from 'vitest';
import {
  base64ErrorOffset,
  depthOf,
  checkDepth,
  checkJsonPatchSize,
  MAX_DEPTH,
} from '../../../../src/control/api/limits.js';
import {
  checkBytesEncoding,
  mergeStringData,
  secretCauses,
  configMapCauses,
  configDataUpdateCauses,
} from '../../../../src/control/api/config-data.js';
import { validateObject } from '../../../../src/control/api/validate.js';
import { RESOURCE_TYPES } from '../../../../src/control/api/resources.js';
import { health } from '../../../../src/control/api/health.js';
import { StoreError, type Store } from '../../../../src/control/store/index.js';
import { conflictsBetween } from '../../../../src/control/client/apply-conflicts.js';
import { ApiError } from '../../../../src/control/api/status.js';

const nest = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
};
const kind = (k: string) => RESOURCE_TYPES.find((r) => r.kind === k)!;
const thrown = (f: () => unknown): ApiError => {
  try {
    f();
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('did not throw');
};

describe('request limits', () => {
  it("finds where Go's padded base64 decoder stops, as Kubernetes reports it", () => {
    // the cases from real kube-apiserver answers: "illegal base64 data at input byte N"
    expect(base64ErrorOffset('YWRtaW4=')).toBe(-1);
    expect(base64ErrorOffset('')).toBe(-1);
    expect(base64ErrorOffset('admin')).toBe(4); // 'admi' decodes, 'n' alone does not
    expect(base64ErrorOffset('billy')).toBe(4);
    expect(base64ErrorOffset('bill')).toBe(-1);
    expect(base64ErrorOffset('<foo>')).toBe(0);
    expect(base64ErrorOffset('e=disable')).toBe(1);
    expect(base64ErrorOffset('YQ==')).toBe(-1);
    expect(base64ErrorOffset('YQ=')).toBe(3);
    expect(base64ErrorOffset('YQ==YQ==')).toBe(4); // nothing after padding
    expect(base64ErrorOffset('YW\nJj')).toBe(-1); // newlines skipped
  });

  it('measures depth without recursion and refuses more than MAX_DEPTH with a 400', () => {
    expect(depthOf(1)).toBe(0);
    expect(depthOf({})).toBe(1);
    expect(depthOf({ a: [{ b: 1 }] })).toBe(3);
    expect(depthOf(nest(200_000))).toBe(200_000); // far past any call stack
    expect(() => checkDepth(nest(MAX_DEPTH))).not.toThrow();
    const e = thrown(() => checkDepth(nest(5_000)));
    expect([e.code, e.reason]).toEqual([400, 'BadRequest']);
    expect(e.message).toMatch(/nests more than 100 levels deep/);
    const big = thrown(() => checkJsonPatchSize(Array.from({ length: 10_001 }, () => ({ op: 'test', path: '' }))));
    expect([big.code, big.message]).toEqual([
      413,
      'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
    ]);
  });
});

describe('annotations', () => {
  it('are at most 256 KiB together, keys and values (ValidateAnnotations), not each', () => {
    const cm = (annotations: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', annotations },
    });
    expect(() => validateObject(kind('ConfigMap'), cm({ a: 'x'.repeat(200_000) }))).not.toThrow();
    const e = thrown(() => validateObject(kind('ConfigMap'), cm({ a: 'x'.repeat(150_000), b: 'x'.repeat(150_000) })));
    expect([e.code, e.message]).toEqual([
      422,
      'ConfigMap "c" is invalid: metadata.annotations: Too long: must have at most 262144 bytes',
    ]);
  });
});

describe('Secrets as Kubernetes treats them', () => {
  const secret = (extra: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    ...extra,
  });

  it('merges stringData into data (its values winning) and never keeps it', () => {
    const o = validateObject(
      kind('Secret'),
      secret({ data: { a: 'eA==', b: 'eQ==' }, stringData: { b: 'hunter2', 'c.txt': 'plain' } }),
    );
    expect(o.stringData).toBeUndefined();
    expect(o.data).toEqual({ a: 'eA==', b: Buffer.from('hunter2').toString('base64'), 'c.txt': 'cGxhaW4=' });
    expect(mergeStringData({ data: { a: 'eA==' } })).toEqual({ data: { a: 'eA==' } });
  });

  it('refuses data that is not base64 as the decoder does (400), before anything else', () => {
    const e = thrown(() => validateObject(kind('Secret'), secret({ data: { password: 'admin' }, bogus: 1 })));
    expect([e.code, e.message]).toEqual([
      400,
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 4',
    ]);
    expect(() => checkBytesEncoding('Secret', { data: { ok: 'YWRtaW4=' } })).not.toThrow();
    expect(thrown(() => checkBytesEncoding('ConfigMap', { binaryData: { b: '<x>' } })).message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 0',
    );
    expect(() => checkBytesEncoding('ConfigMap', { data: { plain: '<x>' } })).not.toThrow();
  });

  it("checks each type's keys, the 1 MiB limit, with Kubernetes' field paths", () => {
    const e = thrown(() =>
      validateObject(kind('Secret'), secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } })),
    );
    expect(e.code).toBe(422);
    expect(e.message).toBe('Secret "s" is invalid: data[tls.key]: Required value');
    // stringData counts: it is data by then
    expect(() =>
      validateObject(
        kind('Secret'),
        secret({ type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c', 'tls.key': 'k' } }),
      ),
    ).not.toThrow();
    expect(secretCauses({ type: 'kubernetes.io/basic-auth', data: {} }).map((c) => c.field)).toEqual([
      'data[username]',
      'data[password]',
    ]);
    expect(secretCauses({ type: 'kubernetes.io/basic-auth', data: { password: '' } })).toEqual([]);
    expect(secretCauses({ type: 'kubernetes.io/ssh-auth', data: {} }).map((c) => c.field)).toEqual([
      'data[ssh-privatekey]',
    ]);
    expect(secretCauses({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'e30K' } })).toEqual([]);
    expect(
      secretCauses({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'bm90IGpzb24=' } })[0].field,
    ).toBe('data[.dockerconfigjson]');
    expect(secretCauses({ type: 'kubernetes.io/service-account-token', metadata: {} })[0].field).toBe(
      'metadata.annotations[kubernetes.io/service-account.name]',
    );
    const mib = Buffer.alloc(1024 * 1024).toString('base64');
    expect(secretCauses({ data: { big: mib } })[0]).toMatchObject({
      field: 'data',
      message: 'Too long: must have at most 1048576 bytes',
    });
    expect(configMapCauses({ data: { big: 'x'.repeat(1024 * 1024) } })[0].field).toBe('[]');
    expect(configMapCauses({ data: { small: 'x' } })).toEqual([]);
  });

  it("keeps a Secret's type, and an immutable one's data, as they were", () => {
    const cur = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { a: 'eA==' } };
    expect(configDataUpdateCauses(cur, { ...cur, type: 'kubernetes.io/tls' })).toEqual([
      { field: 'type', message: 'Invalid value: "kubernetes.io/tls": field is immutable' },
    ]);
    expect(configDataUpdateCauses(cur, { ...cur, data: { a: 'eQ==' } })).toEqual([]);
    const frozen = { ...cur, immutable: true };
    expect(configDataUpdateCauses(frozen, { ...frozen, data: { a: 'eQ==' } }).map((c) => c.field)).toEqual(['data']);
    expect(configDataUpdateCauses(frozen, { ...frozen, immutable: false }).map((c) => c.field)).toEqual(['immutable']);
    expect(configDataUpdateCauses(frozen, { ...frozen, metadata: { name: 's', labels: { a: 'b' } } })).toEqual([]);
  });
});

describe('/livez, /readyz, /healthz', () => {
  const store = (up: boolean) =>
    ({
      health: async () => {
        if (!up) throw new StoreError('Unavailable', 'etcd health: connect ECONNREFUSED');
      },
    }) as unknown as Store;
  const q = (s = '') => new URLSearchParams(s);

  it("answer as kube-apiserver's: ok, or 500 with a line per check", async () => {
    expect(await health('/readyz', q(), { store: store(true), stopping: false })).toEqual({ code: 200, text: 'ok' });
    expect(await health('/readyz', q('verbose'), { store: store(true), stopping: false })).toEqual({
      code: 200,
      text: '[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]shutdown ok\nreadyz check passed\n',
    });
    const down = { store: store(false), stopping: false };
    expect(await health('/readyz', q(), down)).toEqual({
      code: 500,
      text: '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n',
    });
    expect(await health('/livez', q(), down)).toEqual({ code: 200, text: 'ok' }); // alive: a restart would not help
    expect((await health('/healthz', q(), down))!.code).toBe(500);
    expect((await health('/readyz/etcd', q(), down))!.code).toBe(500);
    expect(await health('/readyz', q('exclude=etcd'), down)).toEqual({ code: 200, text: 'ok' });
    expect(await health('/readyz', q('exclude=etcd&verbose'), down)).toEqual({
      code: 200,
      text: '[+]ping ok\n[+]log ok\n[+]shutdown ok\n[+]etcd excluded: ok\nreadyz check passed\n',
    });
    expect((await health('/readyz', q(), { store: store(true), stopping: true }))!.text).toContain(
      '[-]shutdown failed',
    );
    expect(await health('/api/v1', q(), down)).toBeNull();
  });
});

describe('apply: documents checked against each other', () => {
  const svc = (index: number, name: string, spec: Record<string, unknown>) => ({
    source: 'f.yaml',
    index,
    namespace: 'default',
    r: kind('Service'),
    obj: { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec },
  });

  it('finds two Services asking for one cluster IP or node port; one object twice is no conflict', () => {
    expect(
      conflictsBetween([
        svc(1, 'a', { clusterIP: '10.96.1.5', ports: [{ port: 80, nodePort: 30080 }] }),
        svc(2, 'b', { clusterIP: '10.96.1.5' }),
        svc(3, 'c', { ports: [{ port: 80, nodePort: 30080 }] }),
        svc(4, 'a', { clusterIP: '10.96.1.5' }),
        svc(5, 'h', { clusterIP: 'None' }),
        svc(6, 'i', { clusterIP: 'None' }),
      ]),
    ).toEqual([
      'f.yaml: document 2 (service/b): spec.clusterIPs: Invalid value: ["10.96.1.5"]: failed to allocate IP 10.96.1.5: provided IP is already allocated (asked for by f.yaml: document 1 (service/a))',
      'f.yaml: document 3 (service/c): spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated (asked for by f.yaml: document 1 (service/a))',
    ]);
  });
});
