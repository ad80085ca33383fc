import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { launchFor, parseImage, type ContainerSpecLite, type ContainerLaunch } from '../../../src/kubelet/index.js';

const tools = { workloadBin: '/opt/podwire/podwire-workload', busyboxDir: '/run/podwire/busybox-bin' };
const W = tools.workloadBin;
const BB = [tools.busyboxDir];

describe('parseImage', () => {
  const cases: [string, ReturnType<typeof parseImage>][] = [
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['nginx:alpine', { registry: 'docker.io', repository: 'library/nginx', tag: 'alpine' }],
    ['docker.io/library/nginx:1.25-alpine', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25-alpine' }],
    ['index.docker.io/library/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['curlimages/curl:8.8.0', { registry: 'docker.io', repository: 'curlimages/curl', tag: '8.8.0' }],
    ['nicolaka/netshoot', { registry: 'docker.io', repository: 'nicolaka/netshoot', tag: 'latest' }],
    [
      'registry.k8s.io/e2e-test-images/agnhost:2.47',
      { registry: 'registry.k8s.io', repository: 'e2e-test-images/agnhost', tag: '2.47' },
    ],
    ['localhost:5000/team/app:v1', { registry: 'localhost:5000', repository: 'team/app', tag: 'v1' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
    ['myregistry:5000/app', { registry: 'myregistry:5000', repository: 'app', tag: 'latest' }],
    [
      'nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31',
      {
        registry: 'docker.io',
        repository: 'library/nginx',
        tag: '',
        digest: 'sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31',
      },
    ],
    [
      'quay.io/org/img:1.0@sha256:abcd',
      { registry: 'quay.io', repository: 'org/img', tag: '1.0', digest: 'sha256:abcd' },
    ],
    ['postgres:16', { registry: 'docker.io', repository: 'library/postgres', tag: '16' }],
  ];
  it.each(cases)('%s', (ref, want) => {
    expect(parseImage(ref)).toEqual(want);
  });
});

type Row = [string, ContainerSpecLite, ContainerLaunch];
const c = (image: string, rest: Partial<ContainerSpecLite> = {}): ContainerSpecLite => ({ name: 'c', image, ...rest });

const rows: Row[] = [
  // nginx: the built-in HTTP server on the declared TCP ports, else 80
  [
    'nginx, no ports',
    c('nginx'),
    { argv: [W, 'http', '--ports', '80', '--server', 'nginx'], builtin: 'nginx', pathPrepend: [] },
  ],
  [
    'nginx:1.27 on 8080 and 8443, UDP ignored',
    c('nginx:1.27', {
      ports: [
        { containerPort: 8080 },
        { containerPort: 8443, protocol: 'TCP' },
        { containerPort: 53, protocol: 'UDP' },
      ],
    }),
    { argv: [W, 'http', '--ports', '8080,8443', '--server', 'nginx'], builtin: 'nginx', pathPrepend: [] },
  ],
  [
    'docker.io/library/nginx:alpine',
    c('docker.io/library/nginx:alpine'),
    { argv: [W, 'http', '--ports', '80', '--server', 'nginx'], builtin: 'nginx', pathPrepend: [] },
  ],
  [
    'nginx with its own CMD as args',
    c('nginx', { args: ['nginx', '-g', 'daemon off;'] }),
    { argv: [W, 'http', '--ports', '80', '--server', 'nginx'], builtin: 'nginx', pathPrepend: [] },
  ],
  [
    'nginx with a command runs it',
    c('nginx', { command: ['sh', '-c', 'echo hi'] }),
    { argv: ['sh', '-c', 'echo hi'], builtin: null, pathPrepend: [] },
  ],
  [
    'nginx with other args runs them (docker-entrypoint.sh execs them)',
    c('nginx', { args: ['sleep', '1'] }),
    { argv: ['sleep', '1'], builtin: null, pathPrepend: [] },
  ],

  // busybox and alpine: busybox applets first on PATH; no command → pause
  ['busybox, nothing to run', c('busybox'), { argv: [W, 'pause'], builtin: 'pause', pathPrepend: BB }],
  [
    'busybox with command and args',
    c('busybox:1.36', { command: ['sh', '-c'], args: ['wget -O- web'] }),
    { argv: ['sh', '-c', 'wget -O- web'], builtin: null, pathPrepend: BB },
  ],
  [
    'busybox with only args (they replace CMD sh)',
    c('busybox', { args: ['sleep', '3600'] }),
    { argv: ['sleep', '3600'], builtin: null, pathPrepend: BB },
  ],
  ['alpine', c('alpine:3.20'), { argv: [W, 'pause'], builtin: 'pause', pathPrepend: BB }],
  [
    'alpine with command',
    c('alpine', { command: ['nslookup', 'kubernetes'] }),
    { argv: ['nslookup', 'kubernetes'], builtin: null, pathPrepend: BB },
  ],
  // debian, ubuntu, netshoot: the node's own tools
  ['debian', c('debian:bookworm'), { argv: [W, 'pause'], builtin: 'pause', pathPrepend: [] }],
  [
    'ubuntu with args',
    c('ubuntu', { args: ['bash', '-c', 'true'] }),
    { argv: ['bash', '-c', 'true'], builtin: null, pathPrepend: [] },
  ],
  ['netshoot', c('nicolaka/netshoot'), { argv: [W, 'pause'], builtin: 'pause', pathPrepend: [] }],
  [
    'netshoot with command',
    c('nicolaka/netshoot:v0.13', { command: ['dig', 'web'] }),
    { argv: ['dig', 'web'], builtin: null, pathPrepend: [] },
  ],
  // curl: ENTRYPOINT runs curl unless the first arg is a command; alpine-based, so busybox applets first
  ['curl, nothing to run', c('curlimages/curl'), { argv: [W, 'pause'], builtin: 'pause', pathPrepend: BB }],
  [
    'curl with URL args',
    c('curlimages/curl', { args: ['-s', 'http://web'] }),
    { argv: ['curl', '-s', 'http://web'], builtin: null, pathPrepend: BB },
  ],
  [
    'curl with a bare URL',
    c('curlimages/curl:8.8.0', { args: ['http://web'] }),
    { argv: ['curl', 'http://web'], builtin: null, pathPrepend: BB },
  ],
  [
    'curl with sh args',
    c('curlimages/curl', { args: ['sh', '-c', 'curl web'] }),
    { argv: ['sh', '-c', 'curl web'], builtin: null, pathPrepend: BB },
  ],
  [
    'curl with command',
    c('curlimages/curl', { command: ['curl', '-sv'], args: ['web'] }),
    { argv: ['curl', '-sv', 'web'], builtin: null, pathPrepend: BB },
  ],

  // postgres: generic TCP listener named postgres
  [
    'postgres:16',
    c('postgres:16', { ports: [{ containerPort: 5432 }] }),
    { argv: [W, 'tcp', '--ports', '5432', '--server', 'postgres'], builtin: 'postgres', pathPrepend: [] },
  ],
  [
    'postgres, no ports',
    c('postgres'),
    { argv: [W, 'tcp', '--ports', '5432', '--server', 'postgres'], builtin: 'postgres', pathPrepend: [] },
  ],
  [
    'postgres with -c flags as args',
    c('postgres', { args: ['-c', 'max_connections=50'] }),
    { argv: [W, 'tcp', '--ports', '5432', '--server', 'postgres'], builtin: 'postgres', pathPrepend: [] },
  ],
  [
    'postgres with a command',
    c('postgres', { command: ['psql', '-h', 'db'] }),
    { argv: ['psql', '-h', 'db'], builtin: null, pathPrepend: [] },
  ],

  // agnhost: args select the subcommand
  [
    'agnhost netexec',
    c('registry.k8s.io/e2e-test-images/agnhost:2.47', { args: ['netexec', '--http-port=8080', '--udp-port=8081'] }),
    { argv: [W, 'netexec', '--http-port=8080', '--udp-port=8081'], builtin: 'agnhost netexec', pathPrepend: [] },
  ],
  [
    'agnhost from k8s.gcr.io, serve-hostname',
    c('k8s.gcr.io/e2e-test-images/agnhost:2.39', { args: ['serve-hostname', '--port', '9376'] }),
    { argv: [W, 'serve-hostname', '--port', '9376'], builtin: 'agnhost serve-hostname', pathPrepend: [] },
  ],
  [
    'agnhost from gcr.io kubernetes-e2e-test-images, connect',
    c('gcr.io/kubernetes-e2e-test-images/agnhost:2.8', { args: ['connect', 'web:80', '--timeout=5s'] }),
    { argv: [W, 'connect', 'web:80', '--timeout=5s'], builtin: 'agnhost connect', pathPrepend: [] },
  ],
  [
    'agnhost pause',
    c('registry.k8s.io/e2e-test-images/agnhost:2.47', { args: ['pause'] }),
    { argv: [W, 'pause'], builtin: 'agnhost pause', pathPrepend: [] },
  ],
  [
    'agnhost command /agnhost netexec',
    c('registry.k8s.io/e2e-test-images/agnhost:2.47', { command: ['/agnhost', 'netexec'], args: ['--http-port=3000'] }),
    { argv: [W, 'netexec', '--http-port=3000'], builtin: 'agnhost netexec', pathPrepend: [] },
  ],
  [
    'agnhost command agnhost serve-hostname',
    c('registry.k8s.io/e2e-test-images/agnhost:2.47', { command: ['agnhost', 'serve-hostname'] }),
    { argv: [W, 'serve-hostname'], builtin: 'agnhost serve-hostname', pathPrepend: [] },
  ],
  [
    'agnhost with no args prints help and exits, like upstream',
    c('registry.k8s.io/e2e-test-images/agnhost:2.47'),
    { argv: [W, 'help'], builtin: 'agnhost', pathPrepend: [] },
  ],
  [
    'agnhost with another command runs it',
    c('registry.k8s.io/e2e-test-images/agnhost:2.47', { command: ['sh', '-c', 'sleep 1'] }),
    { argv: ['sh', '-c', 'sleep 1'], builtin: null, pathPrepend: [] },
  ],
  [
    'agnhost subcommand podwire lacks',
    c('registry.k8s.io/e2e-test-images/agnhost:2.47', { args: ['liveness'], ports: [{ containerPort: 8080 }] }),
    {
      argv: [W, 'tcp', '--ports', '8080', '--server', 'agnhost'],
      builtin: 'generic',
      pathPrepend: [],
      notice: `podwire's built-in agnhost has no "liveness" subcommand (it has netexec, serve-hostname, connect, pause): running a generic TCP listener on 8080/TCP`,
    },
  ],

  // anything else: a generic listener on the declared ports, and an event saying so
  [
    'unknown image with TCP and UDP ports',
    c('ghcr.io/acme/billing-api:v3', {
      ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 8080 }, { containerPort: 5353, protocol: 'UDP' }],
    }),
    {
      argv: [W, 'tcp', '--ports', '8080', '--udp-ports', '5353', '--server', 'billing-api'],
      builtin: 'generic',
      pathPrepend: [],
      notice:
        'podwire has no built-in workload for image "ghcr.io/acme/billing-api:v3": running a generic TCP listener on 8080/TCP, 5353/UDP',
    },
  ],
  [
    'unknown image without ports',
    c('redis:7'),
    {
      argv: [W, 'pause'],
      builtin: 'pause',
      pathPrepend: [],
      notice:
        'podwire has no built-in workload for image "redis:7": the container declares no ports, so it just sleeps',
    },
  ],
  [
    'unknown image with args only',
    c('acme/worker', { args: ['--queue', 'jobs'], ports: [{ containerPort: 9000 }] }),
    {
      argv: [W, 'tcp', '--ports', '9000', '--server', 'worker'],
      builtin: 'generic',
      pathPrepend: [],
      notice:
        'podwire has no built-in workload for image "acme/worker" (its args are not run: podwire does not know its entrypoint): running a generic TCP listener on 9000/TCP',
    },
  ],
  [
    'unknown image with a command runs it',
    c('python:3.12', { command: ['python3', '-m', 'http.server'], args: ['8000'] }),
    { argv: ['python3', '-m', 'http.server', '8000'], builtin: null, pathPrepend: [] },
  ],
  [
    'an empty command counts as none',
    c('busybox', { command: [] }),
    { argv: [W, 'pause'], builtin: 'pause', pathPrepend: BB },
  ],
];

describe('launchFor', () => {
  it.each(rows)('%s', (_name, spec, want) => {
    expect(launchFor(spec, tools)).toEqual(want);
  });

  it('runs the seed multi-container pod: nginx built in, the busybox sidecar with busybox applets', () => {
    const path = fileURLToPath(new URL('../../../examples/003-multi-container-pod.yaml', import.meta.url));
    const pod = parse(readFileSync(path, 'utf8'));
    const launches = (pod.spec.containers as ContainerSpecLite[]).map((x) => launchFor(x, tools));
    expect(launches).toEqual([
      { argv: [W, 'http', '--ports', '80', '--server', 'nginx'], builtin: 'nginx', pathPrepend: [] },
      { argv: ['sh', '-c', 'while true; do wget -O- localhost:80; sleep 5; done'], builtin: null, pathPrepend: BB },
    ]);
  });

  it('runs the three-tier demo containers (agnhost netexec, nginx on 8080, postgres, netshoot)', () => {
    const specs: ContainerSpecLite[] = [
      {
        name: 'web',
        image: 'registry.k8s.io/e2e-test-images/agnhost:2.47',
        args: ['netexec', '--http-port=3000'],
        ports: [{ containerPort: 3000, name: 'http' }],
      },
      { name: 'api', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] },
      { name: 'postgres', image: 'postgres:16', ports: [{ containerPort: 5432 }] },
      { name: 'shell', image: 'nicolaka/netshoot' },
    ];
    expect(specs.map((s) => launchFor(s, tools).argv.slice(1).join(' '))).toEqual([
      'netexec --http-port=3000',
      'http --ports 8080 --server nginx',
      'tcp --ports 5432 --server postgres',
      'pause',
    ]);
  });

  it('never gives the workload more ports than it accepts', () => {
    const ports = Array.from({ length: 40 }, (_, i) => ({ containerPort: 9000 + i }));
    const argv = launchFor(c('nginx', { ports }), tools).argv;
    expect(argv[3].split(',')).toHaveLength(16);
  });
});

describe('debug images and the tools the node lacks', () => {
  const withShims = { ...tools, missingToolsDir: '/run/podwire/missing-tools' };
  it.each([
    ['nicolaka/netshoot', ['/run/podwire/missing-tools']],
    ['busybox:1.36', [tools.busyboxDir, '/run/podwire/missing-tools']],
    ['curlimages/curl:8.8.0', [tools.busyboxDir, '/run/podwire/missing-tools']],
  ])('%s: PATH gets %j first', (image, want) => {
    expect(launchFor(c(image, { command: ['nmap', '-h'] }), withShims).pathPrepend).toEqual(want);
    expect(launchFor(c(image), withShims).pathPrepend).toEqual(want);
  });
  it('other images do not', () => {
    expect(launchFor(c('nginx'), withShims).pathPrepend).toEqual([]);
  });
});
