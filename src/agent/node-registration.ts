import os from 'node:os';
import { ApiClientError, Informer, type ApiClient, type KubeObject } from '../control/client/index.js';
import { KUBELET_PORT, nodeInternalIp } from '../control/api/index.js';
import { parseCidr, type Cidr } from '../dataplane/index.js';
import type { PeerSource, PeerSpec } from '../overlay/index.js';
import { isoTime } from '../control/index.js';
import { AgentError } from './errors.js';

/**
 * The node's side of node lifecycle, as the kubelet does it: register the
 * Node object (addresses, the port its agent serves logs on), wait for the
 * controller to allocate its podCIDR, then post a heartbeat (the Ready
 * condition's lastHeartbeatTime) every few seconds. A node that stops
 * heartbeating is marked NotReady by the node lifecycle controller.
 */
export const HEARTBEAT_MS = 2000;

function readyCondition(prev: KubeObject | null, ready: boolean, message: string): Record<string, unknown> {
  const status = ready ? 'True' : 'False';
  const was = (prev?.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  const now = isoTime();
  return {
    type: 'Ready',
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: was?.status === status ? was.lastTransitionTime : now,
    reason: ready ? 'KubeletReady' : 'KubeletNotReady',
    message,
  };
}

function nodeResources(): Record<string, string> {
  return { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110' };
}

function nodeStatus(
  node: string,
  nodeIp: string,
  prev: KubeObject | null,
  ready: boolean,
  message: string,
): Record<string, any> {
  const others = (prev?.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'Ready');
  return {
    addresses: [
      { type: 'InternalIP', address: nodeIp },
      { type: 'Hostname', address: node },
    ],
    conditions: [...others, readyCondition(prev, ready, message)],
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
    // What describe's "Allocated resources" divide by: the machine's (a netns node shares it), 110 pods as the kubelet's default.
    capacity: nodeResources(),
    allocatable: nodeResources(),
    nodeInfo: {
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      operatingSystem: 'linux',
      osImage: 'podwire node (network namespace)',
      kernelVersion: os.release(),
      kubeletVersion: 'v1.30.0-podwire',
      kubeProxyVersion: 'v1.30.0-podwire',
      containerRuntimeVersion: 'podwire://0.1.0',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  };
}

/**
 * Create (or take over) this node's Node object and wait until it has a
 * podCIDR. `wantCidr` (optional) is asked for; the allocator keeps it
 * unless another node has it.
 */
export async function registerNode(
  client: ApiClient,
  node: string,
  nodeIp: string,
  wantCidr: string | null,
  log: (m: string) => void,
  timeoutMs = 60_000,
): Promise<Cidr> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const cur = await client.tryGet('nodes', undefined, node);
      if (!cur) {
        await client.create({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: node,
            labels: {
              'kubernetes.io/hostname': node,
              'kubernetes.io/os': 'linux',
              'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
            },
          },
          spec: wantCidr ? { podCIDR: wantCidr, podCIDRs: [wantCidr] } : {},
          status: nodeStatus(node, nodeIp, null, false, 'agent starting: waiting for the pod CIDR'),
        });
        log(`registered node ${node} (${nodeIp})`);
      } else {
        if (wantCidr && cur.spec?.podCIDR && cur.spec.podCIDR !== wantCidr) {
          throw new AgentError(
            'ERR_NODE_REGISTRATION',
            `node ${node} is registered with podCIDR ${cur.spec.podCIDR}, but this agent was told --pod-cidr ${wantCidr}`,
          );
        }
        await client.updateStatus({ ...cur, status: nodeStatus(node, nodeIp, cur, false, 'agent starting') });
        log(`node ${node} was registered before: taking it over`);
      }
      break;
    } catch (e) {
      if (e instanceof ApiClientError && (e.status === 503 || e.status === 409) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      throw e;
    }
  }
  // Wait for the podCIDR (the node IPAM controller's job).
  for (;;) {
    const cur = await client.tryGet('nodes', undefined, node).catch(() => null);
    const cidr = cur?.spec?.podCIDR;
    if (cidr) return parseCidr(cidr);
    if (Date.now() > deadline)
      throw new AgentError(
        'ERR_NODE_REGISTRATION',
        `node ${node} got no podCIDR within ${timeoutMs / 1000} s: is the controller manager running (podwire apiserver starts it)?`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Post Ready every HEARTBEAT_MS; an apiserver outage is logged once and ridden out. */
export function startHeartbeat(
  client: ApiClient,
  node: string,
  nodeIp: string,
  log: (m: string) => void,
): { stop(): void } {
  let failing = false;
  let busy = false;
  const beat = async () => {
    if (busy) return;
    busy = true;
    try {
      const cur = await client.get('nodes', undefined, node);
      await client.updateStatus({
        ...cur,
        status: { ...cur.status, ...nodeStatus(node, nodeIp, cur, true, 'podwire agent is posting ready status') },
      });
      if (failing) log('heartbeat: API server reachable again');
      failing = false;
    } catch (e) {
      if (e instanceof ApiClientError && e.status === 404) {
        log(`heartbeat: node ${node} was deleted from the API; the agent keeps running (restart it to register again)`);
      } else if (!failing && !(e instanceof ApiClientError && e.status === 409))
        log(`heartbeat: ${(e as Error).message}`);
      failing = !(e instanceof ApiClientError && e.status === 409);
    } finally {
      busy = false;
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  return { stop: () => clearInterval(timer) };
}

/** Peers from Node objects: every other node with an InternalIP and a podCIDR. */
export class ApiPeerSource implements PeerSource {
  private informer: Informer | null = null;
  constructor(
    private readonly client: ApiClient,
    private readonly self: string,
    private readonly log: (m: string) => void,
  ) {}

  start(onChange: (peers: PeerSpec[]) => void): void {
    let last = '';
    const recompute = () => {
      const peers: PeerSpec[] = [];
      for (const n of this.informer!.list()) {
        const ip = nodeInternalIp(n);
        if (n.metadata.name === this.self || !ip || !n.spec?.podCIDR) continue;
        peers.push({ name: n.metadata.name, nodeIp: ip, podCidr: n.spec.podCIDR });
      }
      peers.sort((a, b) => a.name.localeCompare(b.name));
      const text = JSON.stringify(peers);
      if (text === last) return; // heartbeats change nodes every 2 s; peers rarely
      last = text;
      onChange(peers);
    };
    this.informer = new Informer(this.client, 'nodes', {}, (m) => this.log(`peers: ${m}`));
    this.informer.on({ added: recompute, modified: recompute, deleted: recompute });
    void this.informer.start();
  }

  stop(): void {
    this.informer?.stop();
  }
}
