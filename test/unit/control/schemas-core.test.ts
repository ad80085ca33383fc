import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { validateObject, findResource, ApiError } from '../../../src/control/api/index.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples');
const docs = fs
  .readdirSync(examples)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(examples, f), 'utf8')).map((d) => ({ file: f, obj: d.toJS() as any })),
  );

const errorOf = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected an ApiError');
};
const check = (obj: any) => validateObject(findResource(obj.kind)!, obj);

const deployment = (over: any = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web', tier: 'frontend' } },
      spec: {
        containers: [
          {
            name: 'nginx',
            image: 'nginx:1.27',
            ports: [{ name: 'http', containerPort: 80 }],
            env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
            readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
          },
        ],
      },
    },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    ...over,
  },
});

describe('core and apps schemas', () => {
  it('accept every Pod and Service manifest of the seed articles unchanged', () => {
    const mine = docs.filter((d) => ['Pod', 'Service'].includes(d.obj?.kind));
    expect(mine.length).toBeGreaterThanOrEqual(10);
    for (const d of mine) expect(() => check(d.obj), `${d.file}: ${d.obj.metadata?.name}`).not.toThrow();
  });

  it('accept a typical Deployment and a StatefulSet', () => {
    expect(() => check(deployment())).not.toThrow();
    const sts = deployment();
    sts.kind = 'StatefulSet';
    (sts.spec as any).serviceName = 'web';
    delete (sts.spec as any).strategy;
    (sts.spec as any).podManagementPolicy = 'Parallel';
    expect(() => check(sts)).not.toThrow();
  });

  it('reject an unknown field deep in a pod template as a strict decoding error', () => {
    const d = deployment();
    (d.spec.template.spec.containers[0] as any).imagee = 'typo';
    const e = errorOf(() => check(d));
    expect(e.code).toBe(400);
    expect(e.message).toBe('strict decoding error: unknown field "spec.template.spec.containers[0].imagee"');
  });

  it('report what Kubernetes reports: selector vs labels, duplicate names, port ranges', () => {
    const mismatch = errorOf(() => check(deployment({ selector: { matchLabels: { app: 'api' } } })));
    expect(mismatch.code).toBe(422);
    expect(mismatch.message).toContain('spec.template.metadata.labels: Invalid value');
    expect(mismatch.message).toContain('`selector` does not match template `labels`');
    const twice = deployment();
    twice.spec.template.spec.containers.push({ ...twice.spec.template.spec.containers[0] });
    expect(errorOf(() => check(twice)).details?.causes?.map((c) => [c.field, c.reason])).toEqual([
      ['spec.template.spec.containers[1].name', 'FieldValueDuplicate'],
    ]);
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 8080 }, { port: 443 }] },
    };
    const causes = errorOf(() => check(svc)).details?.causes?.map((c) => c.field);
    expect(causes).toEqual(['spec.ports[0].name', 'spec.ports[0].nodePort', 'spec.ports[1].name']);
    const badPort = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 70000 }] }] },
    };
    expect(errorOf(() => check(badPort)).details?.causes?.[0].field).toBe('spec.containers[0].ports[0].containerPort');
    const noContainers = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } };
    expect(errorOf(() => check(noContainers)).code).toBe(422);
    const ext = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { type: 'ExternalName' } };
    expect(errorOf(() => check(ext)).details?.causes?.[0]).toMatchObject({
      field: 'spec.externalName',
      reason: 'FieldValueRequired',
    });
  });
});
