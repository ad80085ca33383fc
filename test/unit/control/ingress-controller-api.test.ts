import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStore } from '../../../src/control/store/index.js';
import { ApiServer, findResource, apiGroupList, apiResourceList } from '../../../src/control/api/index.js';
import { ApiClient, ApiClientError } from '../../../src/control/client/index.js';
import { gatewayClass, referenceGrant } from '../../../src/control/api/schemas/gateway-class.js';
import { PRINTERS } from '../../../src/control/printers/index.js';
import { toTable } from '../../../src/control/api/table.js';

// GatewayClass and ReferenceGrant as the Gateway API CRDs define them:
// their schemas, discovery, the API server's transition rule and the
// `kubectl get` columns (the CRDs' additionalPrinterColumns).
const gc = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name: 'cilium' },
  spec: { controllerName: 'io.cilium/gateway-controller', ...over },
});
const grant = (spec: unknown) => ({
  apiVersion: 'gateway.networking.k8s.io/v1beta1',
  kind: 'ReferenceGrant',
  metadata: { name: 'allow-routes', namespace: 'backends' },
  spec,
});
const paths = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  r.success ? [] : r.error!.issues.map((i) => i.path.join('.'));

describe('GatewayClass schema', () => {
  it('accepts the article’s class and every field of the type', () => {
    expect(gatewayClass.safeParse(gc()).success).toBe(true);
    const full = gc({
      description: 'Cilium’s Gateway API controller',
      parametersRef: { group: 'cilium.io', kind: 'CiliumGatewayClassConfig', name: 'cfg', namespace: 'kube-system' },
    });
    expect(
      gatewayClass.safeParse({ ...full, status: { conditions: [{ type: 'Accepted', status: 'True' }] } }).success,
    ).toBe(true);
  });
  it('refuses what the CRD refuses', () => {
    expect(paths(gatewayClass.safeParse(gc({ controllerName: 'no-slash' })))).toEqual(['spec.controllerName']);
    expect(paths(gatewayClass.safeParse(gc({ controllerName: 'Example.com/x' })))).toEqual(['spec.controllerName']);
    expect(paths(gatewayClass.safeParse(gc({ description: 'x'.repeat(65) })))).toEqual(['spec.description']);
    expect(paths(gatewayClass.safeParse(gc({ parametersRef: { kind: 'X', name: 'y' } })))).toEqual([
      'spec.parametersRef.group',
    ]);
    expect(paths(gatewayClass.safeParse(gc({ controller: 'io.cilium/gateway-controller' })))).toEqual(['spec']);
  });
});

describe('ReferenceGrant schema', () => {
  it('accepts a grant from HTTPRoutes in app-team to Services here (named or all)', () => {
    const spec = {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'app-team' }],
      to: [
        { group: '', kind: 'Service' },
        { group: '', kind: 'Secret', name: 'wildcard-cert' },
      ],
    };
    expect(referenceGrant.safeParse(grant(spec)).success).toBe(true);
  });
  it('refuses empty lists, a from without namespace, and status', () => {
    expect(paths(referenceGrant.safeParse(grant({ from: [], to: [{ group: '', kind: 'Service' }] })))).toEqual([
      'spec.from',
    ]);
    expect(
      paths(
        referenceGrant.safeParse(
          grant({ from: [{ group: '', kind: 'HTTPRoute' }], to: [{ group: '', kind: 'Service' }] }),
        ),
      ),
    ).toEqual(['spec.from.0.namespace']);
    expect(
      paths(
        referenceGrant.safeParse({
          ...grant({ from: [{ group: '', kind: 'HTTPRoute', namespace: 'a' }], to: [{ group: '', kind: 'Service' }] }),
          status: {},
        }),
      ),
    ).toEqual(['']);
  });
});

describe('discovery', () => {
  it('names them as kubectl does: gatewayclass/gc (cluster), referencegrant/refgrant (v1beta1)', () => {
    expect(findResource('gc')).toMatchObject({ kind: 'GatewayClass', namespaced: false, status: true, version: 'v1' });
    expect(findResource('gatewayclasses.gateway.networking.k8s.io')?.kind).toBe('GatewayClass');
    expect(findResource('refgrant')).toMatchObject({ kind: 'ReferenceGrant', namespaced: true, version: 'v1beta1' });
    const g = (
      apiGroupList() as {
        groups: { name: string; versions: { version: string }[]; preferredVersion: { version: string } }[];
      }
    ).groups.find((x) => x.name === 'gateway.networking.k8s.io')!;
    expect(g.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1']);
    expect(g.preferredVersion.version).toBe('v1');
    const beta = apiResourceList('gateway.networking.k8s.io/v1beta1') as { resources: { name: string }[] };
    expect(beta.resources.map((r) => r.name)).toEqual(['referencegrants']);
  });
});

describe('printers (the CRDs’ printer columns)', () => {
  const now = Date.parse('2025-01-01T00:10:00Z');
  const meta = (name: string) => ({ name, creationTimestamp: '2025-01-01T00:00:00Z' });
  it('GatewayClass NAME CONTROLLER ACCEPTED AGE (+ DESCRIPTION wide)', () => {
    const c = {
      ...gc({ description: 'lab' }),
      metadata: meta('cilium'),
      status: { conditions: [{ type: 'Accepted', status: 'True' }] },
    };
    expect(PRINTERS.GatewayClass.columns).toEqual(['NAME', 'CONTROLLER', 'ACCEPTED', 'AGE']);
    expect(PRINTERS.GatewayClass.row(c, now, false)).toEqual(['cilium', 'io.cilium/gateway-controller', 'True', '10m']);
    expect(PRINTERS.GatewayClass.row({ ...gc(), metadata: meta('x') }, now, true)).toEqual([
      'x',
      'io.cilium/gateway-controller',
      '<none>',
      '10m',
      '<none>',
    ]);
  });
  it('Gateway NAME CLASS ADDRESS PROGRAMMED AGE; HTTPRoute NAME HOSTNAMES AGE; ReferenceGrant NAME AGE', () => {
    const gw = {
      metadata: meta('main-gateway'),
      spec: { gatewayClassName: 'cilium' },
      status: {
        addresses: [{ type: 'IPAddress', value: '172.28.0.241' }],
        conditions: [{ type: 'Programmed', status: 'True' }],
      },
    };
    expect(PRINTERS.Gateway.row(gw, now, false)).toEqual(['main-gateway', 'cilium', '172.28.0.241', 'True', '10m']);
    expect(
      PRINTERS.HTTPRoute.row({ metadata: meta('api-route'), spec: { hostnames: ['api.example.com'] } }, now, false),
    ).toEqual(['api-route', '["api.example.com"]', '10m']);
    const t = toTable('ReferenceGrant', [{ metadata: meta('g') }], '7', now) as {
      columnDefinitions: { name: string }[];
      rows: { cells: string[] }[];
    };
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['NAME', 'AGE']);
    expect(t.rows[0].cells).toEqual(['g', '10m']);
  });
});

describe('the API server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwgc-'));
  let store: FileStore;
  let api: ApiServer;
  let client: ApiClient;
  beforeAll(async () => {
    store = FileStore.open(path.join(dir, 'store'));
    api = new ApiServer(store);
    await api.bootstrap();
    await api.listenUnix(path.join(dir, 'api.sock'));
    client = new ApiClient(`unix:${path.join(dir, 'api.sock')}`);
  });
  afterAll(async () => {
    client.close();
    await api.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores a GatewayClass with a status subresource; its controllerName is immutable', async () => {
    const made = await client.create(gc());
    expect(made.metadata.namespace).toBeUndefined();
    const st = await client.updateStatus({
      ...made,
      status: {
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: '',
            lastTransitionTime: '2025-01-01T00:00:00Z',
            observedGeneration: 1,
          },
        ],
      },
    });
    expect(st.status.conditions[0].status).toBe('True');
    // a spec update keeps the status the controller wrote
    const upd = await client.update({ ...st, spec: { ...st.spec, description: 'lab' } });
    expect(upd.status.conditions[0].type).toBe('Accepted');
    expect(upd.metadata.generation).toBe(2);
    const err = await client.update({ ...upd, spec: { controllerName: 'example.com/other' } }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiClientError);
    expect(err.status).toBe(422);
    expect(err.message).toBe(
      'GatewayClass.gateway.networking.k8s.io "cilium" is invalid: spec.controllerName: Invalid value: "string": Value is immutable',
    );
  });

  it('stores a ReferenceGrant in its namespace and lists it', async () => {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'backends' } });
    await client.create(
      grant({
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'app-team' }],
        to: [{ group: '', kind: 'Service' }],
      }),
    );
    const l = await client.list('referencegrants', { namespace: 'backends' });
    expect(l.items.map((o) => [o.apiVersion, o.metadata.name])).toEqual([
      ['gateway.networking.k8s.io/v1beta1', 'allow-routes'],
    ]);
  });
});
