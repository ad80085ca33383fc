import fs from 'node:fs';
import path from 'node:path';
import { execaRunner, ipv4Addresses } from '../host/index.js';
import { parseIpv4, ipv4ToString, macToString, parseMac } from '../packet/index.js';
import { cidrHost, cidrMask, formatCidr, parseCidr, dropReasonName, serviceSnatIp } from '../dataplane/index.js';
import { AgentServices } from './services.js';
import { PolicyWatch } from './policy-watch.js';
import { FilePeerSource, toPeer, vtepMacFor, podMacFor, type PeerSpec } from '../overlay/index.js';
import type { AgentConfig, NodeConfig } from './config.js';
import { ApiClient, loadKubeconfig, type ApiServerConfig } from '../control/client/index.js';
import { registerNode, startHeartbeat, ApiPeerSource } from './node-registration.js';
import { Kubelet } from '../kubelet/index.js';
import { startLogServer } from '../kubelet/index.js';
import { runningContainers, statsSummary } from '../kubelet/index.js';
import { kubeletStreams, streamHooks } from '../kubelet/index.js';
import { portForwardUpgrade } from '../kubelet/index.js';
import { KUBELET_PORT } from '../control/api/index.js';
import { workloadTools } from '../kubelet/index.js';
import { setUpNode, setUpHostPort, HOST_PORT } from './node-setup.js';
import { PacketSocket } from '../native/index.js';
import { Datapath } from './datapath.js';
import { HostLocalIpam } from './ipam.js';
import { PodManager, apiPodKey } from './pods.js';
import { startControlServer, route, rawRoute } from './control-server.js';
import { TracerHub } from './tracer-hub.js';
import { DropCapture, NatCapture, parseCaptureFilter, type CaptureFilter } from '../capture/index.js';
import { FlowLog, agentMetrics } from '../observe/index.js';
import { podSearchLists } from './pod-search-lists.js';
import http from 'node:http';
import { AgentError } from './errors.js';
import {
  predecessorNeighbors,
  predecessorConntrack,
  requestHandover,
  type HandoverState,
  type NeighborTables,
} from './handover.js';

export type Log = (msg: string) => void;

export const agentSocketPath = (stateDir: string) => path.join(stateDir, 'agent.sock');

/**
 * One node's agent. It acts only inside the network namespace it was
 * started in (a netns node, or a Docker container): cbr0, eth0's tc filter,
 * and the pods it creates.
 */
export interface AgentHooks {
  /** the agent has handed the node over to a successor (handover.ts) and holds nothing any more: end the process */
  onHandedOver?: () => void;
}

export async function runAgent(
  given: AgentConfig,
  log: Log,
  hooks: AgentHooks = {},
): Promise<{ stop(): Promise<void> }> {
  const runner = execaRunner();
  fs.mkdirSync(given.stateDir, { recursive: true });
  const underlay = (await ipv4Addresses(runner, undefined)).find((a) => a.ifname === given.underlayIf);
  if (!underlay)
    throw new AgentError(
      'ERR_NO_NODE_ADDRESS',
      `${given.underlayIf} has no IPv4 address in this namespace: the agent needs its node IP there`,
    );
  const nodeIp = parseIpv4(underlay.local);
  // With an API server, the Node object is registered first: its podCIDR may come from the allocator.
  const api = apiConnection(given);
  const client = api ? new ApiClient(api) : null;
  const cfg: NodeConfig = client
    ? {
        ...given,
        podCidr: await registerNode(
          client,
          given.node,
          underlay.local,
          given.podCidr ? formatCidr(given.podCidr) : null,
          log,
        ),
      }
    : { ...given, podCidr: given.podCidr! };
  if (!cfg.podCidr)
    throw new AgentError('ERR_NO_POD_CIDR', 'no pod CIDR: give --pod-cidr, or --apiserver to have one allocated');
  const gatewayIp = cidrHost(cfg.podCidr, 1);
  await setUpNode(runner, cfg, gatewayIp, podMacFor(gatewayIp));
  // With Services, the node's own traffic into the cluster goes through the agent too (node-setup.ts)
  const hostMac = client ? await setUpHostPort(runner, cfg, gatewayIp, serviceSnatIp(cfg.podCidr)) : undefined;
  const localAddresses = new Set((await ipv4Addresses(runner, undefined)).map((a) => parseIpv4(a.local)));
  const underlayCidr = parseCidr(
    `${ipv4ToString((nodeIp & cidrMask(underlay.prefixlen)) >>> 0)}/${underlay.prefixlen}`,
  );

  const datapath = new Datapath(
    {
      nodeIp,
      gatewayIp,
      podCidr: cfg.podCidr,
      vtepMac: vtepMacFor(nodeIp),
      vni: cfg.vni,
      vxlanPort: cfg.vxlanPort,
      podMtu: cfg.podMtu,
      localAddresses,
      underlayCidr,
      hostMac,
      hostPortIndex: hostMac ? PacketSocket.ifIndex(HOST_PORT.bridge) : undefined,
    },
    cfg.bridge,
    cfg.underlayIf,
    client ? { nodeIp, nodePorts: [30000, 32767], natPorts: [61000, 65535] } : undefined,
    cfg.antiSpoofing,
    hostMac ? HOST_PORT.kernel : undefined,
  );
  const pipeline = datapath.pipeline;
  // kube-proxy's part (with an API server): Services, conntrack, NodePort, masquerade
  const services = client
    ? new AgentServices({ cfg, client, nodeIp, pipeline, runner, log, deferServing: cfg.takeover })
    : null;
  await services?.prepare();
  const ipam = new HostLocalIpam(cfg.podCidr, path.join(cfg.stateDir, 'ipam.json'));
  const pods = new PodManager(
    cfg,
    runner,
    ipam,
    gatewayIp,
    // the pod's veth is the one port its frames may come in on (datapath.ts)
    (p) => pipeline.neighbors.register(parseIpv4(p.ip), podMacFor(p.ip), PacketSocket.ifIndex(p.hostVeth)),
    (p) => pipeline.neighbors.unregister(parseIpv4(p.ip)),
  );
  const { adopted, lost } = await pods.adopt();
  if (adopted.length || lost.length)
    log(`adopted pods [${adopted.join(', ')}]; gone since last run [${lost.join(', ')}]`);

  let peerSpecs: PeerSpec[] = [];
  const peers = client
    ? new ApiPeerSource(client, cfg.node, log)
    : new FilePeerSource(cfg.peersFile, (err) => log(`peers: ${err.message} (keeping the last good set)`));
  peers.start((specs) => {
    peerSpecs = specs.filter((s) => s.nodeIp !== ipv4ToString(nodeIp));
    pipeline.setPeers(peerSpecs.map(toPeer));
    log(`peers: ${peerSpecs.map((p) => `${p.name}=${p.nodeIp}(${p.podCidr})`).join(' ') || 'none'}`);
  });
  // a successor taking the node over opens its receiving sockets only when its tables are filled (below)
  if (!cfg.takeover) datapath.start();
  await services?.start();
  // NetworkPolicy (with an API server): every policy, pod and namespace, compiled into the dataplane
  const policyWatch = client && services ? new PolicyWatch({ client, pipeline, node: cfg.node, log }) : null;
  await policyWatch?.start();

  // Taking over from a running agent (handover.ts): its neighbours first, then the switch.
  if (cfg.takeover) {
    const sock = agentSocketPath(cfg.stateDir);
    const learn = (t: NeighborTables) => {
      const now = performance.now();
      for (const n of t.underlayNeighbors) pipeline.underlayNeighbors.learn(parseIpv4(n.ip), parseMac(n.mac), 0, now);
      for (const n of t.neighbors) pipeline.neighbors.learn(parseIpv4(n.ip), parseMac(n.mac), 0);
    };
    const tables = await predecessorNeighbors(sock);
    if (tables) learn(tables);
    // its connections now, so none that lives on is new to us at the switch (a reply in that instant
    // would find no entry); the handover's answer brings what changed since
    const early = await predecessorConntrack(sock);
    if (early && services) services.takeOverConntrack(early);
    // ready: join the fanout groups (frames still go to the predecessor), then ask it to let go
    datapath.start();
    const out = await requestHandover(sock, process.pid);
    if (out.kind === 'refused')
      throw new AgentError('ERR_HANDOVER_REFUSED', `cannot take ${cfg.node} over: ${out.why}; stop it first`);
    if (out.kind === 'none') log(`takeover: ${out.why}; starting as usual`);
    else {
      learn(out.state);
      const n = out.state.conntrack && services ? services.takeOverConntrack(out.state.conntrack) : 0;
      log(
        `took ${cfg.node} over from agent ${out.state.pid} in ${out.ms.toFixed(1)} ms (its sockets closed ${out.state.releasedAfterMs.toFixed(2)} ms after the request; ${n} conntrack entries taken over)`,
      );
    }
  }
  await services?.serve();

  // The kubelet's part: pods bound to this node, their containers, probes, status, logs.
  let kubelet: Kubelet | null = null;
  let heartbeat: { stop(): void } | null = null;
  let logServer: http.Server | null = null;
  if (client) {
    kubelet = new Kubelet({
      client,
      node: cfg.node,
      nodeIp: underlay.local,
      sandboxes: pods,
      stateDir: cfg.stateDir,
      tools: workloadTools(cfg.stateDir),
      dns: cfg.dns,
      clusterCaPem: clusterCaPem(cfg, api),
      log,
    });
    streamHooks.portForward = portForwardUpgrade((ns, name) => pods.get(apiPodKey(ns, name)), log);
    logServer = await retryWhileInUse(() =>
      startLogServer(
        underlay.local,
        KUBELET_PORT,
        (ns, pod, c, prev) => kubelet!.logFile(ns, pod, c, prev),
        kubeletStreams(kubelet!, log),
        statsSummary(cfg.node, () => runningContainers(kubelet!, pods.list())),
        cfg.kubeletTls
          ? {
              cert: fs.readFileSync(cfg.kubeletTls.certFile),
              key: fs.readFileSync(cfg.kubeletTls.keyFile),
              clientCa: fs.readFileSync(cfg.kubeletTls.clientCaFile),
            }
          : undefined,
      ),
    );
    await kubelet.start();
    heartbeat = startHeartbeat(client, cfg.node, underlay.local, log);
  }

  const status = () => ({
    node: cfg.node,
    nodeIp: ipv4ToString(nodeIp),
    podCidr: formatCidr(cfg.podCidr),
    gateway: ipv4ToString(gatewayIp),
    gatewayMac: macToString(datapath.macs.gateway),
    nodeMac: macToString(datapath.macs.node),
    vtepMac: macToString(vtepMacFor(nodeIp)),
    vni: cfg.vni,
    podMtu: cfg.podMtu,
    pid: process.pid,
    metrics: cfg.metricsPort > 0 ? `http://${ipv4ToString(nodeIp)}:${cfg.metricsPort}/metrics` : null,
    peers: peerSpecs.map((p) => {
      const h = pipeline.peerHealth.get(parseIpv4(p.nodeIp));
      return {
        ...p,
        health: h ? (h.down ? 'down' : h.answeredOnce ? 'up' : 'unknown') : 'unknown',
        probesSent: h?.probesSent ?? 0,
        repliesSeen: h?.repliesSeen ?? 0,
      };
    }),
    underlayNeighbors: pipeline.underlayNeighbors.entries().map((e) => ({ ip: ipv4ToString(e.ip), mac: e.mac })),
    neighbors: pipeline.neighbors.entries().map((e) => ({ ...e, ip: ipv4ToString(e.ip) })),
    counters: pipeline.counters.snapshot(),
    kernelDrops: datapath.kernelDrops,
    internalErrors: datapath.internalErrors,
  });
  const tracers = new TracerHub(pipeline);
  const metrics = agentMetrics({
    node: cfg.node,
    pipeline,
    podName: (ip) => pods.list().find((p) => parseIpv4(p.ip) === ip)?.name,
    peerName: (ip) => peerSpecs.find((p) => parseIpv4(p.nodeIp) === ip)?.name,
    kernelDrops: () => datapath.kernelDrops,
    internalErrors: () => datapath.internalErrors,
    services: () => services?.lb ?? null,
  });
  const serveMetrics = async (res: http.ServerResponse) => {
    const text = await metrics.metrics();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(text);
  };
  // Prometheus scrapes the node's own address (inside the node's namespace only).
  let metricsServer: http.Server | null = null;
  if (cfg.metricsPort > 0) {
    metricsServer = http.createServer((req, res) => {
      if (req.url === '/metrics') void serveMetrics(res);
      else res.writeHead(404).end();
    });
    await retryWhileInUse(
      () =>
        new Promise<void>((resolve, reject) =>
          metricsServer!.once('error', reject).listen(cfg.metricsPort, ipv4ToString(nodeIp), () => {
            metricsServer!.off('error', reject);
            resolve();
          }),
        ),
    );
  }
  /** Everything but the dataplane's sockets and the control socket: API watches, the kubelet, the ports. */
  const stopControlPlane = () => {
    heartbeat?.stop();
    policyWatch?.stop();
    services?.stop();
    kubelet?.stop();
    logServer?.close();
    client?.close();
    peers.stop();
    metricsServer?.close();
  };
  let handedOver = false;
  const server = await startControlServer(agentSocketPath(cfg.stateDir), [
    // a successor about to take the node over (handover.ts): our connections, before the switch
    route('GET', '/handover/conntrack', async () => ({ status: 200, body: services?.conntrackSnapshot() ?? null })),
    // a successor taking the node over (handover.ts): let go of it, say what we knew, leave
    route('POST', '/handover', async (body) => {
      if (handedOver) return { status: 409, body: { error: 'already handed over' } };
      const successor = Number((body as { pid?: unknown })?.pid);
      handedOver = true;
      const t0 = performance.now();
      datapath.release();
      const releasedAfterMs = performance.now() - t0;
      const state: HandoverState = {
        pid: process.pid,
        conntrack: services?.conntrackSnapshot() ?? null,
        underlayNeighbors: pipeline.underlayNeighbors.entries().map((e) => ({ ip: ipv4ToString(e.ip), mac: e.mac })),
        neighbors: pipeline.neighbors.entries().map((e) => ({ ip: ipv4ToString(e.ip), mac: e.mac })),
        releasedAfterMs,
      };
      stopControlPlane();
      log(
        `handed ${cfg.node} over to agent ${successor}: sockets closed after ${releasedAfterMs.toFixed(2)} ms, ${state.conntrack?.entries.length ?? 0} conntrack entries passed on; exiting`,
      );
      // after this answer has been written
      setTimeout(() => hooks.onHandedOver?.(), 100).unref();
      return { status: 200, body: state };
    }),
    // pcapng stream of every frame the pipeline drops, the reason as the packet comment
    rawRoute('GET', '/capture/drops', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.tcpdump.pcap' });
      const cap = new DropCapture(
        cfg.node,
        (chunk) => res.write(chunk),
        () => res.writableLength,
      );
      tracers.add(cap);
      // (not req 'close': that fires once a GET's empty body is read)
      res.on('close', () => tracers.remove(cap));
    }),
    // pcapng stream of every packet the Service stage translates, before and/or after the rewrite (?side=pre|post|both, ?filter={proto,port,host})
    rawRoute('GET', '/capture/nat', (_req, res, _p, query) => {
      const side = query.get('side') ?? 'both';
      let filter: CaptureFilter;
      try {
        if (side !== 'pre' && side !== 'post' && side !== 'both')
          throw new AgentError('ERR_BAD_REQUEST', 'side must be pre, post or both');
        filter = parseCaptureFilter(
          JSON.parse(query.get('filter') ?? '{}') as { proto?: string; port?: string; host?: string },
          cfg.vxlanPort,
        );
      } catch (err) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: (err as Error).message }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.tcpdump.pcap' });
      const cap = new NatCapture(
        cfg.node,
        side,
        filter,
        (chunk) => res.write(chunk),
        () => res.writableLength,
      );
      tracers.add(cap);
      res.on('close', () => tracers.remove(cap));
    }),
    // Hubble-style flow events as JSON lines, for `podwire observe`
    rawRoute('GET', '/observe', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.flushHeaders(); // the client is ready to see events from now on
      let lost = 0;
      const log = new FlowLog(
        cfg.node,
        (e) => {
          if (res.writableLength > 4 << 20) {
            lost++; // a slow reader loses events; it never stalls the dataplane
            return;
          }
          res.write(`${JSON.stringify(lost ? { ...e, lostBefore: lost } : e)}\n`);
          lost = 0;
        },
        Date.now,
        30_000,
        {
          searchOf: podSearchLists(() => pods.list(), kubelet ? (uid) => kubelet!.runtime.etcDir(uid) : null),
          vxlanPort: cfg.vxlanPort,
        },
      );
      log.start();
      tracers.add(log);
      res.on('close', () => {
        log.stop();
        tracers.remove(log);
      });
    }),
    // stage-by-stage events for one probe (IPv4 source + identification), for `podwire trace`
    rawRoute('GET', '/trace', (_req, res, _p, query) => {
      let src: number;
      const id = Number(query.get('id'));
      try {
        src = parseIpv4(query.get('src') ?? '');
      } catch {
        res.writeHead(400).end('src must be an IPv4 address');
        return;
      }
      if (!Number.isInteger(id) || id < 0 || id > 0xffff) {
        res.writeHead(400).end('id must be 0..65535');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.flushHeaders();
      const tracer = {
        dropped() {},
        stage(e: { stage: string; detail: string; data?: Record<string, unknown> }) {
          res.write(`${JSON.stringify({ node: cfg.node, time: Date.now(), ...e })}\n`);
        },
      };
      pipeline.setProbe({ src, id });
      tracers.add(tracer);
      // step mode (?hold=1, podwire ui): the probe waits at this node's hold points until POST /trace/release
      const hold = query.get('hold') === '1';
      const expiry = hold ? setInterval(() => pipeline.expireHolds(), 1000) : null;
      if (hold) pipeline.holdProbe({ src, id }, true);
      res.on('close', () => {
        if (expiry) clearInterval(expiry);
        if (hold) pipeline.holdProbe({ src, id }, false);
        tracers.remove(tracer);
        pipeline.setProbe(null);
      });
    }),
    // step mode's "next": the held probe goes on from where it waits (its events come on the /trace stream)
    rawRoute('POST', '/trace/release', (_req, res, _p, query) => {
      const id = Number(query.get('id'));
      let src: number;
      try {
        src = parseIpv4(query.get('src') ?? '');
      } catch {
        res.writeHead(400).end('src must be an IPv4 address');
        return;
      }
      const from = pipeline.releaseProbe({ src, id });
      res
        .writeHead(from ? 200 : 404, { 'content-type': 'application/json' })
        .end(JSON.stringify(from ? { released: from } : { error: 'no probe held here' }));
    }),
    rawRoute('GET', '/metrics', (_req, res) => void serveMetrics(res)),
    route('GET', '/status', async () => ({ status: 200, body: status() })),
    route('GET', '/pods', async () => ({ status: 200, body: pods.list() })),
    // what `podwire exec` enters: a container's process and env (?container=), as the kubelet's exec
    rawRoute('GET', '/pods/:name/exec', (_req, res, p, query) => {
      const out = kubelet
        ? kubelet.execTarget(p.name, query.get('container') ?? undefined)
        : { status: 404, body: { error: 'this agent runs no kubelet (no API server)' } };
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
    }),
    route('POST', '/pods', async (body) => {
      const name = (body as { name?: unknown })?.name;
      if (typeof name !== 'string') return { status: 400, body: { error: 'body must be {"name": "<pod name>"}' } };
      const pod = await pods.create(name);
      log(`pod ${pod.name} created: ${pod.ip} ${pod.mac} netns ${pod.netns}`);
      return { status: 201, body: pod };
    }),
    route('DELETE', '/pods/:name', async (_b, p) => {
      if (pods.get(p.name)?.uid)
        return {
          status: 409,
          body: { error: `pod "${p.name}" belongs to the API server: delete it there (podwire delete pod ${p.name})` },
        };
      const pod = await pods.delete(p.name);
      log(`pod ${pod.name} deleted`);
      return { status: 200, body: pod };
    }),
    route('GET', '/lb', async (_b, _p) =>
      services
        ? { status: 200, body: services.status() }
        : { status: 404, body: { error: 'this agent runs no Services (no API server)' } },
    ),
    rawRoute('GET', '/lb/service', (_req, res, _p, query) => {
      res.writeHead(services ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          services
            ? services.status(query.get('name') ?? undefined, query.get('iptables') === '1')
            : { error: 'this agent runs no Services' },
        ),
      );
    }),
    route('GET', '/policy', async () =>
      policyWatch
        ? { status: 200, body: policyWatch.status() }
        : { status: 404, body: { error: 'this agent enforces no NetworkPolicy (no API server)' } },
    ),
    route('GET', '/conntrack', async () =>
      services
        ? { status: 200, body: services.conntrackRows() }
        : { status: 404, body: { error: 'this agent runs no Services' } },
    ),
    route('POST', '/conntrack/flush', async (body) => {
      if (!services) return { status: 404, body: { error: 'this agent runs no Services' } };
      const f = (body ?? {}) as { proto?: string; src?: string; dst?: string; port?: number };
      return { status: 200, body: { flushed: services.flushConntrack(f) } };
    }),
    route('GET', '/drops', async () => ({
      status: 200,
      body: Object.fromEntries([...pipeline.counters.drops].map((n, i) => [dropReasonName(i), n])),
    })),
  ]);
  log(
    `agent ${cfg.node} up${client ? ` (API server ${client.server})` : ''}: node IP ${ipv4ToString(nodeIp)}, pods ${formatCidr(cfg.podCidr)} via ${ipv4ToString(gatewayIp)} on ${cfg.bridge}, VXLAN VNI ${cfg.vni} port ${cfg.vxlanPort}`,
  );

  return {
    async stop() {
      if (!handedOver) {
        stopControlPlane();
        datapath.stop();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Bind a port the predecessor of a handover may not have released yet (its
 * close is asynchronous): retry EADDRINUSE for a few seconds.
 */
async function retryWhileInUse<T>(bind: () => Promise<T>, deadlineMs = 5000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await bind();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The agent's API connection, as the kubelet's: --kubeconfig's credentials
 * (compose: the node's certificate, user system:node:<name>) at --apiserver
 * or the kubeconfig's server; --apiserver alone (the netns lab's Unix socket).
 */
function apiConnection(cfg: AgentConfig): ApiServerConfig | null {
  if (!cfg.kubeconfig) return cfg.apiserver ? { server: cfg.apiserver } : null;
  const fromFile = loadKubeconfig(cfg.kubeconfig);
  return cfg.apiserver ? { ...fromFile, server: cfg.apiserver } : fromFile;
}

/** The CA pods get as serviceaccount/ca.crt: --cluster-ca-file, else the kubeconfig's; none: no tokens are projected. */
function clusterCaPem(cfg: AgentConfig, api: ApiServerConfig | null): string | undefined {
  if (cfg.clusterCaFile) return fs.readFileSync(cfg.clusterCaFile, 'utf8');
  return api?.ca ? String(api.ca) : undefined;
}
