/**
 * What podwire runs for a container. There is no container runtime and no
 * image pull: a container is a process in the pod's network namespace. For
 * the images labs use, podwire runs its built-in workload
 * (build/Release/podwire-workload, src/native/workload.c) in their place;
 * a command given in the spec runs on the node's own binaries.
 *
 * Kubernetes semantics: `command` replaces the image's ENTRYPOINT and `args`
 * replaces its CMD; each image family below knows its own ENTRYPOINT/CMD.
 * Pure: no Linux side effects, so tests read the decisions as data.
 */
import path from 'node:path';

export interface ContainerPortLite {
  containerPort: number;
  protocol?: string;
  name?: string;
}

export interface ContainerSpecLite {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: ContainerPortLite[];
}

export interface ContainerLaunch {
  /** what to exec inside the pod's namespace */
  argv: string[];
  /** e.g. 'nginx', 'agnhost netexec', 'generic': null when the spec's own command runs */
  builtin: string | null;
  /** directories to put first on PATH (busybox-family images get busybox applets) */
  pathPrepend: string[];
  /** set when podwire substitutes a generic workload: the text of an event for the pod */
  notice?: string;
}

export interface WorkloadTools {
  workloadBin: string;
  busyboxDir: string;
  /**
   * scripts naming the Debian package of each debug tool missing on the node
   * (image-tools.ts): last on a debug image's own PATH directories
   */
  missingToolsDir?: string;
}

export interface ImageRef {
  registry: string;
  repository: string;
  /** '' when the reference names only a digest */
  tag: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
/** the workload binary accepts at most this many ports per list */
export const MAX_WORKLOAD_PORTS = 16;

/**
 * Docker's reference normalisation: 'nginx' → docker.io/library/nginx:latest;
 * the first path component is a registry when it has a '.' or ':' or is
 * 'localhost'; a digest ('@sha256:…') may follow the tag.
 */
export function parseImage(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first === 'index.docker.io' || first === 'registry-1.docker.io' ? DOCKER_HUB : first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag = digest ? '' : 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const repository = registry === DOCKER_HUB && !rest.includes('/') ? `library/${rest}` : rest;
  return digest ? { registry, repository, tag, digest } : { registry, repository, tag };
}

type Family =
  | 'nginx'
  | 'postgres'
  | 'agnhost'
  | 'busybox'
  | 'alpine'
  | 'debian'
  | 'curl'
  | 'netshoot'
  | 'coredns'
  | 'ingress-nginx';

/** Image families by the last component of the repository, on any registry or mirror. */
const FAMILIES: Record<string, Family> = {
  nginx: 'nginx',
  postgres: 'postgres',
  postgresql: 'postgres',
  agnhost: 'agnhost',
  busybox: 'busybox',
  alpine: 'alpine',
  debian: 'debian',
  ubuntu: 'debian',
  curl: 'curl',
  netshoot: 'netshoot',
  // coredns/coredns, registry.k8s.io/coredns/coredns, k8s.gcr.io/coredns: podwire's own DNS server
  coredns: 'coredns',
};

function familyOf(image: ImageRef): Family | null {
  // ingress-nginx/controller (registry.k8s.io, or a mirror keeping the path): podwire's ingress controller.
  // Matched by its last two components: "controller" alone names too many images.
  if (/(^|\/)ingress-nginx\/controller(-chroot)?$/.test(image.repository)) return 'ingress-nginx';
  const base = image.repository.split('/').pop() ?? '';
  return FAMILIES[base] ?? null;
}

function portsOf(c: ContainerSpecLite, protocol: 'TCP' | 'UDP'): number[] {
  const out: number[] = [];
  for (const p of c.ports ?? []) {
    if ((p.protocol ?? 'TCP').toUpperCase() !== protocol) continue;
    if (!out.includes(p.containerPort)) out.push(p.containerPort);
  }
  return out.slice(0, MAX_WORKLOAD_PORTS);
}

const own = (argv: string[], pathPrepend: string[] = []): ContainerLaunch => ({ argv, builtin: null, pathPrepend });

/** agnhost subcommands the workload implements, with the same flags */
const AGNHOST_MODES = ['netexec', 'serve-hostname', 'connect', 'pause'];

function agnhost(c: ContainerSpecLite, agnArgs: string[], tools: WorkloadTools): ContainerLaunch {
  const [sub, ...rest] = agnArgs;
  // agnhost with no subcommand prints its help and exits 0 (cobra's root
  // command has no Run): so does the workload's `help`, and the pod restarts
  // as it would in a real cluster.
  if (sub === undefined) return { argv: [tools.workloadBin, 'help'], builtin: 'agnhost', pathPrepend: [] };
  if (AGNHOST_MODES.includes(sub))
    return { argv: [tools.workloadBin, sub, ...rest], builtin: `agnhost ${sub}`, pathPrepend: [] };
  return generic(
    c,
    tools,
    `podwire's built-in agnhost has no "${sub}" subcommand (it has ${AGNHOST_MODES.join(', ')})`,
  );
}

function generic(c: ContainerSpecLite, tools: WorkloadTools, why: string): ContainerLaunch {
  const tcp = portsOf(c, 'TCP');
  const udp = portsOf(c, 'UDP');
  if (!tcp.length && !udp.length) {
    return {
      argv: [tools.workloadBin, 'pause'],
      builtin: 'pause',
      pathPrepend: [],
      notice: `${why}: the container declares no ports, so it just sleeps`,
    };
  }
  const server = parseImage(c.image).repository.split('/').pop() || 'generic';
  const argv = [tools.workloadBin, 'tcp'];
  if (tcp.length) argv.push('--ports', tcp.join(','));
  if (udp.length) argv.push('--udp-ports', udp.join(','));
  argv.push('--server', server);
  const shown = [...tcp.map((p) => `${p}/TCP`), ...udp.map((p) => `${p}/UDP`)].join(', ');
  return { argv, builtin: 'generic', pathPrepend: [], notice: `${why}: running a generic TCP listener on ${shown}` };
}

/**
 * CoreDNS's image: ENTRYPOINT /coredns, run as `podwire coredns` (src/dns)
 * by the node's node binary, bin/podwire.js beside build/Release of the
 * workload binary. The Deployment's `-conf /etc/coredns/Corefile` names the
 * ConfigMap volume podwire does not mount: `podwire coredns` reads that
 * ConfigMap (kube-system/coredns, key Corefile) through the API server
 * instead, and watches it.
 */
function coredns(flags: string[], tools: WorkloadTools): ContainerLaunch {
  const cli = path.resolve(path.dirname(tools.workloadBin), '../../bin/podwire.js');
  return {
    argv: [process.execPath, cli, 'coredns', '--configmap', 'kube-system/coredns', ...flags],
    builtin: 'coredns',
    pathPrepend: [],
  };
}

/**
 * ingress-nginx's controller image: ENTRYPOINT `/usr/bin/dumb-init --`, and
 * the Deployment's args start with `/nginx-ingress-controller` and its
 * flags (--ingress-class, --controller-class, --publish-service=… ).
 * podwire runs `podwire ingress-controller` with those flags (src/ingress/
 * controller/args.ts reads them; the ones podwire has no use for are logged
 * and ignored). A command or args naming anything else run as given.
 */
const INGRESS_BINARIES = ['/nginx-ingress-controller', 'nginx-ingress-controller'];
const DUMB_INIT = ['/usr/bin/dumb-init', 'dumb-init'];

function ingressNginx(argv: string[], tools: WorkloadTools): ContainerLaunch {
  let rest = argv;
  if (DUMB_INIT.includes(rest[0])) rest = rest.slice(rest[1] === '--' ? 2 : 1);
  if (rest.length && !INGRESS_BINARIES.includes(rest[0]) && !rest[0].startsWith('-')) return own(argv);
  if (INGRESS_BINARIES.includes(rest[0])) rest = rest.slice(1);
  const cli = path.resolve(path.dirname(tools.workloadBin), '../../bin/podwire.js');
  return {
    argv: [process.execPath, cli, 'ingress-controller', ...rest],
    builtin: 'ingress-nginx controller',
    pathPrepend: [],
  };
}

export function launchFor(c: ContainerSpecLite, tools: WorkloadTools): ContainerLaunch {
  const image = parseImage(c.image);
  const family = familyOf(image);
  const command = c.command?.length ? c.command : null;
  const args = c.args ?? [];
  // busybox and alpine images, and curlimages/curl (alpine-based): busybox's applets first, as in the image
  const busybox = family === 'busybox' || family === 'alpine' || family === 'curl' ? [tools.busyboxDir] : [];
  // debug images: a tool the node lacks names its package (image-tools.ts)
  const debug = tools.missingToolsDir ? [...busybox, tools.missingToolsDir] : busybox;

  switch (family) {
    case 'nginx': {
      // ENTRYPOINT /docker-entrypoint.sh execs its arguments; CMD is `nginx -g 'daemon off;'`
      if (command) return own([...command, ...args]);
      if (args.length && args[0] !== 'nginx' && args[0] !== 'nginx-debug') return own(args);
      const ports = portsOf(c, 'TCP');
      return {
        argv: [tools.workloadBin, 'http', '--ports', (ports.length ? ports : [80]).join(','), '--server', 'nginx'],
        builtin: 'nginx',
        pathPrepend: [],
      };
    }
    case 'postgres': {
      // docker-entrypoint.sh: arguments starting with '-' are flags for postgres; CMD is `postgres`
      if (command) return own([...command, ...args]);
      if (args.length && args[0] !== 'postgres' && !args[0].startsWith('-')) return own(args);
      const ports = portsOf(c, 'TCP');
      return {
        argv: [tools.workloadBin, 'tcp', '--ports', (ports.length ? ports : [5432]).join(','), '--server', 'postgres'],
        builtin: 'postgres',
        pathPrepend: [],
      };
    }
    case 'agnhost': {
      // ENTRYPOINT is /agnhost: args pick the subcommand
      if (!command) return agnhost(c, args, tools);
      if (command[0] === '/agnhost' || command[0] === 'agnhost')
        return agnhost(c, [...command.slice(1), ...args], tools);
      return own([...command, ...args]);
    }
    case 'curl': {
      // ENTRYPOINT /entrypoint.sh: runs `curl "$@"` unless the first argument
      // is a command of the image (here: curl, a shell, or a path)
      if (command) return own([...command, ...args], debug);
      if (args.length) {
        const first = args[0];
        const isCommand = first.startsWith('/') || first.startsWith('./') || ['curl', 'sh', 'ash'].includes(first);
        return own(isCommand ? args : ['curl', ...args], debug);
      }
      return { argv: [tools.workloadBin, 'pause'], builtin: 'pause', pathPrepend: debug };
    }
    case 'coredns': {
      if (!command) return coredns(args, tools);
      if (command[0] === '/coredns' || command[0] === 'coredns') return coredns([...command.slice(1), ...args], tools);
      return own([...command, ...args]);
    }
    case 'ingress-nginx':
      return ingressNginx([...(command ?? []), ...args], tools);
    case 'busybox':
    case 'alpine':
    case 'debian':
    case 'netshoot': {
      // no ENTRYPOINT; CMD is a shell, which args replace. The shell would exit
      // at once without a terminal: podwire keeps the container up instead.
      if (command) return own([...command, ...args], debug);
      if (args.length) return own(args, debug);
      return { argv: [tools.workloadBin, 'pause'], builtin: 'pause', pathPrepend: debug };
    }
    default: {
      if (command) return own([...command, ...args]);
      const why = `podwire has no built-in workload for image "${c.image}"${args.length ? ' (its args are not run: podwire does not know its entrypoint)' : ''}`;
      return generic(c, tools, why);
    }
  }
}
