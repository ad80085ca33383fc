// The node every pipeline test runs on: node1 of a podwire lab (172.28.0.11,
// pods 10.244.1.0/24 behind gateway 10.244.1.1) with two local pods and one
// peer, node2 (172.28.0.12, pods 10.244.2.0/24), whose underlay MAC is known.

import {
  Pipeline,
  parseCidr,
  type NodeIdentity,
  type PipelineOptions,
  type DropReason,
} from '../../../src/dataplane/index.js';
import { podMacFor, toPeer, vtepMacFor, type PeerSpec } from '../../../src/overlay/index.js';
import { TCP_ACK, parseIpv4, parseMac } from '../../../src/packet/index.js';
import {
  CapturePort,
  arpRequestFrame,
  icmpEchoFrame,
  rxBatch,
  tcpFrame,
  udpFrame,
  vxlanFrame,
  type IpFrameSpec,
  type RxFrame,
  type TcpSpec,
  type UdpSpec,
  type VxlanSpec,
} from '../support/frames.js';

export const NODE1 = { ip: '172.28.0.11', mac: parseMac('02:42:ac:1c:00:0b'), vtepMac: vtepMacFor('172.28.0.11') };
export const GATEWAY = { ip: '10.244.1.1', mac: podMacFor('10.244.1.1') };
export const POD_A = { ip: '10.244.1.2', mac: podMacFor('10.244.1.2') };
export const POD_B = { ip: '10.244.1.3', mac: podMacFor('10.244.1.3') };
export const NODE2 = {
  spec: { name: 'node2', nodeIp: '172.28.0.12', podCidr: '10.244.2.0/24' } satisfies PeerSpec,
  ip: '172.28.0.12',
  mac: parseMac('02:42:ac:1c:00:0c'),
  vtepMac: vtepMacFor('172.28.0.12'),
};
/** A pod on node2. */
export const REMOTE_POD = { ip: '10.244.2.5', mac: podMacFor('10.244.2.5') };
/** A peer that is configured but whose underlay MAC nobody has learned. */
export const NODE3 = { spec: { name: 'node3', nodeIp: '172.28.0.13', podCidr: '10.244.3.0/24' } satisfies PeerSpec };

export function identity(): NodeIdentity {
  const nodeIp = parseIpv4(NODE1.ip);
  const gatewayIp = parseIpv4(GATEWAY.ip);
  return {
    nodeIp,
    nodeMac: NODE1.mac,
    gatewayIp,
    gatewayMac: GATEWAY.mac,
    podCidr: parseCidr('10.244.1.0/24'),
    vtepMac: NODE1.vtepMac,
    vni: 1,
    vxlanPort: 4789,
    podMtu: 1450,
    localAddresses: new Set([gatewayIp, nodeIp]),
  };
}

export interface Sent {
  pods: Buffer[];
  underlay: Buffer[];
}

export interface Node1 {
  pipeline: Pipeline;
  podPort: CapturePort;
  underlayPort: CapturePort;
  /** node IPs onPeerUnresolved reported */
  unresolved: number[];
  /** Run one batch from the pods; returns what this batch sent. */
  fromPods(...frames: (Buffer | RxFrame)[]): Sent;
  fromUnderlay(...frames: (Buffer | RxFrame)[]): Sent;
  /** Non-zero drop counters by reason. */
  drops(): Partial<Record<DropReason, number>>;
}

export function node1(options: PipelineOptions & { accept?: number; reject?: number; peers?: PeerSpec[] } = {}): Node1 {
  const podPort = new CapturePort(options.accept, options.reject);
  const underlayPort = new CapturePort(options.accept, options.reject);
  const unresolved: number[] = [];
  const pipeline = new Pipeline(identity(), { pods: podPort, underlay: underlayPort }, options, {
    onPeerUnresolved: (ip) => unresolved.push(ip),
  });
  for (const pod of [POD_A, POD_B]) pipeline.neighbors.register(parseIpv4(pod.ip), pod.mac);
  pipeline.setPeers((options.peers ?? [NODE2.spec, NODE3.spec]).map(toPeer));
  pipeline.learnUnderlay(parseIpv4(NODE2.ip), NODE2.mac, 0);
  const run = (process: (rx: ReturnType<typeof rxBatch>) => void, frames: (Buffer | RxFrame)[]): Sent => {
    podPort.clear();
    underlayPort.clear();
    process(rxBatch(frames));
    return { pods: [...podPort.frames], underlay: [...underlayPort.frames] };
  };
  return {
    pipeline,
    podPort,
    underlayPort,
    unresolved,
    fromPods: (...frames) => run((rx) => pipeline.processFromPods(rx), frames),
    fromUnderlay: (...frames) => run((rx) => pipeline.processFromUnderlay(rx), frames),
    drops: () => pipeline.counters.snapshot().drops as Partial<Record<DropReason, number>>,
  };
}

// Frames pods send: from pod A's MAC and IP to the gateway's MAC, unless told otherwise.

const fromPodA = { srcMac: POD_A.mac, dstMac: GATEWAY.mac, src: POD_A.ip };

export const podUdp = (s: Partial<UdpSpec> & Pick<UdpSpec, 'dst'>): Buffer =>
  udpFrame({ srcPort: 40000, dstPort: 5353, payload: Buffer.from('hello from pod A, over UDP'), ...fromPodA, ...s });

export const podTcp = (s: Partial<TcpSpec> & Pick<TcpSpec, 'dst'>): Buffer =>
  tcpFrame({
    srcPort: 40000,
    dstPort: 5201,
    payload: Buffer.from('hello over TCP'),
    flags: TCP_ACK,
    ...fromPodA,
    ...s,
  });

export const podPing = (s: Partial<IpFrameSpec> & Pick<IpFrameSpec, 'dst'> & { ident?: number }): Buffer =>
  icmpEchoFrame({ ...fromPodA, ...s });

export const podArp = (targetIp: string, senderIp: string = POD_A.ip, srcMac: Buffer = POD_A.mac): Buffer =>
  arpRequestFrame({ srcMac, senderIp, targetIp });

/** What node2 sends node1: `inner` in VXLAN VNI 1 from 172.28.0.12 to 172.28.0.11. */
export function fromNode2(inner: Buffer, over: Partial<VxlanSpec> = {}): Buffer {
  return vxlanFrame({
    srcMac: NODE2.mac,
    dstMac: NODE1.mac,
    src: NODE2.ip,
    dst: NODE1.ip,
    vni: 1,
    srcPort: 51234,
    inner,
    ...over,
  });
}

/** An inner frame as node2's VTEP sends it: VTEP MAC to VTEP MAC, remote pod to `dst`. */
export function remotePing(dst: string, s: Partial<IpFrameSpec> = {}): Buffer {
  return icmpEchoFrame({ srcMac: NODE2.vtepMac, dstMac: NODE1.vtepMac, src: REMOTE_POD.ip, dst, ...s });
}
