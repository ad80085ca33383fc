import { describe, it, expect } from 'vitest';
import { findResource } from '../../../src/control/api/index.js';
import {
  asList,
  conditionMet,
  describePod,
  describeService,
  evalJsonPath,
  formatEndpoints,
  humanDuration,
  nameOf,
  parseFor,
  parseResourceArgs,
  parseTimeoutMs,
  podCells,
  renderTables,
  rfc1123z,
  tabbed,
  TABLE_WRITER,
  toJSON,
  toYAML,
  WatchPrinter,
  withType,
} from '../../../src/cli/kube/index.js';

// kubectl's printers on fixed objects, with a fixed clock: what `podwire
// get/describe` print, compared as exact text. Describe prints local
// times (Go's RFC1123Z): pin the zone.
process.env.TZ = 'UTC';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const r = (name: string) => findResource(name)!;
type Obj = Record<string, any>;
const meta = (name: string, ageS: number, extra: Obj = {}) => ({
  name,
  namespace: 'default',
  uid: `uid-${name}`,
  creationTimestamp: ago(ageS),
  ...extra,
});
const running = (name: string, restarts = 0, extra: Obj = {}) => ({
  name,
  ready: true,
  restartCount: restarts,
  started: true,
  image: 'nginx',
  imageID: '',
  state: { running: { startedAt: ago(60) } },
  lastState: {},
  ...extra,
});
const pod = (name: string, ageS: number, status: Obj, spec: Obj = {}, m: Obj = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: meta(name, ageS, m),
  spec: { containers: [{ name: 'web', image: 'nginx' }], ...spec },
  status,
});
const table = (
  kind: string,
  items: Obj[],
  opts: Partial<{ wide: boolean; allNamespaces: boolean; withKind: boolean }> = {},
) => renderTables([{ r: r(kind), items }], NOW, { wide: false, allNamespaces: false, withKind: false, ...opts });
const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('AGE: apimachinery HumanDuration', () => {
  it.each([
    [-5_000, '<invalid>'],
    [-1_500, '0s'],
    [0, '0s'],
    [1_999, '1s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [182_000, '3m2s'],
    [599_000, '9m59s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [(3 * 60 + 5) * 60_000, '3h5m'],
    [8 * 3_600_000 + 59 * 60_000, '8h'],
    [47 * 3_600_000, '47h'],
    [48 * 3_600_000, '2d'],
    [51 * 3_600_000, '2d3h'],
    [8 * 86_400_000, '8d'],
    [700 * 86_400_000, '700d'],
    [(2 * 365 + 30) * 86_400_000, '2y30d'],
    [9 * 365 * 86_400_000, '9y'],
  ])('%d ms → %s', (ms, text) => expect(humanDuration(ms)).toBe(text));

  it('RFC1123Z as describe prints it', () => {
    expect(rfc1123z('2024-05-01T09:03:04Z')).toBe('Wed, 01 May 2024 09:03:04 +0000');
    expect(rfc1123z(undefined)).toBe('Mon, 01 Jan 0001 00:00:00 +0000');
  });
});

describe('pod STATUS, READY and RESTARTS as kubectl computes them', () => {
  const cases: [string, Obj, Obj, Obj, [string, string, string]][] = [
    ['pending, nothing reported yet', { phase: 'Pending' }, {}, {}, ['0/1', 'Pending', '0']],
    [
      'image being set up',
      {
        phase: 'Pending',
        containerStatuses: [
          { name: 'web', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
        ],
      },
      {},
      {},
      ['0/1', 'ContainerCreating', '0'],
    ],
    ['running and ready', { phase: 'Running', containerStatuses: [running('web')] }, {}, {}, ['1/1', 'Running', '0']],
    [
      'crash looping, restarts with the last one',
      {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(300) } },
          },
        ],
      },
      {},
      {},
      ['0/1', 'CrashLoopBackOff', '4 (5m ago)'],
    ],
    [
      'completed',
      {
        phase: 'Succeeded',
        containerStatuses: [
          { name: 'web', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
      { restartPolicy: 'Never' },
      {},
      ['0/1', 'Completed', '0'],
    ],
    [
      'exit code without a reason',
      {
        phase: 'Failed',
        containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }],
      },
      {},
      {},
      ['0/1', 'ExitCode:3', '0'],
    ],
    [
      'killed by a signal',
      {
        phase: 'Failed',
        containerStatuses: [
          { name: 'web', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } },
        ],
      },
      {},
      {},
      ['0/1', 'Signal:9', '0'],
    ],
    [
      'being deleted',
      { phase: 'Running', containerStatuses: [running('web')] },
      {},
      { deletionTimestamp: ago(3) },
      ['1/1', 'Terminating', '0'],
    ],
    [
      'one container done, one still running: NotReady',
      {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          running('a'),
          { name: 'b', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
      { containers: [{ name: 'a' }, { name: 'b' }] },
      {},
      ['1/2', 'NotReady', '0'],
    ],
    [
      'init container running',
      {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'init', ready: false, restartCount: 0, state: { running: { startedAt: ago(5) } } },
        ],
      },
      { initContainers: [{ name: 'init' }] },
      {},
      ['0/1', 'Init:0/1', '0'],
    ],
    [
      'init container crash looping',
      {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'init', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      },
      { initContainers: [{ name: 'init' }] },
      {},
      ['0/1', 'Init:CrashLoopBackOff', '2'],
    ],
    [
      'init container failed',
      {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'init', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } },
        ],
      },
      { initContainers: [{ name: 'init' }] },
      {},
      ['0/1', 'Init:Error', '0'],
    ],
    ['status.reason wins over the phase', { phase: 'Failed', reason: 'Evicted' }, {}, {}, ['0/1', 'Evicted', '0']],
  ];
  it.each(cases)('%s', (_name, status, spec, m, [ready, st, restarts]) => {
    expect(podCells(pod('p', 60, status, spec, m), NOW)).toEqual({ ready, status: st, restarts });
  });
});

describe('get tables', () => {
  const web1 = pod(
    'web-1',
    3 * 60 + 2,
    {
      phase: 'Running',
      podIP: '10.244.1.2',
      podIPs: [{ ip: '10.244.1.2' }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [running('web', 2, { lastState: { terminated: { exitCode: 137, finishedAt: ago(300) } } })],
    },
    { nodeName: 'node1' },
  );
  const client = pod(
    'client',
    45,
    {
      phase: 'Pending',
      containerStatuses: [
        { name: 'web', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
      ],
    },
    { nodeName: 'node2' },
    { namespace: 'lab' },
  );

  it('pods, -o wide, -A', () => {
    expect(table('pods', [web1, client])).toBe(
      lines(
        'NAME     READY   STATUS              RESTARTS     AGE',
        'web-1    1/1     Running             2 (5m ago)   3m2s',
        'client   0/1     ContainerCreating   0            45s',
      ),
    );
    expect(table('pods', [web1], { wide: true })).toBe(
      lines(
        'NAME    READY   STATUS    RESTARTS     AGE    IP           NODE    NOMINATED NODE   READINESS GATES',
        'web-1   1/1     Running   2 (5m ago)   3m2s   10.244.1.2   node1   <none>           <none>',
      ),
    );
    expect(table('pods', [web1, client], { allNamespaces: true })).toBe(
      lines(
        'NAMESPACE   NAME     READY   STATUS              RESTARTS     AGE',
        'default     web-1    1/1     Running             2 (5m ago)   3m2s',
        'lab         client   0/1     ContainerCreating   0            45s',
      ),
    );
  });

  it('services: ClusterIP, NodePort, LoadBalancer (pending), -o wide adds the selector', () => {
    const svc = (name: string, spec: Obj, status: Obj = {}) => ({
      metadata: meta(name, 3600),
      spec: { selector: { app: name }, ...spec },
      status,
    });
    const items = [
      svc('web', {
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ports: [
          { port: 80, protocol: 'TCP' },
          { port: 443, protocol: 'TCP' },
        ],
      }),
      svc('np', {
        type: 'NodePort',
        clusterIP: '10.96.0.11',
        clusterIPs: ['10.96.0.11'],
        ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
      }),
      svc('lb', {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.12',
        clusterIPs: ['10.96.0.12'],
        ports: [{ port: 53, protocol: 'UDP' }],
      }),
      svc(
        'lb2',
        {
          type: 'LoadBalancer',
          clusterIP: '10.96.0.13',
          clusterIPs: ['10.96.0.13'],
          ports: [{ port: 80, protocol: 'TCP' }],
        },
        { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { ip: '203.0.113.9' }] } },
      ),
      svc('db', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] }),
    ];
    expect(table('svc', items)).toBe(
      lines(
        'NAME   TYPE           CLUSTER-IP   EXTERNAL-IP        PORT(S)          AGE',
        'web    ClusterIP      10.96.0.10   <none>             80/TCP,443/TCP   60m',
        'np     NodePort       10.96.0.11   <none>             80:30080/TCP     60m',
        'lb     LoadBalancer   10.96.0.12   <pending>          53/UDP           60m',
        'lb2    LoadBalancer   10.96.0.13   203.0.113.10,...   80/TCP           60m',
        'db     ClusterIP      None         <none>             <none>           60m',
      ),
    );
    expect(table('svc', [items[0], items[3]], { wide: true })).toBe(
      lines(
        'NAME   TYPE           CLUSTER-IP   EXTERNAL-IP                PORT(S)          AGE   SELECTOR',
        'web    ClusterIP      10.96.0.10   <none>                     80/TCP,443/TCP   60m   app=web',
        'lb2    LoadBalancer   10.96.0.13   203.0.113.10,203.0.113.9   80/TCP           60m   app=lb2',
      ),
    );
  });

  it('endpoints: three shown, "+ N more..."', () => {
    const ep = (name: string, subsets: Obj[]) => ({ metadata: meta(name, 90), subsets });
    const four = ep('web', [
      {
        addresses: ['10.244.1.2', '10.244.2.3', '10.244.2.4', '10.244.3.5'].map((ip) => ({ ip })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    const twoPorts = ep('dns', [
      {
        addresses: [{ ip: '10.244.1.9' }, { ip: '10.244.2.9' }],
        ports: [
          { name: 'dns', port: 53 },
          { name: 'dns-tcp', port: 53 },
        ],
      },
    ]);
    const headless = ep('raw', [{ addresses: [{ ip: '10.244.1.7' }] }]);
    expect(formatEndpoints(four)).toBe('10.244.1.2:8080,10.244.2.3:8080,10.244.2.4:8080 + 1 more...');
    expect(formatEndpoints(twoPorts)).toBe('10.244.1.9:53,10.244.2.9:53,10.244.1.9:53 + 1 more...');
    expect(formatEndpoints(twoPorts, new Set(['dns-tcp']))).toBe('10.244.1.9:53,10.244.2.9:53');
    expect(table('ep', [four, headless, ep('none', [])])).toBe(
      lines(
        'NAME   ENDPOINTS                                                     AGE',
        'web    10.244.1.2:8080,10.244.2.3:8080,10.244.2.4:8080 + 1 more...   90s',
        'raw    10.244.1.7                                                    90s',
        'none   <none>                                                        90s',
      ),
    );
  });

  it('nodes (nodeInfo may be absent), -o wide', () => {
    const node = (name: string, ready: string | null, extra: Obj = {}) => ({
      metadata: { name, creationTimestamp: ago(2 * 86_400 + 3 * 3600), labels: extra.labels ?? {} },
      spec: { podCIDR: '10.244.1.0/24', unschedulable: extra.unschedulable },
      status: {
        addresses: [{ type: 'InternalIP', address: extra.ip ?? '10.0.0.11' }],
        conditions: ready ? [{ type: 'Ready', status: ready }] : [],
        ...(extra.nodeInfo ? { nodeInfo: extra.nodeInfo } : {}),
      },
    });
    const items = [
      node('node1', 'True', {
        labels: { 'node-role.kubernetes.io/control-plane': '' },
        nodeInfo: {
          kubeletVersion: 'v1.30.0-podwire',
          osImage: 'Debian GNU/Linux 12',
          kernelVersion: '6.1.0-18-amd64',
          containerRuntimeVersion: 'podwire://0.1.0',
        },
      }),
      node('node2', 'False', { ip: '10.0.0.12', unschedulable: true }),
      node('node3', null, { ip: '10.0.0.13' }),
    ];
    expect(table('no', items)).toBe(
      lines(
        'NAME    STATUS                        ROLES           AGE    VERSION',
        'node1   Ready                         control-plane   2d3h   v1.30.0-podwire',
        'node2   NotReady,SchedulingDisabled   <none>          2d3h   ',
        'node3   Unknown                       <none>          2d3h   ',
      ),
    );
    expect(table('nodes', items.slice(0, 2), { wide: true })).toBe(
      lines(
        'NAME    STATUS                        ROLES           AGE    VERSION           INTERNAL-IP   EXTERNAL-IP   OS-IMAGE              KERNEL-VERSION   CONTAINER-RUNTIME',
        'node1   Ready                         control-plane   2d3h   v1.30.0-podwire   10.0.0.11     <none>        Debian GNU/Linux 12   6.1.0-18-amd64   podwire://0.1.0',
        'node2   NotReady,SchedulingDisabled   <none>          2d3h                     10.0.0.12     <none>        <unknown>             <unknown>        <unknown>',
      ),
    );
  });

  it('deployments, statefulsets, -o wide', () => {
    const tpl = {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.27' },
          { name: 'log', image: 'busybox' },
        ],
      },
    };
    const deploy = {
      metadata: meta('web', 600),
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: tpl },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(table('deploy', [deploy])).toBe(
      lines('NAME   READY   UP-TO-DATE   AVAILABLE   AGE', 'web    2/3     3            2           10m'),
    );
    expect(table('deploy', [deploy], { wide: true })).toBe(
      lines(
        'NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES               SELECTOR',
        'web    2/3     3            2           10m   web,log      nginx:1.27,busybox   app=web',
      ),
    );
    const sts = {
      metadata: meta('db', 7200),
      spec: { replicas: 3, selector: { matchLabels: { app: 'db' } }, template: tpl },
      status: { readyReplicas: 1 },
    };
    expect(table('sts', [sts])).toBe(lines('NAME   READY   AGE', 'db     1/3     120m'));
    expect(table('sts', [sts], { wide: true })).toBe(
      lines('NAME   READY   AGE    CONTAINERS   IMAGES', 'db     1/3     120m   web,log      nginx:1.27,busybox'),
    );
  });

  it('networkpolicies, ingresses, ingressclasses', () => {
    const np = [
      { metadata: meta('deny-all', 30), spec: { podSelector: {} } },
      {
        metadata: meta('web', 30),
        spec: {
          podSelector: {
            matchLabels: { app: 'web' },
            matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }],
          },
        },
      },
    ];
    expect(table('netpol', np)).toBe(
      lines(
        'NAME       POD-SELECTOR              AGE',
        'deny-all   <none>                    30s',
        'web        app=web,tier in (be,fe)   30s',
      ),
    );
    const ing = [
      {
        metadata: meta('shop', 30),
        spec: {
          ingressClassName: 'nginx',
          rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }],
          tls: [{ hosts: ['a.example.com'] }],
        },
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
      },
      { metadata: meta('any', 30), spec: { rules: [{ http: {} }] } },
      { metadata: meta('many', 30), spec: { rules: ['a', 'b', 'c', 'd', 'e'].map((h) => ({ host: `${h}.io` })) } },
    ];
    expect(table('ing', ing)).toBe(
      lines(
        'NAME   CLASS    HOSTS                        ADDRESS     PORTS     AGE',
        'shop   nginx    a.example.com,b.example.com   192.0.2.1   80, 443   30s',
        'any    <none>   *                                         80        30s',
        'many   <none>   a.io,b.io,c.io + 2 more...                80        30s',
      ).replace(
        'NAME   CLASS    HOSTS                        ADDRESS',
        'NAME   CLASS    HOSTS                         ADDRESS',
      ),
    );
    expect(
      table('ingressclasses', [
        { metadata: { name: 'nginx', creationTimestamp: ago(30) }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ]),
    ).toBe(lines('NAME    CONTROLLER             PARAMETERS   AGE', 'nginx   k8s.io/ingress-nginx   <none>       30s'));
  });

  it('events, endpointslices, namespaces, configmaps, secrets, gateways, httproutes', () => {
    const ev = {
      metadata: meta('web-1.17c', 100),
      involvedObject: { kind: 'Pod', name: 'web-1' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container ',
      firstTimestamp: ago(600),
      lastTimestamp: ago(65),
      count: 4,
      source: { component: 'kubelet', host: 'node1' },
    };
    expect(table('ev', [ev])).toBe(
      lines(
        'LAST SEEN   TYPE      REASON    OBJECT      MESSAGE',
        '65s         Warning   BackOff   pod/web-1   Back-off restarting failed container',
      ),
    );
    expect(table('ev', [ev], { wide: true })).toBe(
      lines(
        'LAST SEEN   TYPE      REASON    OBJECT      SUBOBJECT   SOURCE           MESSAGE                                FIRST SEEN   COUNT   NAME',
        '65s         Warning   BackOff   pod/web-1               kubelet, node1   Back-off restarting failed container   10m          4       web-1.17c',
      ),
    );
    const slice = {
      metadata: meta('web-abcde', 20),
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }, { name: 'x' }],
      endpoints: [
        { addresses: ['10.244.1.2'] },
        { addresses: ['10.244.2.3'] },
        { addresses: ['10.244.2.4'] },
        { addresses: ['10.244.3.4'] },
      ],
    };
    expect(table('endpointslices', [slice, { metadata: meta('empty', 20), addressType: 'IPv4' }])).toBe(
      lines(
        'NAME        ADDRESSTYPE   PORTS     ENDPOINTS                                      AGE',
        'web-abcde   IPv4          8080,x    10.244.1.2,10.244.2.3,10.244.2.4 + 1 more...   20s',
        'empty       IPv4          <unset>   <unset>                                        20s',
      ),
    );
    expect(
      table('ns', [{ metadata: { name: 'default', creationTimestamp: ago(86_400) }, status: { phase: 'Active' } }]),
    ).toBe(lines('NAME      STATUS   AGE', 'default   Active   24h'));
    expect(table('cm', [{ metadata: meta('cfg', 5), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }])).toBe(
      lines('NAME   DATA   AGE', 'cfg    3      5s'),
    );
    expect(
      table('secrets', [
        { metadata: meta('tls', 5), type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } },
      ]),
    ).toBe(lines('NAME   TYPE                DATA   AGE', 'tls    kubernetes.io/tls   2      5s'));
    const gw = {
      metadata: meta('gw', 5),
      spec: { gatewayClassName: 'podwire' },
      status: { addresses: [{ value: '10.96.7.7' }], conditions: [{ type: 'Programmed', status: 'True' }] },
    };
    expect(table('gateways', [gw, { metadata: meta('new', 5), spec: { gatewayClassName: 'podwire' } }])).toBe(
      lines(
        'NAME   CLASS     ADDRESS     PROGRAMMED   AGE',
        'gw     podwire   10.96.7.7   True         5s',
        'new    podwire   <none>      <none>       5s',
      ),
    );
    expect(
      table('httproutes', [
        { metadata: meta('route', 5), spec: { hostnames: ['shop.example.com'] } },
        { metadata: meta('all', 5), spec: {} },
      ]),
    ).toBe(
      lines(
        'NAME    HOSTNAMES              AGE',
        'route   ["shop.example.com"]   5s',
        'all     <none>                 5s',
      ),
    );
  });

  it('`get all`: one table per type with objects, kind/name, a blank line between', () => {
    const svc = {
      metadata: meta('web', 60),
      spec: { type: 'ClusterIP', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }] },
    };
    const deploy = {
      metadata: meta('web', 60),
      spec: { replicas: 1 },
      status: { readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 },
    };
    const text = renderTables(
      [
        { r: r('pods'), items: [pod('web-7d9c-x2x4z', 60, { phase: 'Running', containerStatuses: [running('web')] })] },
        { r: r('services'), items: [svc] },
        { r: r('deployments'), items: [deploy] },
        { r: r('statefulsets'), items: [] },
      ],
      NOW,
      { wide: false, allNamespaces: false, withKind: true },
    );
    expect(text).toBe(
      lines(
        'NAME                 READY   STATUS    RESTARTS   AGE',
        'pod/web-7d9c-x2x4z   1/1     Running   0          60s',
        '',
        'NAME          TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE',
        'service/web   ClusterIP   10.96.0.10   <none>        80/TCP    60s',
        '',
        'NAME                  READY   UP-TO-DATE   AVAILABLE   AGE',
        'deployment.apps/web   1/1     1            1           60s',
      ),
    );
    expect(
      renderTables([{ r: r('pods'), items: [] }], NOW, { wide: false, allNamespaces: false, withKind: false }),
    ).toBe('');
  });

  it('-w: later rows keep the columns of the first table', () => {
    const w = new WatchPrinter(r('pods'), { wide: false, allNamespaces: false, withKind: false });
    const p = pod('web-1', 10, { phase: 'Pending' });
    expect(w.initial([p], NOW)).toBe(
      lines('NAME    READY   STATUS    RESTARTS   AGE', 'web-1   0/1     Pending   0          10s'),
    );
    expect(w.row(pod('web-1', 12, { phase: 'Running', containerStatuses: [running('web')] }), NOW)).toBe(
      lines('web-1   1/1     Running   0          12s'),
    );
    expect(
      w.row(
        pod('a', 1, {
          phase: 'Pending',
          containerStatuses: [
            { name: 'web', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
          ],
        }),
        NOW,
      ),
    ).toBe(lines('a       0/1     ContainerCreating   0          1s'));
  });
});

describe('-o name, -o json, -o yaml', () => {
  const p = withType(r('pods'), {
    metadata: {
      name: 'web-1',
      namespace: 'default',
      creationTimestamp: '2024-05-01T11:00:00Z',
      resourceVersion: '42',
      labels: { app: 'web', on: 'yes' },
    },
    spec: { containers: [{ name: 'web', image: 'nginx', args: ['<html> & more'] }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] },
  });

  it('names kinds as kubectl does', () => {
    expect(nameOf(r('pods'), p)).toBe('pod/web-1');
    expect(nameOf(r('deploy'), { metadata: { name: 'web' } })).toBe('deployment.apps/web');
    expect(nameOf(r('netpol'), { metadata: { name: 'deny' } })).toBe('networkpolicy.networking.k8s.io/deny');
    expect(nameOf(r('gateways'), { metadata: { name: 'gw' } })).toBe('gateway.gateway.networking.k8s.io/gw');
  });

  it('JSON: sorted keys, four-space indent, Go escapes', () => {
    expect(toJSON(p)).toBe(
      `{
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "creationTimestamp": "2024-05-01T11:00:00Z",
        "labels": {
            "app": "web",
            "on": "yes"
        },
        "name": "web-1",
        "namespace": "default",
        "resourceVersion": "42"
    },
    "spec": {
        "containers": [
            {
                "args": [
                    "\\u003chtml\\u003e \\u0026 more"
                ],
                "image": "nginx",
                "name": "web"
            }
        ]
    },
    "status": {
        "conditions": [
            {
                "lastProbeTime": null,
                "status": "True",
                "type": "Ready"
            }
        ],
        "phase": "Running"
    }
}
`,
    );
  });

  it('YAML: go-yaml layout and YAML 1.1 quoting', () => {
    expect(toYAML(p)).toBe(`apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: "2024-05-01T11:00:00Z"
  labels:
    app: web
    "on": "yes"
  name: web-1
  namespace: default
  resourceVersion: "42"
spec:
  containers:
  - args:
    - <html> & more
    image: nginx
    name: web
status:
  conditions:
  - lastProbeTime: null
    status: "True"
    type: Ready
  phase: Running
`);
    expect(toYAML(asList([]))).toBe('apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n');
  });
});

describe('tabwriter (Go text/tabwriter semantics)', () => {
  it('aligns a column only over consecutive lines that have it', () => {
    expect(
      tabbed('Name:\tweb\nContainers:\n  web:\n    Image:\tnginx\n    Port:\t80/TCP\nQoS Class:\tBestEffort\n'),
    ).toBe('Name:  web\nContainers:\n  web:\n    Image:  nginx\n    Port:   80/TCP\nQoS Class:  BestEffort\n');
    expect(tabbed('a\tb\tc\naa\tbb\n', TABLE_WRITER)).toBe('a     b     c\naa    bb\n');
  });
});

describe('describe', () => {
  it('a pod: node, IPs, containers with state and probe, conditions, events oldest first', () => {
    const p = pod(
      'web-1',
      400,
      {
        phase: 'Running',
        hostIP: '10.0.0.11',
        podIP: '10.244.1.2',
        podIPs: [{ ip: '10.244.1.2' }],
        startTime: '2024-05-01T11:53:20Z',
        qosClass: 'BestEffort',
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
          { type: 'ContainersReady', status: 'True' },
          { type: 'PodScheduled', status: 'True' },
        ],
        containerStatuses: [
          running('web', 1, {
            state: { running: { startedAt: '2024-05-01T11:58:00Z' } },
            lastState: {
              terminated: {
                exitCode: 137,
                reason: 'Error',
                startedAt: '2024-05-01T11:54:00Z',
                finishedAt: '2024-05-01T11:57:59Z',
              },
            },
          }),
        ],
      },
      {
        nodeName: 'node1',
        containers: [
          {
            name: 'web',
            image: 'nginx',
            command: ['nginx', '-g', 'daemon off;'],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            readinessProbe: {
              httpGet: { path: '/', port: 80, scheme: 'HTTP' },
              timeoutSeconds: 1,
              periodSeconds: 10,
              successThreshold: 1,
              failureThreshold: 3,
            },
            env: [
              { name: 'MODE', value: 'lab' },
              { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            ],
          },
        ],
      },
      {
        labels: { app: 'web', tier: 'fe' },
        annotations: { 'podwire.dev/note': 'hello' },
        ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }],
      },
    );
    const events = [
      {
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container',
        source: { component: 'kubelet' },
        firstTimestamp: ago(250),
        lastTimestamp: ago(130),
        count: 3,
      },
      {
        type: 'Normal',
        reason: 'Scheduled',
        message: 'Successfully assigned default/web-1 to node1',
        source: { component: 'default-scheduler' },
        firstTimestamp: ago(400),
        lastTimestamp: ago(400),
        count: 1,
      },
    ];
    expect(describePod(p, { events }, NOW)).toBe(`Name:         web-1
Namespace:    default
Node:         node1/10.0.0.11
Start Time:   Wed, 01 May 2024 11:53:20 +0000
Labels:       app=web
              tier=fe
Annotations:  podwire.dev/note: hello
Status:       Running
IP:           10.244.1.2
IPs:
  IP:           10.244.1.2
Controlled By:  Deployment/web
Containers:
  web:
    Container ID:  
    Image:         nginx
    Image ID:      
    Port:          80/TCP
    Host Port:     0/TCP
    Command:
      nginx
      -g
      daemon off;
    State:          Running
      Started:      Wed, 01 May 2024 11:58:00 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Wed, 01 May 2024 11:54:00 +0000
      Finished:     Wed, 01 May 2024 11:57:59 +0000
    Ready:          True
    Restart Count:  1
    Readiness:      http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:
      MODE:  lab
      POD:   web-1 (v1:metadata.name)
    Mounts:  <none>
Conditions:
  Type              Status
  Initialized       True 
  Ready             True 
  ContainersReady   True 
  PodScheduled      True 
Volumes:            <none>
QoS Class:          BestEffort
Node-Selectors:     <none>
Tolerations:        <none>
Events:
  Type     Reason     Age                    From               Message
  ----     ------     ----                   ----               -------
  Normal   Scheduled  6m40s                  default-scheduler  Successfully assigned default/web-1 to node1
  Warning  BackOff    2m10s (x3 over 4m10s)  kubelet            Back-off restarting failed container
`);
  });

  it('a service: per-port endpoints from its Endpoints', () => {
    const svc = {
      metadata: meta('web', 60),
      spec: {
        type: 'ClusterIP',
        selector: { app: 'web' },
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        sessionAffinity: 'None',
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
        ],
      },
    };
    const ep = {
      metadata: meta('web', 60),
      subsets: [
        {
          addresses: [{ ip: '10.244.1.2' }, { ip: '10.244.2.3' }],
          ports: [
            { name: 'http', port: 8080 },
            { name: 'metrics', port: 9090 },
          ],
        },
      ],
    };
    expect(describeService(svc, { events: [], endpoints: [ep] }, NOW)).toBe(`Name:              web
Namespace:         default
Labels:            <none>
Annotations:       <none>
Selector:          app=web
Type:              ClusterIP
IP Family Policy:  SingleStack
IP Families:       IPv4
IP:                10.96.0.10
IPs:               10.96.0.10
Port:              http  80/TCP
TargetPort:        8080/TCP
Endpoints:         10.244.1.2:8080,10.244.2.3:8080
Port:              metrics  9090/TCP
TargetPort:        metrics/TCP
Endpoints:         10.244.1.2:9090,10.244.2.3:9090
Session Affinity:  None
Events:            <none>
`);
  });
});

describe('arguments, wait conditions, jsonpath', () => {
  it('parses resource arguments as kubectl does', () => {
    expect(parseResourceArgs(['all']).map((q) => q.r.plural)).toEqual([
      'pods',
      'services',
      'deployments',
      'replicasets',
      'statefulsets',
    ]);
    expect(parseResourceArgs(['po,svc', 'web']).map((q) => [q.r.plural, q.names])).toEqual([
      ['pods', ['web']],
      ['services', ['web']],
    ]);
    expect(parseResourceArgs(['pod/a', 'deploy/web', 'pod/b']).map((q) => [q.r.plural, q.names])).toEqual([
      ['pods', ['a', 'b']],
      ['deployments', ['web']],
    ]);
    expect(() => parseResourceArgs(['potatoes'])).toThrow('the server doesn\'t have a resource type "potatoes"');
  });

  it('--for and --timeout', () => {
    expect(parseFor('condition=Ready')).toEqual({ kind: 'condition', type: 'Ready', value: 'true' });
    expect(parseFor('condition=Ready=false')).toEqual({ kind: 'condition', type: 'Ready', value: 'false' });
    expect(parseFor('delete')).toEqual({ kind: 'delete' });
    expect(parseFor("jsonpath='{.status.phase}'=Running")).toEqual({
      kind: 'jsonpath',
      path: '{.status.phase}',
      value: 'Running',
    });
    expect(parseFor('jsonpath={.status.readyReplicas}')).toEqual({
      kind: 'jsonpath',
      path: '{.status.readyReplicas}',
      value: undefined,
    });
    expect(parseTimeoutMs('60s')).toBe(60_000);
    expect(parseTimeoutMs('1m30s')).toBe(90_000);
    expect(parseTimeoutMs('500ms')).toBe(500);
    expect(parseTimeoutMs('0')).toBe(0);
    expect(() => parseTimeoutMs('soon')).toThrow('invalid duration');
    const p = pod('p', 1, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    expect(conditionMet(parseFor('condition=ready'), p)).toBe(true);
    expect(conditionMet(parseFor('condition=Ready=False'), p)).toBe(false);
    expect(conditionMet(parseFor('jsonpath={.status.phase}=Running'), p)).toBe(true);
    expect(evalJsonPath(p, '{.status.conditions[?(@.type=="Ready")].status}')).toEqual(['True']);
    expect(
      evalJsonPath(
        { metadata: { labels: { 'app.kubernetes.io/name': 'x' } } },
        "{.metadata.labels['app.kubernetes.io/name']}",
      ),
    ).toEqual(['x']);
  });
});
