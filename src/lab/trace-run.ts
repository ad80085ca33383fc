import http from 'node:http';
import { randomInt } from 'node:crypto';
import { startProcess, inNetns } from '../host/index.js';
import { agentSocketPath, callAgent } from '../agent/index.js';
import { CLI_ENTRY, type LabState } from './lab.js';
import { labPods, podExecEntry, execCommand } from './pods.js';
import { onJsonLines } from './json-lines.js';
import { LabError } from './errors.js';
import type { LibcFlavor, PodResolveReport } from '../resolver/index.js';
import { ipv4ToString, parseIpv4 } from '../packet/index.js';
import { cidrContains, parseCidr, serviceSnatIp } from '../dataplane/index.js';
import {
  explainDns,
  explainTrace,
  formatTrace,
  parseServiceTarget,
  parseTarget,
  type AgentEvent,
  type InjectReport,
  type Layer,
  type ProbeProto,
  type TraceInput,
  type TraceResult,
} from '../trace/index.js';

const PATH_MTU = 1450;

/** The part of an agent's GET /lb answer a trace reads (src/cli/lb.ts prints the whole of it). */
interface LbFrontendStatus {
  frontend: string;
  type: string;
  localOnly: boolean;
  backends: { name: string; address: string; node: string | null; ready: boolean; serving: boolean; usable: boolean }[];
}
interface LbStatus {
  services: { service: string; frontends: LbFrontendStatus[] }[];
}

/** Run a hidden podwire command inside a namespace; resolves with its last JSON line. */
function inNamespace(
  ns: string,
  args: string[],
  onLine?: (line: string) => void,
  onChild?: (kill: () => void) => void,
): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = startProcess(inNetns(ns, [process.execPath, CLI_ENTRY, ...args]), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const l of d.toString().split('\n')) if (l.trim()) onLine?.(l.trim());
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    onChild?.(() => child.kill('SIGTERM'));
    child.on('exit', (code) => {
      const last = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      if (!last) return reject(new Error(`${args[0]} in ${ns} failed (exit ${code}): ${err.trim()}`));
      resolve(JSON.parse(last));
    });
  });
}

/** Subscribe to every agent's /trace stream; agents that do not answer are reported down. */
async function subscribe(
  state: LabState,
  src: string,
  id: number,
  events: AgentEvent[],
  onEvent: (e: AgentEvent) => void = () => {},
  hold = false,
): Promise<{ close(): void; down: string[] }> {
  const reqs: http.ClientRequest[] = [];
  const down: string[] = [];
  await Promise.all(
    state.plan.nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          const req = http.get(
            {
              socketPath: agentSocketPath(n.stateDir),
              path: `/trace?src=${src}&id=${id}${hold ? '&hold=1' : ''}`,
              timeout: 2000,
            },
            (res) => {
              // The 2 s are for the agent to answer; after that the stream may be
              // quiet for as long as the probe takes (an idle timeout here would
              // end the subscription, and the agent would stop tracing).
              req.setTimeout(0);
              onJsonLines(res, (o) => {
                events.push(o as AgentEvent);
                onEvent(o as AgentEvent);
              });
              resolve();
            },
          );
          req.on('error', () => {
            down.push(n.name);
            resolve();
          });
          req.on('timeout', () => req.destroy());
          reqs.push(req);
        }),
    ),
  );
  return { close: () => reqs.forEach((r) => r.destroy()), down };
}

/** A Service frontend the probe goes to, and the pods that may receive it. */
interface ServiceDest {
  service: string;
  frontend: string;
  ip: string;
  port: number;
  proto: ProbeProto;
  /** usable backends of the frontend (where the Service stage may send the probe) */
  backends: { ip: string; port: number; name: string; node: string | null }[];
}

/**
 * Is the target a Service (svc/NAME, or a frontend address of one)? Asks
 * the source node's agent, whose Service table is what will decide.
 */
async function resolveService(
  state: LabState,
  srcNode: string,
  target: string,
  t: ReturnType<typeof parseTarget> | null,
): Promise<ServiceDest | null> {
  const named = parseServiceTarget(target);
  if (!named && !t) return null;
  const n = state.plan.nodes.find((x) => x.name === srcNode)!;
  const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/lb', undefined, 5000).catch(() => null);
  if (!r || r.status !== 200) {
    if (named)
      throw new LabError(
        'ERR_BAD_QUERY',
        `${srcNode}'s agent runs no Services (${r ? `it answered ${r.status}` : 'not answering'}): trace a pod or an address instead`,
      );
    return null;
  }
  const services = (r.body as LbStatus).services;
  const fe = (f: LbFrontendStatus) => {
    const m = /^(.+):(\d+)\/(\w+)$/.exec(f.frontend)!;
    return { ip: m[1], port: Number(m[2]), proto: m[3].toLowerCase() as ProbeProto };
  };
  let found: { service: string; f: LbFrontendStatus } | undefined;
  if (named) {
    const key = `${named.namespace}/${named.name}`;
    const svc = services.find((x) => x.service === key);
    if (!svc)
      throw new LabError(
        'ERR_BAD_QUERY',
        `no Service ${key} on ${srcNode}'s agent (podwire lb show lists them; headless and ExternalName Services are not proxied)`,
      );
    const f = svc.frontends.find(
      (x) =>
        x.type === 'ClusterIP' &&
        (named.port === undefined || fe(x).port === named.port) &&
        (!named.proto || fe(x).proto === named.proto),
    );
    if (!f)
      throw new LabError(
        'ERR_BAD_QUERY',
        `Service ${key} has no port ${named.port ?? ''}${named.proto ? `/${named.proto}` : ''} (it has ${svc.frontends
          .filter((x) => x.type === 'ClusterIP')
          .map((x) => x.frontend)
          .join(', ')})`,
      );
    found = { service: key, f };
  } else {
    const explicitProto = /\/(tcp|udp|icmp)$/.test(target);
    if (t!.proto === 'icmp' && explicitProto) return null; // a ping to the address, as asked
    for (const svc of services) {
      const f = svc.frontends.find((x) => {
        const a = fe(x);
        return a.ip === t!.host && (!t!.port || (a.port === t!.port && a.proto === t!.proto));
      });
      if (f) {
        found = { service: svc.service, f };
        break;
      }
    }
    if (!found) return null;
  }
  const a = fe(found.f);
  // externalTrafficPolicy Local keeps outside traffic to the node's own backends
  // ("usable"); a pod's traffic may go to any ready one (service-stage.ts)
  const fromPod = (b: LbFrontendStatus['backends'][number]) =>
    found!.f.localOnly && found!.f.type !== 'ClusterIP' && (b.ready || b.serving);
  const backends = found.f.backends
    .filter((b) => b.usable || fromPod(b))
    .map((b) => {
      const [ip, port] = b.address.split(':');
      return { ip, port: Number(port), name: b.name, node: b.node };
    });
  return { service: found.service, frontend: found.f.frontend, ...a, backends };
}

interface Catcher {
  ip: string;
  pod: string;
  done: Promise<{ arrived: boolean; ttl?: number }>;
  kill?: () => void;
  stopped: boolean;
}

/** Listen in a pod for the probe (src may list several addresses); resolves once it listens. */
async function startCatcher(
  netns: string,
  ip: string,
  pod: string,
  src: string,
  id: number,
  timeoutMs: number,
): Promise<Catcher> {
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const c: Catcher = { ip, pod, stopped: false, done: Promise.resolve({ arrived: false }) };
  c.done = inNamespace(
    netns,
    ['trace-catch', '--src', src, '--id', String(id), '--timeout-ms', String(timeoutMs)],
    (l) => {
      if (l === 'ready') ready();
    },
    (kill) => {
      c.kill = kill;
      if (c.stopped) kill();
    },
  ).catch(() => ({ arrived: false }));
  await Promise.race([isReady, c.done]);
  return c;
}

const stopCatcher = (c: Catcher) => {
  c.stopped = true;
  c.kill?.();
};

/** How much longer than the trace's timeout a catcher may live if nobody stops it. */
const CATCHER_BACKSTOP_MS = 60_000;

/** Most pods a trace through a Service listens in (one process each). */
const MAX_CATCHERS = 16;

export interface TraceOptions {
  ttl?: number;
  size?: number;
  timeoutMs?: number;
  /** which C library's resolver rules a name is resolved with (default glibc) */
  libc?: LibcFlavor;
  /** how long podwire waits for each DNS answer (default 2000 ms; once per server) */
  dnsTimeoutMs?: number;
  /** the probe's IPv4 identification (default: random) */
  id?: number;
  /** ask every agent to hold the probe at its hold points until POST /trace/release (step mode) */
  hold?: boolean;
  /** each agent event as it arrives */
  onEvent?: (e: AgentEvent) => void;
  /** end the trace early (as at its timeout): the probe is reported where it was last seen */
  signal?: AbortSignal;
  /** a name was resolved first (before any probe): the DNS layer, and the address when there is one */
  onResolved?: (layers: Layer[], address?: string) => void;
  /** called once the agents and catchers listen, just before the probe is sent (start captures here) */
  beforeInject?: (probe: ProbeFacts) => Promise<void>;
}

/** What identifies the probe on the wire: its source, IPv4 identification, protocol and ports. */
export interface ProbeFacts {
  id: number;
  srcIp: string;
  srcPod: string;
  srcNode: string;
  dstIp: string;
  proto: ProbeProto;
  /** the destination port (0 for ICMP); the source port is 40000 + id % 20000 (trace/probe.ts) */
  port: number;
  dstPod?: string;
  dstNode?: string;
  /** pods the probe may end in (the destination, or a Service's backends) */
  ends: { pod: string; netns: string; node: string }[];
}

type LabPod = Awaited<ReturnType<typeof labPods>>[number];

const isIpv4 = (s: string) => {
  try {
    parseIpv4(s);
    return true;
  } catch {
    return false;
  }
};

/**
 * `podwire trace <pod> <target>`: a pod, an address or svc/NAME goes
 * straight to the probe; any other name is resolved first, the way the pod
 * would (its /etc/hosts and /etc/resolv.conf, search list and ndots, each
 * query sent from inside it), and the DNS layer comes before the others.
 * When the name does not resolve because the nameserver does not answer,
 * the trace follows the path to the nameserver instead (the Service
 * kube-dns: its endpoints, the path, the policy), so the articles' ladder
 * "DNS first, then endpoints, then connectivity, then policy" is one command.
 */
export interface TraceOutcome {
  result: TraceResult;
  text: string;
  /** how many of result.layers (at the start) are the DNS layer */
  dnsLayers: number;
  /** the address a name resolved to */
  address?: string;
  /** the pod the probe went to (for a Service, the backend its stage chose) */
  deliveredTo?: string;
  /** the agents' events for the probe, as they came (the last probe when DNS came first) */
  events?: AgentEvent[];
  probe?: ProbeFacts;
}

export async function trace(
  state: LabState,
  srcPod: string,
  target: string,
  opts: TraceOptions,
): Promise<TraceOutcome> {
  const pods = await labPods(state);
  const t = parseServiceTarget(target) ? null : parseTarget(target);
  if (!t || isIpv4(t.host) || pods.some((p) => p.name === t.host)) {
    const r = await traceAddress(state, pods, srcPod, target, opts);
    return {
      result: r.result,
      text: formatTrace(r.result, r.title),
      dnsLayers: 0,
      events: r.events,
      probe: r.probe,
      ...(r.backendPod ? { deliveredTo: r.backendPod } : {}),
    };
  }
  const src = pods.find((p) => p.name === srcPod);
  if (!src) throw new LabError('ERR_NO_SUCH_POD', `pod "${srcPod}" not found`);
  const report = await resolveInPod(state, src, t.host, opts);
  const dns = explainDns(report, src.name);
  opts.onResolved?.(dns.layers, dns.address);
  const asked = `${t.host}${t.port ? `:${t.port}` : ''}`;
  const proto = /\/(tcp|udp|icmp)$/.exec(target)?.[0] ?? '';
  if (dns.address) {
    const r = await traceAddress(state, pods, srcPod, `${dns.address}${t.port ? `:${t.port}` : ''}${proto}`, opts);
    const result = { ...r.result, layers: [...dns.layers, ...r.result.layers] };
    return {
      result,
      text: formatTrace(result, `${r.title.replace(/ -> /, ` -> ${asked} = `)}`),
      dnsLayers: dns.layers.length,
      address: dns.address,
      events: r.events,
      probe: r.probe,
      ...(r.backendPod ? { deliveredTo: r.backendPod } : {}),
    };
  }
  const failure = dns.failure!;
  const title = `trace ${src.name} (${src.ip}, ${src.node}) -> ${asked}`;
  const server = failure.silentServers[0];
  if (!server || !isIpv4(server)) {
    const result: TraceResult = {
      layers: dns.layers,
      verdict: 'DNS-FAILED',
      reason: failure.reason,
      summary: failure.summary,
    };
    return { result, text: formatTrace(result, title), dnsLayers: dns.layers.length };
  }
  // DNS fails because its server is silent: where does the way to it end?
  const path = await traceAddress(state, pods, srcPod, `${server}:53/udp`, opts);
  const pr = path.result;
  const to = path.title.split(' -> ')[1] ?? `${server}:53/udp`;
  const layers = [...dns.layers, { where: src.name, what: `dns: the path to the nameserver, ${to}:` }, ...pr.layers];
  const why =
    pr.verdict === 'DROPPED'
      ? pr.summary
      : pr.verdict === 'DELIVERED' && path.backendPod
        ? `the query reaches ${path.backendPod}, which does not answer: is the DNS server running there? (podwire kubectl -n kube-system logs -l k8s-app=kube-dns)`
        : pr.summary;
  const result: TraceResult = {
    layers,
    verdict: 'DNS-FAILED',
    reason: pr.verdict === 'DROPPED' ? pr.reason : failure.reason,
    summary: `${failure.summary}; the path to ${server}: ${why}`,
  };
  return { result, text: formatTrace(result, title), dnsLayers: layers.length, events: path.events, probe: path.probe };
}

/** Run the resolver helper in the source pod, in its container's mount and network namespaces, as `podwire exec` enters it. */
async function resolveInPod(state: LabState, src: LabPod, name: string, opts: TraceOptions): Promise<PodResolveReport> {
  const entry = await podExecEntry(state, src.netns);
  const argv = execCommand(entry, src.name, [
    process.execPath,
    CLI_ENTRY,
    'trace-resolve',
    '--name',
    name,
    '--libc',
    opts.libc ?? 'glibc',
    '--timeout-ms',
    String(opts.dnsTimeoutMs ?? 2000),
    '--attempts',
    '1',
  ]);
  const env = entry.kind === 'container' ? entry.env : process.env;
  return new Promise((resolve, reject) => {
    const child = startProcess(argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      if (code !== 0 || !last)
        return reject(
          new Error(`resolving "${name}" in pod ${src.name} failed (exit ${code}): ${err.trim() || out.trim()}`),
        );
      resolve(JSON.parse(last) as PodResolveReport);
    });
  });
}

async function traceAddress(
  state: LabState,
  pods: LabPod[],
  srcPod: string,
  target: string,
  opts: TraceOptions,
): Promise<{ result: TraceResult; title: string; backendPod?: string; events: AgentEvent[]; probe: ProbeFacts }> {
  const src = pods.find((p) => p.name === srcPod);
  if (!src) throw new LabError('ERR_NO_SUCH_POD', `pod "${srcPod}" not found`);
  const t = parseServiceTarget(target) ? null : parseTarget(target);
  const dstPod = t ? pods.find((p) => p.name === t.host || p.ip === t.host) : undefined;
  const svc = dstPod ? null : await resolveService(state, src.node, target, t);
  let dstIp: string;
  if (svc) dstIp = svc.ip;
  else if (dstPod) dstIp = dstPod.ip;
  else {
    try {
      parseIpv4(t!.host);
    } catch {
      const listed = new Set(pods.map((p) => p.node));
      const silent = state.plan.nodes.filter((n) => !listed.has(n.name)).map((n) => n.name);
      throw new LabError(
        'ERR_BAD_QUERY',
        `"${t!.host}" is neither a pod in this lab, a Service (svc/<name>) nor an IPv4 address` +
          (silent.length
            ? ` (pods on ${silent.join(', ')} could not be listed: no pods there, or the agent is down; trace by IP)`
            : ''),
      );
    }
    dstIp = t!.host;
  }
  const proto: ProbeProto = svc ? svc.proto : t!.proto;
  const port = svc ? svc.port : t!.port;
  const dstNode =
    dstPod?.node ?? state.plan.nodes.find((n) => cidrContains(parseCidr(n.podCidr), parseIpv4(dstIp)))?.name;
  const id = opts.id ?? randomInt(1, 0xffff);
  const events: AgentEvent[] = [];
  const timeoutMs = opts.timeoutMs ?? 5000;
  // Where to listen: the destination pod, or every pod the Service may choose.
  const targets = svc
    ? svc.backends
        .flatMap((b) => {
          const p = pods.find((x) => x.ip === b.ip);
          return p ? [{ ip: b.ip, pod: p }] : [];
        })
        .slice(0, MAX_CATCHERS)
    : dstPod
      ? [{ ip: dstPod.ip, pod: dstPod }]
      : [];
  // Through a Service the probe may arrive from its node's Service address (hairpin SNAT).
  const srcNodePlan = state.plan.nodes.find((n) => n.name === src.node)!;
  const catchSrc = svc ? [src.ip, ipv4ToString(serviceSnatIp(parseCidr(srcNodePlan.podCidr)))].join(',') : src.ip;
  // Catchers give up after their timeout, when an agent reports the probe
  // dropped, or (through a Service) when the Service stage chose another pod.
  const catchers: Catcher[] = [];
  let dropped = false;
  let chosen: string | undefined;
  const sub = await subscribe(
    state,
    src.ip,
    id,
    events,
    (e) => {
      opts.onEvent?.(e);
      if (e.stage === 'drop') {
        dropped = true;
        catchers.forEach(stopCatcher);
      } else if (e.stage === 'service' && typeof e.data?.backendIp === 'string' && chosen === undefined) {
        chosen = e.data.backendIp;
        for (const c of catchers) if (c.ip !== chosen) stopCatcher(c);
      }
    },
    opts.hold,
  );
  const probe: ProbeFacts = {
    id,
    srcIp: src.ip,
    srcPod: src.name,
    srcNode: src.node,
    dstIp,
    proto,
    port,
    ...(dstPod ? { dstPod: dstPod.name } : {}),
    ...(dstNode ? { dstNode } : {}),
    ends: targets.map((x) => ({ pod: x.pod.name, netns: x.pod.netns, node: x.pod.node })),
  };
  try {
    // A catcher's own limit is only a backstop: the wait that counts starts once the probe is sent
    // (starting the injector is a process start, seconds on a loaded machine, which must not eat it)
    for (const c of await Promise.all(
      targets.map((x) => startCatcher(x.pod.netns, x.ip, x.pod.name, catchSrc, id, timeoutMs + CATCHER_BACKSTOP_MS)),
    )) {
      catchers.push(c);
      if (dropped || (chosen !== undefined && c.ip !== chosen)) stopCatcher(c);
    }
    await opts.beforeInject?.(probe);
    const inject = (await inNamespace(src.netns, [
      'trace-inject',
      '--pod',
      src.name,
      '--dst',
      dstIp,
      '--proto',
      proto,
      '--port',
      String(port),
      '--id',
      String(id),
      '--ttl',
      String(opts.ttl ?? 64),
      ...(opts.size ? ['--size', String(opts.size)] : []),
    ])) as InjectReport;
    const giveUp = setTimeout(() => catchers.forEach(stopCatcher), timeoutMs);
    // given up from outside (podwire ui starting another trace): end now, as at the timeout
    const abandon = () => catchers.forEach(stopCatcher);
    if (opts.signal?.aborted) abandon();
    else opts.signal?.addEventListener('abort', abandon, { once: true });
    const arrivals = await Promise.all(catchers.map((c) => c.done));
    clearTimeout(giveUp);
    opts.signal?.removeEventListener('abort', abandon);
    const hit = catchers.findIndex((_c, i) => arrivals[i].arrived);
    const arrival = catchers.length ? (hit >= 0 ? arrivals[hit] : { arrived: false }) : null;
    // let the agents' last events arrive (a drop may come after the catcher gave up)
    await new Promise((r) => setTimeout(r, arrival?.arrived ? 50 : 300));
    let dst: TraceInput['dst'] = { ip: dstIp, pod: dstPod?.name, node: dstNode };
    if (svc) {
      const backendIp = hit >= 0 ? catchers[hit].ip : chosen;
      const b = svc.backends.find((x) => x.ip === backendIp);
      const p = targets.find((x) => x.ip === backendIp)?.pod;
      const via = `Service ${svc.service}`;
      dst = backendIp
        ? { ip: backendIp, pod: p?.name, node: p?.node ?? b?.node ?? undefined, via, sentTo: dstIp }
        : { ip: dstIp, via };
    }
    const result = explainTrace({
      inject,
      events,
      agentsDown: sub.down,
      srcNode: src.node,
      dst,
      arrival,
      pathMtu: PATH_MTU,
    });
    const to = svc
      ? `Service ${svc.service} (${svc.ip}:${svc.port}/${proto})`
      : `${dstPod ? `${dstPod.name} (${dstIp}, ${dstPod.node})` : dstIp}${port ? `:${port}` : ''}/${proto}`;
    const title = `trace ${src.name} (${src.ip}, ${src.node}) -> ${to}`;
    return { result, title, events, probe, ...(dst.pod ? { backendPod: dst.pod } : {}) };
  } finally {
    catchers.forEach(stopCatcher);
    sub.close();
  }
}
