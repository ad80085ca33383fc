import fs from 'node:fs';
import path from 'node:path';
import { cmd, names, checkName, netnsExists, showLink, type CommandRunner } from '../host/index.js';
import { ipv4ToString, macToString } from '../packet/index.js';
import { podMacFor } from '../overlay/index.js';
import type { HostLocalIpam } from './ipam.js';
import type { NodeConfig } from './config.js';
import { apiPodKey, type PodRecord, type PodSandboxes } from '../kubelet/index.js';

export { apiPodKey, type PodRecord };

export class PodError extends Error {
  constructor(
    readonly code: 'ERR_POD_EXISTS' | 'ERR_POD_NOT_FOUND' | 'ERR_POD_SETUP',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The node end of a pod's veth takes frames larger than the pod MTU, so a pod
 * whose MTU was raised above the path's still reaches the agent, which drops
 * the frame with a reason (mtu-exceeded) and answers ICMP frag-needed as a
 * router would. At the pod's MTU the kernel would drop it silently instead.
 */
export const HOST_VETH_MTU = 9000;

/** What creating one pod does, as data: a netns, a veth pair on cbr0 (isolated port), addresses and a default route. */
export function podPlan(cfg: NodeConfig, pod: PodRecord, gateway: string): string[][] {
  const ns = pod.netns;
  const v = pod.hostVeth;
  const mtu = String(cfg.podMtu);
  return [
    cmd.netnsAdd(ns),
    cmd.vethAdd(undefined, v, 'eth0', ns, HOST_VETH_MTU),
    cmd.linkSet(undefined, v, 'addrgenmode', 'none'),
    cmd.linkSet(undefined, v, 'master', cfg.bridge),
    cmd.bridgePortIsolate(undefined, v),
    cmd.bridgeFdbStatic(undefined, pod.mac, v),
    cmd.linkUp(undefined, v),
    cmd.linkSet(ns, 'eth0', 'address', pod.mac, 'mtu', mtu),
    cmd.linkSet(ns, 'eth0', 'addrgenmode', 'none'),
    cmd.linkUp(ns, 'eth0'),
    cmd.linkUp(ns, 'lo'),
    cmd.addrAdd(ns, `${pod.ip}/${cfg.podCidr.prefixLen}`, 'eth0'),
    cmd.routeReplace(ns, 'default', 'via', gateway, 'dev', 'eth0'),
  ];
}

/**
 * Pods as network namespaces on this node, like a CNI plugin makes them for
 * the kubelet. The record of pods is persisted so a restarted agent adopts
 * the pods that still exist instead of making them twice.
 */
/** How long a deleted pod's last frames may take to be read from the agent's packet socket. */
const POD_FRAMES_DRAIN_MS = 50;

export class PodManager implements PodSandboxes {
  private readonly pods = new Map<string, PodRecord>();
  private readonly file: string;

  constructor(
    private readonly cfg: NodeConfig,
    private readonly runner: CommandRunner,
    private readonly ipam: HostLocalIpam,
    private readonly gatewayIp: number,
    private readonly onAdded: (pod: PodRecord) => void,
    private readonly onDeleted: (pod: PodRecord) => void,
  ) {
    this.file = path.join(cfg.stateDir, 'pods.json');
  }

  list(): PodRecord[] {
    return [...this.pods.values()];
  }
  get(name: string): PodRecord | undefined {
    return this.pods.get(name);
  }

  /** Adopt pods from a previous run whose namespace and veth still exist; forget the rest. */
  async adopt(): Promise<{ adopted: string[]; lost: string[] }> {
    let saved: PodRecord[] = [];
    try {
      saved = JSON.parse(fs.readFileSync(this.file, 'utf8')) as PodRecord[];
    } catch {
      saved = [];
    }
    const adopted: string[] = [];
    const lost: string[] = [];
    for (const pod of saved) {
      const alive =
        (await netnsExists(this.runner, pod.netns)) && (await showLink(this.runner, undefined, pod.hostVeth)) !== null;
      if (alive) {
        this.pods.set(pod.name, pod);
        this.onAdded(pod);
        adopted.push(pod.name);
      } else {
        await this.runner.run(cmd.netnsDelete(pod.netns), { allowFailure: true });
        this.ipam.release(pod.name);
        lost.push(pod.name);
      }
    }
    this.save();
    return { adopted, lost };
  }

  async create(name: string): Promise<PodRecord> {
    checkName('pod', name);
    return this.make(name, {});
  }

  /**
   * A sandbox for a Pod object bound to this node. Its key is the name in
   * the default namespace (so `podwire exec web-1` finds it) and
   * namespace/name elsewhere; its netns `<prefix>-pod-<name>[.<namespace>]`.
   */
  async createForApi(namespace: string, name: string, uid: string): Promise<PodRecord> {
    return this.make(apiPodKey(namespace, name), { namespace, uid });
  }

  private async make(name: string, api: { namespace?: string; uid?: string }): Promise<PodRecord> {
    if (this.pods.has(name)) throw new PodError('ERR_POD_EXISTS', `pod "${name}" already exists on ${this.cfg.node}`);
    const ip = this.ipam.allocate(name);
    const pod: PodRecord = {
      name,
      ...api,
      ip: ipv4ToString(ip),
      mac: macToString(podMacFor(ip)),
      netns: names.podNs(
        this.cfg.prefix,
        api.namespace && api.namespace !== 'default' ? `${name.split('/')[1]}.${api.namespace}` : name,
      ),
      hostVeth: names.podHostVeth(name),
      createdAt: new Date().toISOString(),
    };
    // A namespace left by a crash under this name is stale: start clean.
    await this.runner.run(cmd.netnsDelete(pod.netns), { allowFailure: true });
    await this.runner.run(cmd.linkDelete(undefined, pod.hostVeth), { allowFailure: true });
    try {
      for (const argv of podPlan(this.cfg, pod, ipv4ToString(this.gatewayIp))) await this.runner.run(argv);
    } catch (cause) {
      await this.runner.run(cmd.netnsDelete(pod.netns), { allowFailure: true });
      await this.runner.run(cmd.linkDelete(undefined, pod.hostVeth), { allowFailure: true });
      this.ipam.release(name);
      throw new PodError('ERR_POD_SETUP', `could not create pod "${name}": ${(cause as Error).message}`, { cause });
    }
    this.pods.set(name, pod);
    this.save();
    this.onAdded(pod);
    return pod;
  }

  async delete(name: string): Promise<PodRecord> {
    const pod = this.pods.get(name);
    if (!pod) throw new PodError('ERR_POD_NOT_FOUND', `pod "${name}" not found on ${this.cfg.node}`);
    // Deleting the namespace destroys eth0, and with it the host end of the pair.
    await this.runner.run(cmd.netnsDelete(pod.netns), { allowFailure: true });
    await this.runner.run(cmd.linkDelete(undefined, pod.hostVeth), { allowFailure: true });
    // Its address stops being the pod's (anti-spoofing, ARP) only now, and a moment later: the last
    // frames its processes sent as they ended (a FIN closing a connection) may still wait in the
    // agent's packet socket, and would otherwise be judged spoofed-source.
    await new Promise((r) => setTimeout(r, POD_FRAMES_DRAIN_MS));
    this.onDeleted(pod);
    this.pods.delete(name);
    this.ipam.release(name);
    this.save();
    return pod;
  }

  private save(): void {
    fs.mkdirSync(this.cfg.stateDir, { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(this.list(), null, 2));
    fs.renameSync(tmp, this.file);
  }
}
