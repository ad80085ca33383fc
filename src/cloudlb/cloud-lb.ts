import fs from 'node:fs';
import os from 'node:os';
import {
  ApiClient,
  ApiClientError,
  Informer,
  EventRecorder,
  objectKey,
  type KubeObject,
  type ApiServerTarget,
} from '../control/client/index.js';
import { parseIpv4, ipv4ToString, parseMac, macToString, IPPROTO_TCP, IPPROTO_UDP } from '../packet/index.js';
import {
  parsePool,
  planAssignments,
  formatPool,
  inPool,
  type Assignment,
  type IpRange,
  type LbServiceView,
} from './pool.js';
import { healthCheckTarget, type Health, type HealthState } from './health.js';
import { HealthChecker, httpProbe, type Probe } from './health-checker.js';
import { Balancer, portKey, type LbDecision, type LbFrontend } from './balancer.js';
import { Forwarder } from './forwarder.js';
import { serveStatus, type CloudLbStatus, type ServiceStatus } from './status.js';
import { CloudLbError } from './errors.js';

/**
 * An emulated cloud load balancer, GCP passthrough style, for the Services of
 * type LoadBalancer of one cluster — what the cloud-controller-manager's
 * service controller and the cloud's network together do:
 *  - allocates each Service an EXTERNAL-IP from its pool and writes it to
 *    status.loadBalancer.ingress (ipMode VIP), releasing it when the Service
 *    is deleted or changes type;
 *  - health-checks every node for every Service (externalTrafficPolicy
 *    Local: the Service's healthCheckNodePort; Cluster: kube-proxy's :10256/healthz);
 *  - answers ARP for its EXTERNAL-IPs and forwards each frame to one healthy
 *    node, the destination IP unchanged (the node answers the client itself:
 *    direct server return).
 * It acts only in the network namespace it runs in.
 */
export interface CloudLbConfig {
  /** the API server, with credentials (compose: the admin kubeconfig's) */
  apiserver: ApiServerTarget;
  pool: string;
  /** the link facing the nodes and clients (default eth0) */
  ifname?: string;
  /** a Unix socket for GET /status */
  socket?: string;
  /** tests: no packet socket (allocation and health only) */
  noDataplane?: boolean;
  probe?: Probe;
  checkIntervalMs?: number;
}

export interface CloudLb {
  status(): CloudLbStatus;
  stop(): Promise<void>;
}

const COMPONENT = 'service-controller';
/** Nodes with this label are left out of every load balancer (as upstream's service controller does). */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

const ingressIps = (svc: KubeObject): string[] =>
  ((svc.status?.loadBalancer?.ingress ?? []) as { ip?: string }[])
    .map((i) => i.ip)
    .filter((ip): ip is string => typeof ip === 'string' && ip !== '');
const wantsLb = (svc: KubeObject) => svc.spec?.type === 'LoadBalancer' && !svc.spec?.loadBalancerClass;
const nodeIp = (n: KubeObject): string | undefined =>
  (n.status?.addresses ?? []).find((a: { type: string }) => a.type === 'InternalIP')?.address;
const protoNumber = (p: string | undefined) => (p === 'UDP' ? IPPROTO_UDP : p === 'SCTP' ? -1 : IPPROTO_TCP);
const portsText = (svc: KubeObject) =>
  ((svc.spec?.ports ?? []) as { port: number; protocol?: string }[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`);

/** The address and MAC of `ifname` in this namespace. */
function ownAddress(ifname: string): { ip: string; mac: string } {
  const a = (os.networkInterfaces()[ifname] ?? []).find((x) => x.family === 'IPv4');
  if (!a)
    throw new CloudLbError(
      'ERR_NO_ADDRESS',
      `no IPv4 address on ${ifname}: the load balancer needs its link to the nodes`,
    );
  return { ip: a.address, mac: a.mac };
}

export async function runCloudLb(cfg: CloudLbConfig, log: (msg: string) => void): Promise<CloudLb> {
  const pool: IpRange = parsePool(cfg.pool);
  const ifname = cfg.ifname ?? 'eth0';
  const own = ownAddress(ifname);
  const startedAt = new Date().toISOString();
  const client = new ApiClient(cfg.apiserver);
  const events = new EventRecorder(client, log);
  const balancer = new Balancer(parseMac(own.mac));

  // The kernel here must not route frames for the EXTERNAL-IPs itself (a
  // namespace may inherit forwarding from the host): they are ours to pass on.
  if (!cfg.noDataplane) {
    try {
      fs.writeFileSync(`/proc/sys/net/ipv4/conf/${ifname}/forwarding`, '0');
    } catch (e) {
      log(
        `could not turn kernel forwarding off on ${ifname} (${(e as Error).message}); frames to EXTERNAL-IPs may also be routed by the kernel`,
      );
    }
  }

  let logBudget = 20;
  const budgetTimer = setInterval(() => (logBudget = 20), 1000);
  budgetTimer.unref();
  const onDecision = (d: LbDecision) => {
    if (d.kind !== 'forward' || !d.flow || logBudget <= 0) return;
    logBudget--;
    const f = d.flow;
    const cand = balancer.candidates.get(d.frontend.service);
    log(
      `flow ${ipv4ToString(f.src)}:${f.ports >>> 16} → ${ipv4ToString(f.dst)}:${f.ports & 0xffff}/${f.proto === IPPROTO_UDP ? 'UDP' : 'TCP'} (${d.frontend.service}): ${d.node.name} ` +
        `(hash over ${cand?.failOpen ? 'all nodes, none healthy' : 'healthy nodes'}: ${[...(cand?.ips ?? [])].map((ip) => balancer.nodes.get(ip)?.name ?? ipv4ToString(ip)).join(',')})`,
    );
  };

  const forwarder = cfg.noDataplane ? null : new Forwarder(ifname, pool, parseIpv4(own.ip), balancer, log, onDecision);
  const services = new Informer(client, 'services', {}, log);
  const nodes = new Informer(client, 'nodes', {}, log);

  /** what reconcile decided, per Service (for /status) */
  let assignments = new Map<string, Assignment>();
  /** the last problem reported per Service, so each is one event, not one per pass */
  const reported = new Map<string, string>();
  /** status writes under way: Service key → the IP being written ("" to clear) */
  const writing = new Map<string, string>();
  const announced = new Set<number>();

  const recomputeCandidates = (service: string) => {
    const states = checker.states(service);
    const healthy = states.filter((s) => s.health.state === 'healthy');
    const chosen = healthy.length ? healthy : states;
    const failOpen = healthy.length === 0 && states.length > 0;
    const prev = balancer.candidates.get(service);
    balancer.setCandidates(service, { ips: chosen.map((s) => parseIpv4(s.ip)), failOpen });
    if (states.length && (!prev || prev.failOpen !== failOpen)) {
      log(
        failOpen
          ? `${service}: no healthy node; new flows go to all ${states.length} nodes (GCP's last resort)`
          : `${service}: new flows go to healthy nodes ${healthy.map((h) => h.name).join(', ')}`,
      );
    } else if (!failOpen && prev && prev.ips.length !== chosen.length) {
      log(`${service}: new flows go to healthy nodes ${healthy.map((h) => h.name).join(', ')}`);
    }
  };

  const checker = new HealthChecker(
    (service, node, from: Health, to: HealthState) => {
      log(`${service} on ${node}: ${from} → ${to.state} (${to.last})`);
      recomputeCandidates(service);
    },
    cfg.probe ?? httpProbe,
    Date.now,
    cfg.checkIntervalMs,
  );

  const writeStatus = (svc: KubeObject, ip: string | null) => {
    const key = objectKey(svc);
    const want = ip ?? '';
    if (writing.get(key) === want) return;
    writing.set(key, want);
    const patch = { status: { loadBalancer: ip ? { ingress: [{ ip, ipMode: 'VIP' }] } : { ingress: null } } };
    if (ip) events.record(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer', COMPONENT);
    client
      .patch('services', svc.metadata.namespace, svc.metadata.name, patch, { status: true })
      .then(() => {
        log(ip ? `${key}: EXTERNAL-IP ${ip} written to status` : `${key}: load balancer released (status cleared)`);
        if (ip) events.record(svc, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer', COMPONENT);
        else events.record(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer', COMPONENT);
      })
      .catch((e: Error) => {
        if (writing.get(key) === want) writing.delete(key);
        if (e instanceof ApiClientError && e.status === 404) return; // gone meanwhile
        log(`${key}: writing status failed: ${e.message} (retrying on the next pass)`);
      });
    // (the entry stays until reconcile sees the status it wrote: a resync meanwhile writes nothing twice)
  };

  const reconcile = () => {
    const svcs = services.list();
    const views: LbServiceView[] = svcs.map((s) => ({
      key: objectKey(s),
      created: s.metadata.creationTimestamp ?? '',
      wantsLb: wantsLb(s),
      requestedIp: s.spec?.loadBalancerIP || undefined,
      currentIps: ingressIps(s),
    }));
    const next = planAssignments(views, pool);
    const nodeList = nodes
      .list()
      .filter((n) => !(EXCLUDE_LABEL in (n.metadata.labels ?? {})) && nodeIp(n))
      .map((n) => ({ name: n.metadata.name, ip: nodeIp(n)! }))
      .sort((a, b) => a.name.localeCompare(b.name));
    balancer.setNodes(nodeList.map((n) => ({ name: n.name, ip: parseIpv4(n.ip) })));

    const frontends: LbFrontend[] = [];
    for (const s of svcs) {
      const key = objectKey(s);
      const a = next.get(key);
      const current = ingressIps(s);
      if (a) {
        const prev = assignments.get(key);
        if (a.ip && prev?.ip !== a.ip)
          log(
            `${key}: EXTERNAL-IP ${a.ip}${current.includes(a.ip) ? ' (kept: its status holds it)' : s.spec?.loadBalancerIP === a.ip ? ' (spec.loadBalancerIP)' : ` (lowest free in ${formatPool(pool)})`}`,
          );
        if (a.problem) {
          const text = `${a.problem.reason}: ${a.problem.message}`;
          if (reported.get(key) !== text) {
            reported.set(key, text);
            log(`${key}: stays <pending>: ${a.problem.message}`);
            events.record(
              s,
              'Warning',
              'SyncLoadBalancerFailed',
              `Error syncing load balancer: ${a.problem.message}`,
              COMPONENT,
            );
          }
        } else reported.delete(key);
        const want = a.ip ? [a.ip] : [];
        if (want.join() !== current.join()) writeStatus(s, a.ip);
        else writing.delete(key);
        if (a.ip) {
          const ports = new Set<number>();
          for (const p of (s.spec?.ports ?? []) as { port: number; protocol?: string }[])
            if (protoNumber(p.protocol) > 0) ports.add(portKey(protoNumber(p.protocol), p.port));
          frontends.push({ service: key, ip: parseIpv4(a.ip), ports });
          if (
            checker.setService(
              key,
              nodeList.map((n) => ({ ...n, target: healthCheckTarget(s.spec ?? {}, n.ip) })),
            )
          )
            recomputeCandidates(key);
        }
      } else if (current.some((ip) => inPool(pool, ip))) {
        // no longer a LoadBalancer of ours (type changed, or another class): give its address back
        if (!writing.has(key)) log(`${key}: no longer type LoadBalancer; releasing ${current.join(', ')}`);
        writeStatus(s, null);
      } else writing.delete(key);
    }
    for (const key of [...writing.keys()]) if (!svcs.some((s) => objectKey(s) === key)) writing.delete(key);
    for (const [key, a] of assignments)
      if (a.ip && !next.get(key)?.ip)
        log(
          `${key}: EXTERNAL-IP ${a.ip} released${svcs.some((s) => objectKey(s) === key) ? '' : ' (Service deleted)'}`,
        );
    for (const key of checker.serviceNames()) if (!frontends.some((f) => f.service === key)) checker.removeService(key);
    for (const key of [...reported.keys()]) if (!next.has(key)) reported.delete(key);
    balancer.setFrontends(frontends);
    for (const f of frontends) if (!announced.has(f.ip)) forwarder?.announce(f.ip);
    announced.clear();
    for (const f of frontends) announced.add(f.ip);
    assignments = next;
  };

  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      try {
        reconcile();
      } catch (e) {
        log(`reconcile failed: ${(e as Error).stack ?? e}`);
      }
    });
  };
  const onAny = { added: schedule, modified: schedule, deleted: schedule };
  services.on(onAny);
  nodes.on(onAny);
  await Promise.all([services.start(), nodes.start()]);
  reconcile();
  const resync = setInterval(schedule, 10_000);
  resync.unref();
  checker.start();
  forwarder?.start();

  const status = (): CloudLbStatus => {
    const perNode = balancer.flows.perNode();
    const svcStatus: ServiceStatus[] = [];
    for (const [key, a] of [...assignments].sort(([x], [y]) => x.localeCompare(y))) {
      const svc = services.list().find((s) => objectKey(s) === key);
      const cand = balancer.candidates.get(key);
      svcStatus.push({
        service: key,
        externalIp: a.ip,
        problem: a.problem ? `${a.problem.reason}: ${a.problem.message}` : null,
        ports: svc ? portsText(svc) : [],
        check: checker.states(key)[0]?.target.kind ?? null,
        failOpen: cand?.failOpen ?? false,
        nodes: checker.states(key).map((s) => ({
          name: s.name,
          ip: s.ip,
          url: s.target.url,
          health: s.health.state,
          last: s.health.last,
          since: new Date(s.health.sinceMs).toISOString(),
          frames: balancer.counters.perPath.get(`${key}|${s.name}`) ?? 0,
        })),
      });
    }
    return {
      ip: own.ip,
      mac: own.mac,
      interface: ifname,
      pool: formatPool(pool),
      startedAt,
      apiserver: client.server,
      services: svcStatus,
      nodes: [...balancer.nodes.values()].map((n) => ({
        name: n.name,
        ip: ipv4ToString(n.ip),
        mac: n.mac ? macToString(n.mac) : null,
        flows: perNode.get(n.ip) ?? 0,
      })),
      flows: balancer.flows.size,
      counters: {
        arpReplies: balancer.counters.arpReplies,
        forwarded: balancer.counters.forwarded,
        forwardedBytes: balancer.counters.forwardedBytes,
        drops: { ...balancer.counters.drops },
        ...(forwarder ? forwarder.stats() : {}),
      },
      informers: { services: services.lastError, nodes: nodes.lastError },
    };
  };
  const server = cfg.socket ? await serveStatus(cfg.socket, status) : null;
  log(
    `cloud load balancer on ${ifname} ${own.ip} (${own.mac}), EXTERNAL-IPs from ${formatPool(pool)}, API server ${client.server}${cfg.socket ? `, status on ${cfg.socket}` : ''}`,
  );

  return {
    status,
    async stop() {
      clearInterval(resync);
      clearInterval(budgetTimer);
      checker.stop();
      services.stop();
      nodes.stop();
      forwarder?.close();
      await server?.close();
      client.close();
    },
  };
}
