import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../../../src/control/store/index.js';
import { ApiError, apiResourceList, findResource } from '../../../../src/control/api/index.js';
import { Registry } from '../../../../src/control/api/registry.js';
import { SERVED } from '../../../../src/control/api/served.js';
import { discoveryList } from '../../../../src/control/api/openapi.js';
import { findSubresource, SUBRESOURCES } from '../../../../src/control/api/subresources/index.js';
import type { Target, WriteContext } from '../../../../src/control/api/object.js';

// The registry and the kinds' strategies without HTTP, over a real file store.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwreg-'));
let store: FileStore;
let reg: Registry;
const ctx = (): WriteContext => ({ fv: 'Strict', warnings: [], dryRun: false });
const at = (plural: string, namespace?: string, name?: string): Target => ({
  r: findResource(plural)!,
  namespace,
  name,
});

beforeAll(async () => {
  store = FileStore.open(path.join(dir, 'store'));
  reg = new Registry(store);
  await reg.create(at('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }, ctx());
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const svc = (name: string, clusterIP?: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ports: [{ port: 80 }], selector: { app: name }, ...(clusterIP ? { clusterIP } : {}) },
});

describe('the registry and the kinds’ strategies', () => {
  it('gives concurrent Services distinct cluster IPs (their writes take turns) and keeps them on update', async () => {
    const made = await Promise.all(
      ['a', 'b', 'c', 'd'].map((n) => reg.create(at('services', 'default'), svc(n), ctx())),
    );
    const ips = made.map((s) => s.spec!.clusterIP as string);
    expect(new Set(ips).size).toBe(4);
    expect(made[0].status).toEqual({ loadBalancer: {} });
    const cur = await reg.get(at('services', 'default', 'a'));
    const updated = await reg.update(at('services', 'default', 'a'), { ...svc('a'), metadata: { name: 'a' } }, ctx());
    expect(updated.spec!.clusterIP).toBe(cur.spec!.clusterIP);
    expect(updated.metadata.generation).toBe(1); // defaults filled in the same: spec unchanged
  });

  it('starts a Pod Pending and deletes a bound one gracefully, at once with grace 0', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'podwire/netexec' }] },
    };
    const made = await reg.create(at('pods', 'default'), pod, ctx());
    expect(made.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    const t = at('pods', 'default', 'p');
    const terminating = await reg.delete(t);
    expect(terminating.kind).toBe('Pod');
    expect(
      (terminating as { metadata: { deletionGracePeriodSeconds?: number } }).metadata.deletionGracePeriodSeconds,
    ).toBe(30);
    await expect(reg.delete(t, new URLSearchParams('gracePeriodSeconds=-1'))).rejects.toThrow(/whole number/);
    expect((await reg.delete(t, new URLSearchParams('gracePeriodSeconds=0'))).kind).toBe('Status');
    await expect(reg.get(t)).rejects.toBeInstanceOf(ApiError);
  });

  it('refuses a changed GatewayClass controllerName and takes a namespace’s objects along when it goes', async () => {
    const gc = (controllerName: string) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'g' },
      spec: { controllerName },
    });
    await reg.create(at('gatewayclasses'), gc('example.com/a'), ctx());
    await expect(reg.update(at('gatewayclasses', undefined, 'g'), gc('example.com/b'), ctx())).rejects.toThrow(
      /spec.controllerName: Invalid value: "string": Value is immutable/,
    );
    await reg.create(at('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } }, ctx());
    await reg.create(at('services', 'gone'), svc('s'), ctx());
    expect((await reg.get(at('namespaces', undefined, 'gone'))).status).toEqual({ phase: 'Active' });
    await reg.delete(at('namespaces', undefined, 'gone'));
    expect((await reg.list(at('services', 'gone'), new URLSearchParams())).items).toEqual([]);
  });
});

describe('subresources', () => {
  it('are found by resource and method, and 404 elsewhere', () => {
    const pods = findResource('pods')!;
    expect(findSubresource(pods, 'binding', 'POST')?.name).toBe('binding');
    expect(findSubresource(pods, 'binding', 'GET')).toBeUndefined();
    expect(findSubresource(pods, 'scale', 'GET')).toBeUndefined();
    expect(findSubresource(findResource('deployments')!, 'scale', 'PATCH')?.name).toBe('scale');
    const names = SUBRESOURCES.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['status', 'scale', 'binding', 'log']));
    expect(new Set(names).size).toBe(names.length);
  });

  it('list themselves in discovery: status and scale as resources.ts always listed them, in its order', () => {
    for (const gv of new Set(SERVED.map((r) => (r.group ? `${r.group}/${r.version}` : 'v1')))) {
      const legacy = apiResourceList(gv, SERVED, true)!.resources as { name: string }[];
      const served = discoveryList(gv)!.resources as { name: string }[];
      // (other subresources may follow a resource's entries: pods/ephemeralcontainers …)
      expect(served.filter((e) => legacy.some((l) => l.name === e.name))).toEqual(legacy);
    }
    // each subresource listed once, under its own resource
    const core = (discoveryList('v1')!.resources as { name: string }[]).map((r) => r.name);
    expect(new Set(core).size).toBe(core.length);
    for (const name of core.filter((n) => n.includes('/')))
      expect(core.indexOf(name.split('/')[0])).toBeLessThan(core.indexOf(name));
    const apps = (discoveryList('apps/v1')!.resources as { name: string }[]).map((r) => r.name);
    expect(apps).toContain('deployments/scale');
    expect(discoveryList('nope/v1')).toBeNull();
  });
});
