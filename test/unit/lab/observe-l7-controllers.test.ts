// How observe and trace recognise the ingress controller pods and read
// their flags (the relay's port, the classes the route table is compiled
// for), and how trace names the Service frontend an address is and the
// routes that claim a host.

import { describe, expect, it } from 'vitest';
import { controllerArgsOf, isControllerImage } from '../../../src/lab/index.js';
import { findFrontend, routesNaming } from '../../../src/cli/ingress-trace.js';
import { CONTROLLER_ARGS, ingressAddon } from '../../../src/ingress/addon.js';

const pod = (containers: Record<string, unknown>[], ns = 'ingress-nginx') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'ingress-nginx-controller-x', namespace: ns },
  spec: { containers },
});

describe('controller pods', () => {
  it('by image: ingress-nginx/controller on any registry, tag or digest; not another "controller"', () => {
    expect(isControllerImage('registry.k8s.io/ingress-nginx/controller:v1.11.3')).toBe(true);
    expect(
      isControllerImage(
        'registry.k8s.io/ingress-nginx/controller:v1.11.3@sha256:d56f135b6462cfc476447cfe564b83a45e8bb7da2774963b00d12161112270b7',
      ),
    ).toBe(true);
    expect(isControllerImage('mirror.example.com/ingress-nginx/controller-chroot:v1.10.0')).toBe(true);
    expect(isControllerImage('quay.io/example/controller:1.0')).toBe(false);
    expect(isControllerImage('nginx:1.27')).toBe(false);
  });

  it('the add-on’s Deployment args as the controller reads them, $(POD_NAMESPACE) expanded', () => {
    const deploy = ingressAddon().find((o) => o.kind === 'Deployment') as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    const a = controllerArgsOf(pod(deploy.spec.template.spec.containers) as never);
    expect(a).toMatchObject({
      controllerClass: 'k8s.io/ingress-nginx',
      ingressClass: 'nginx',
      httpPort: 80,
      httpsPort: 443,
      healthzPort: 10254,
      publishService: { namespace: 'ingress-nginx', name: 'ingress-nginx-controller' },
      watchNamespace: '',
    });
    expect(CONTROLLER_ARGS[0]).toBe('/nginx-ingress-controller');
  });

  it('dumb-init and its "--" before the binary, other ports and a watched namespace; flags it cannot read give the defaults', () => {
    const image = 'registry.k8s.io/ingress-nginx/controller:v1.11.3';
    const a = controllerArgsOf(
      pod(
        [
          {
            name: 'c',
            image,
            command: ['/usr/bin/dumb-init', '--'],
            args: [
              '/nginx-ingress-controller',
              '--healthz-port=10300',
              '--http-port',
              '8080',
              '--watch-namespace=$(POD_NAMESPACE)',
            ],
          },
        ],
        'team-a',
      ) as never,
    );
    expect(a).toMatchObject({ healthzPort: 10300, httpPort: 8080, watchNamespace: 'team-a' });
    expect(
      controllerArgsOf(pod([{ name: 'c', image, args: ['/nginx-ingress-controller', '--no-such-flag'] }]) as never)
        .healthzPort,
    ).toBe(10254);
  });
});

describe('trace: the frontend an address is, the routes naming a host', () => {
  const lb = {
    metadata: { namespace: 'ingress-nginx', name: 'ingress-nginx-controller' },
    spec: {
      type: 'LoadBalancer',
      clusterIP: '10.96.1.1',
      ports: [
        { name: 'http', port: 80, targetPort: 'http', nodePort: 30086 },
        { name: 'https', port: 443, targetPort: 'https', nodePort: 30087 },
      ],
    },
    status: { loadBalancer: { ingress: [{ ip: '172.28.0.240' }] } },
  };
  const slices = [
    {
      metadata: {
        namespace: 'ingress-nginx',
        name: 'x',
        labels: { 'kubernetes.io/service-name': 'ingress-nginx-controller' },
      },
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
    },
  ];
  const nodes = ['172.28.0.11', '172.28.0.12'];
  const fe = (a: string, p: number) => {
    const f = findFrontend([lb] as never, slices as never, a, p, nodes);
    return f && `${f.type} ${f.service} → :${f.targetPort}`;
  };

  it('LoadBalancer, ClusterIP and NodePort addresses; a named targetPort resolved through the EndpointSlice', () => {
    expect(fe('172.28.0.240', 443)).toBe('LoadBalancer ingress-nginx/ingress-nginx-controller → :443');
    expect(fe('10.96.1.1', 80)).toBe('ClusterIP ingress-nginx/ingress-nginx-controller → :80');
    expect(fe('172.28.0.12', 30086)).toBe('NodePort ingress-nginx/ingress-nginx-controller → :80');
    expect(fe('172.28.0.13', 30086)).toBeUndefined(); // not a node of this cluster
    expect(fe('172.28.0.240', 8080)).toBeUndefined();
  });

  it('hosts exactly and by one-label wildcard, from Ingress rules and HTTPRoute hostnames', () => {
    const ings = [
      {
        metadata: { namespace: 'default', name: 'app' },
        spec: { rules: [{ host: 'app.example.com' }, { host: '*.example.com' }] },
      },
    ];
    const routes = [{ metadata: { namespace: 'app-team', name: 'api' }, spec: { hostnames: ['*.example.com'] } }];
    expect(routesNaming('app.example.com', ings as never, routes as never)).toEqual([
      'Ingress default/app',
      'HTTPRoute app-team/api',
    ]);
    expect(routesNaming('www.example.com', ings as never, [])).toEqual(['Ingress default/app']);
    expect(routesNaming('a.b.example.com', ings as never, routes as never)).toEqual([]);
    expect(routesNaming('example.com', ings as never, routes as never)).toEqual([]);
  });
});
