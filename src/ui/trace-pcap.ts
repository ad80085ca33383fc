/**
 * The pcapng of one traced probe: captures on the source pod's eth0, the
 * lab's underlay (the VXLAN-encapsulated probe between the nodes) and every
 * pod the probe may end in, each started before the probe is sent and
 * stopped once the trace is over, filtered by the probe's addresses and
 * ports; then only the frames carrying the probe's IPv4 identification
 * (inner, for VXLAN) are kept, one interface per capture point, in time order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureInNamespace, findPod, type LabState, type ProbeFacts } from '../lab/index.js';
import {
  enhancedPacket,
  interfaceDescription,
  readPcapng,
  sectionHeader,
  type CapturedPacket,
} from '../capture/index.js';
import { dissectFrame } from '../packet/index.js';

interface Point {
  ns: string;
  ifname: string;
  label: string;
  promiscuous: boolean;
}

/** Is this frame the probe (its IPv4 identification; the inner packet of VXLAN)? */
export function isProbeFrame(data: Buffer, id: number): boolean {
  const s = dissectFrame(data, 0, data.length);
  const ip = s.vxlan?.inner.ipv4 ?? s.ipv4;
  return ip !== undefined && ip.id === id;
}

/** One pcapng: a section, an interface per capture point, the probe's frames in time order. */
export function mergeProbeCaptures(points: { label: string; packets: CapturedPacket[] }[], id: number): Buffer {
  const blocks: Buffer[] = [sectionHeader()];
  points.forEach((p) => blocks.push(interfaceDescription(p.label, `the traced probe (IPv4 id ${id}) at ${p.label}`)));
  const frames = points
    .flatMap((p, i) => p.packets.filter((x) => isProbeFrame(x.data, id)).map((x) => ({ i, x })))
    .sort((a, b) => a.x.time - b.x.time);
  for (const { i, x } of frames)
    blocks.push(
      enhancedPacket(x.data, {
        interfaceId: i,
        timestampUs: BigInt(Math.round(x.time * 1e6)),
        originalLength: x.originalLength,
        ...(x.comment ? { comment: x.comment } : {}),
      }),
    );
  return Buffer.concat(blocks);
}

export interface ProbeCapture {
  /** end the captures and read what they caught */
  stop(): Promise<Buffer>;
}

/** Start the captures for `probe`; resolves once every one of them listens. */
export async function captureProbe(state: LabState, probe: ProbeFacts): Promise<ProbeCapture> {
  const src = await findPod(state, probe.srcPod);
  const points: Point[] = [];
  if (src) points.push({ ns: src.netns, ifname: 'eth0', label: `${probe.srcPod}/eth0`, promiscuous: false });
  points.push({ ns: state.plan.underlayNs, ifname: state.plan.underlayBridge, label: 'underlay', promiscuous: true });
  for (const e of probe.ends)
    if (e.pod !== probe.srcPod)
      points.push({ ns: e.netns, ifname: 'eth0', label: `${e.pod}/eth0`, promiscuous: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwire-ui-trace-'));
  const stop = new AbortController();
  const filter = {
    proto: probe.proto,
    ...(probe.proto === 'icmp' ? {} : { port: 40000 + (probe.id % 20000) }),
  };
  const runs = points.map((p, n) => {
    let ready!: () => void;
    const listening = new Promise<void>((r) => (ready = r));
    const file = path.join(dir, `${n}.pcapng`);
    const done = captureInNamespace({
      ns: p.ns,
      ifname: p.ifname,
      label: p.label,
      format: 'pcapng',
      filter,
      out: file,
      promiscuous: p.promiscuous,
      onReady: ready,
      signal: stop.signal,
    }).catch(() => 0);
    return { p, file, listening: Promise.race([listening, done.then(() => undefined)]), done };
  });
  await Promise.all(runs.map((r) => r.listening));
  return {
    async stop() {
      stop.abort();
      await Promise.all(runs.map((r) => r.done));
      const got = runs.map((r) => {
        let packets: CapturedPacket[] = [];
        try {
          packets = readPcapng(fs.readFileSync(r.file));
        } catch {
          // a capture that never started (its pod gone): nothing from there
        }
        return { label: r.p.label, packets };
      });
      fs.rmSync(dir, { recursive: true, force: true });
      return mergeProbeCaptures(got, probe.id);
    },
  };
}
