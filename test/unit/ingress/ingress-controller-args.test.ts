import { describe, it, expect } from 'vitest';
import { parseControllerArgs, ControllerArgsError } from '../../../src/ingress/controller/args.js';
import { launchFor } from '../../../src/kubelet/images.js';
import { expand } from '../../../src/kubelet/container-env.js';
import { CONTROLLER_ARGS, INGRESS_IMAGE } from '../../../src/ingress/addon.js';

// The controller image → `podwire ingress-controller`, and the flags the
// real ingress-nginx Deployment passes, read as /nginx-ingress-controller
// (pflag) reads them.
const tools = { workloadBin: '/opt/podwire/build/Release/podwire-workload', busyboxDir: '/run/podwire/busybox-bin' };
const CLI = [process.execPath, '/opt/podwire/bin/podwire.js', 'ingress-controller'];

/** the upstream deploy.yaml's args (v1.11, cloud provider), webhook flags included */
const UPSTREAM = [
  '/nginx-ingress-controller',
  '--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller',
  '--election-id=ingress-nginx-leader',
  '--controller-class=k8s.io/ingress-nginx',
  '--ingress-class=nginx',
  '--configmap=$(POD_NAMESPACE)/ingress-nginx-controller',
  '--validating-webhook=:8443',
  '--validating-webhook-certificate=/usr/local/certificates/cert',
  '--validating-webhook-key=/usr/local/certificates/key',
  '--enable-metrics=false',
];

describe('image mapping: registry.k8s.io/ingress-nginx/controller runs podwire’s controller', () => {
  it('any tag or digest, any registry that keeps the path; the args after /nginx-ingress-controller pass through', () => {
    for (const image of [
      INGRESS_IMAGE,
      'registry.k8s.io/ingress-nginx/controller:v1.9.4',
      'registry.k8s.io/ingress-nginx/controller:v1.11.3@sha256:d56f135b6462cfc476447cfe564b83a45e8bb7da2774963b00d12161112270b7',
      'registry.k8s.io/ingress-nginx/controller@sha256:d56f135b6462cfc476447cfe564b83a45e8bb7da2774963b00d12161112270b7',
      'k8s.gcr.io/ingress-nginx/controller:v1.1.1',
      'mirror.example.com:5000/ingress-nginx/controller-chroot:v1.11.3',
    ]) {
      const l = launchFor({ name: 'controller', image, args: UPSTREAM }, tools);
      expect(l, image).toEqual({
        argv: [...CLI, ...UPSTREAM.slice(1)],
        builtin: 'ingress-nginx controller',
        pathPrepend: [],
      });
    }
  });

  it('the image’s ENTRYPOINT (dumb-init --) given as command, flags alone as args, a foreign command run as given', () => {
    expect(
      launchFor(
        {
          name: 'c',
          image: INGRESS_IMAGE,
          command: ['/usr/bin/dumb-init', '--'],
          args: ['/nginx-ingress-controller', '--ingress-class=x'],
        },
        tools,
      ).argv,
    ).toEqual([...CLI, '--ingress-class=x']);
    expect(
      launchFor(
        { name: 'c', image: INGRESS_IMAGE, command: ['/nginx-ingress-controller'], args: ['--http-port=8080'] },
        tools,
      ).argv,
    ).toEqual([...CLI, '--http-port=8080']);
    expect(launchFor({ name: 'c', image: INGRESS_IMAGE, args: ['--ingress-class=x'] }, tools).argv).toEqual([
      ...CLI,
      '--ingress-class=x',
    ]);
    expect(launchFor({ name: 'c', image: INGRESS_IMAGE }, tools).argv).toEqual(CLI);
    expect(launchFor({ name: 'c', image: INGRESS_IMAGE, command: ['sleep', '5'] }, tools)).toEqual({
      argv: ['sleep', '5'],
      builtin: null,
      pathPrepend: [],
    });
  });

  it('"controller" images of other projects are not it', () => {
    expect(
      launchFor({ name: 'c', image: 'quay.io/example/controller:1', ports: [{ containerPort: 80 }] }, tools).builtin,
    ).toBe('generic');
    expect(
      launchFor({ name: 'c', image: 'nginx/nginx-ingress:3.5', ports: [{ containerPort: 80 }] }, tools).builtin,
    ).toBe('generic');
  });
});

describe('parseControllerArgs', () => {
  it('defaults as ingress-nginx’s, and the Gateway controller name of the article’s GatewayClass', () => {
    expect(parseControllerArgs([])).toEqual({
      ingressClass: 'nginx',
      controllerClass: 'k8s.io/ingress-nginx',
      gatewayController: 'io.cilium/gateway-controller',
      publishStatusAddress: [],
      updateStatus: true,
      watchNamespace: '',
      watchIngressWithoutClass: false,
      httpPort: 80,
      httpsPort: 443,
      healthzPort: 10254,
      enableMetrics: true,
      electionId: 'ingress-controller-leader',
      ignored: [],
    });
  });

  it('reads the upstream Deployment’s args once the kubelet expanded $(POD_NAMESPACE): honoured, and the rest listed as ignored', () => {
    const argv = UPSTREAM.slice(1).map((a) => expand(a, { POD_NAMESPACE: 'ingress-nginx' }));
    const a = parseControllerArgs(argv);
    expect(a.publishService).toEqual({ namespace: 'ingress-nginx', name: 'ingress-nginx-controller' });
    expect([a.electionId, a.controllerClass, a.ingressClass, a.enableMetrics]).toEqual([
      'ingress-nginx-leader',
      'k8s.io/ingress-nginx',
      'nginx',
      false,
    ]);
    expect(a.ignored).toEqual([
      '--configmap=ingress-nginx/ingress-nginx-controller',
      '--validating-webhook=:8443',
      '--validating-webhook-certificate=/usr/local/certificates/cert',
      '--validating-webhook-key=/usr/local/certificates/key',
    ]);
  });

  it('the add-on’s own args parse with nothing unknown', () => {
    const a = parseControllerArgs(CONTROLLER_ARGS.slice(1).map((x) => expand(x, { POD_NAMESPACE: 'ingress-nginx' })));
    expect(a.publishService).toEqual({ namespace: 'ingress-nginx', name: 'ingress-nginx-controller' });
    expect(a.enableMetrics).toBe(true);
  });

  it('pflag forms: --flag value, --flag=value, -flag, bare booleans and =false', () => {
    const a = parseControllerArgs([
      '--http-port',
      '8080',
      '-https-port=8443',
      '--update-status=false',
      '--watch-ingress-without-class',
      '--publish-status-address=172.28.0.9, lb.example.com',
      '--watch-namespace',
      'shop',
    ]);
    expect([a.httpPort, a.httpsPort, a.updateStatus, a.watchIngressWithoutClass, a.watchNamespace]).toEqual([
      8080,
      8443,
      false,
      true,
      'shop',
    ]);
    expect(a.publishStatusAddress).toEqual(['172.28.0.9', 'lb.example.com']);
    // a bare name takes the pod's namespace
    expect(
      parseControllerArgs(['--default-ssl-certificate=wild'], { POD_NAMESPACE: 'ingress-nginx' }).defaultSslCertificate,
    ).toEqual({ namespace: 'ingress-nginx', name: 'wild' });
    // an ignored boolean without value does not eat the next flag
    expect(parseControllerArgs(['--enable-ssl-passthrough', '--ingress-class=x'])).toMatchObject({
      ingressClass: 'x',
      ignored: ['--enable-ssl-passthrough'],
    });
  });

  it('refuses what the real controller refuses, with pflag’s words', () => {
    const err = (argv: string[]) => {
      try {
        parseControllerArgs(argv);
      } catch (e) {
        expect(e).toBeInstanceOf(ControllerArgsError);
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(err(['--no-such-flag=1'])).toBe('unknown flag: --no-such-flag');
    expect(err(['--ingress-class'])).toBe('flag needs an argument: --ingress-class');
    expect(err(['--http-port=0'])).toBe('--http-port: bad port "0"');
    expect(err(['--update-status=maybe'])).toBe('--update-status: bad boolean "maybe"');
    expect(err(['--publish-service=a/b/c'])).toBe('--publish-service: want <namespace>/<name>, got "a/b/c"');
    expect(err(['serve'])).toMatch(/^unexpected argument "serve"/);
    expect(err(['--http-port=10254'])).toBe(
      '--http-port, --https-port and --healthz-port must differ (got 10254, 443, 10254)',
    );
  });
});
