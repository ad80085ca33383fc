import { describe, it, expect } from 'vitest';
import { strategicMergePatch } from '../../../src/control/api/strategic-merge.js';

const deploy = {
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.26',
            ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
            env: [{ name: 'A', value: '1' }],
          },
          { name: 'side', image: 'busybox' },
        ],
      },
    },
  },
  metadata: { name: 'web', finalizers: ['a'] },
};

describe('strategic merge patch', () => {
  it('kubectl set image: merges containers by name, keeps everything else', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }, { name: 'side' }],
            containers: [{ image: 'nginx:1.27', name: 'web' }],
          },
        },
      },
    };
    const out = strategicMergePatch('Deployment', deploy, patch) as any;
    expect(out.spec.template.spec.containers).toEqual([
      {
        name: 'web',
        image: 'nginx:1.27',
        ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
        env: [{ name: 'A', value: '1' }],
      },
      { name: 'side', image: 'busybox' },
    ]);
    expect(out.spec.replicas).toBe(2);
  });

  it('adds, deletes ($patch: delete) and orders list elements; merges ports and env by their keys', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'side' }, { name: 'web' }],
            containers: [
              {
                name: 'web',
                ports: [{ containerPort: 8080, name: 'alt' }],
                env: [
                  { name: 'B', value: '2' },
                  { name: 'A', value: '9' },
                ],
              },
              { name: 'gone', $patch: 'delete' },
            ],
          },
        },
      },
    };
    const out = strategicMergePatch('Deployment', deploy, patch) as any;
    const [side, web] = out.spec.template.spec.containers;
    expect(side.name).toBe('side');
    expect(web.ports.map((p: any) => p.containerPort)).toEqual([80, 8080]);
    expect(web.env).toEqual([
      { name: 'A', value: '9' },
      { name: 'B', value: '2' },
    ]);
    const del = strategicMergePatch('Deployment', deploy, {
      spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } },
    }) as any;
    expect(del.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['web']);
  });

  it('null deletes a field, $patch: replace replaces, lists without a key are replaced, finalizers merge as a set', () => {
    expect(
      (strategicMergePatch('Deployment', deploy, { spec: { replicas: null } }) as any).spec.replicas,
    ).toBeUndefined();
    const rep = strategicMergePatch('Deployment', deploy, {
      spec: { template: { $patch: 'replace', spec: { containers: [] } } },
    }) as any;
    expect(rep.spec.template).toEqual({ spec: { containers: [] } });
    const args = strategicMergePatch(
      'Pod',
      { spec: { containers: [{ name: 'c', args: ['a', 'b'] }] } },
      { spec: { containers: [{ name: 'c', args: ['z'] }] } },
    ) as any;
    expect(args.spec.containers[0].args).toEqual(['z']);
    expect(
      (strategicMergePatch('Deployment', deploy, { metadata: { finalizers: ['b', 'a'] } }) as any).metadata.finalizers,
    ).toEqual(['a', 'b']);
    expect(
      (strategicMergePatch('Deployment', deploy, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as any)
        .metadata.finalizers,
    ).toEqual([]);
  });

  it('a Service’s ports merge by port, not containerPort', () => {
    const svc = {
      spec: {
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 443, targetPort: 8443 },
        ],
      },
    };
    const out = strategicMergePatch('Service', svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }) as any;
    expect(out.spec.ports).toEqual([
      { port: 80, targetPort: 9090 },
      { port: 443, targetPort: 8443 },
    ]);
  });
});
