// Peer health: a peer is down only after several silent beats, and any VXLAN
// frame from it counts as hearing from it (a restarted agent forwards a live
// flow before it answers the next probe).

import { describe, expect, it } from 'vitest';
import { ICMP_ECHO_REPLY, internetChecksum, parseIpv4 } from '../../../src/packet/index.js';
import { NODE1, NODE2, POD_A, fromNode2, node1, podPing, remotePing, REMOTE_POD } from './node1.js';
import { icmpEchoFrame } from '../support/frames.js';
import { HEALTH_ICMP_ID } from '../../../src/dataplane/health.js';

/** node1 with a clock the test moves; node2 has answered one health probe at t = 0. */
function setup() {
  let now = 0;
  const n = node1({ clock: () => now });
  // node2's gateway answering node1's gateway: the health reply
  const reply = icmpEchoFrame({
    srcMac: NODE2.vtepMac,
    dstMac: NODE1.vtepMac,
    src: '10.244.2.1',
    dst: '10.244.1.1',
    ident: HEALTH_ICMP_ID,
  });
  const icmp = 14 + 20;
  reply[icmp] = ICMP_ECHO_REPLY;
  reply.writeUInt16BE(0, icmp + 2);
  reply.writeUInt16BE(internetChecksum(reply, icmp, reply.length - icmp), icmp + 2);
  const answer = () => n.fromUnderlay(fromNode2(reply));
  n.pipeline.healthTick();
  answer();
  n.pipeline.healthTick(); // (still t = 0: the reply is counted as heard, the clock starts here)
  const health = () => n.pipeline.peers.byNodeIp(parseIpv4(NODE2.ip))!.health!;
  expect(health().answeredOnce).toBe(true);
  return {
    n,
    health,
    answer,
    at: (ms: number) => (now = ms),
  };
}

describe('peer health', () => {
  it('one missed beat is not a dead node; several are, and traffic to it is dropped as peer-unreachable', () => {
    const { n, health, at } = setup();
    at(1000);
    n.pipeline.healthTick();
    at(2000);
    n.pipeline.healthTick();
    expect(health().down).toBe(false);
    at(4000);
    n.pipeline.healthTick();
    expect(health().down).toBe(true);
    n.fromPods(podPing({ dst: REMOTE_POD.ip }));
    expect(n.drops()['peer-unreachable']).toBe(1);
  });

  it('a VXLAN frame from the peer (a live flow its restarted agent forwards) keeps it up without a probe reply', () => {
    const { n, health, at } = setup();
    for (let t = 1000; t <= 10_000; t += 1000) {
      at(t);
      n.fromUnderlay(fromNode2(remotePing(POD_A.ip))); // the flow's packets, no health replies
      n.pipeline.healthTick();
      expect(health().down, `at ${t} ms`).toBe(false);
    }
  });

  it('down, then heard again: up at once', () => {
    const { n, health, at, answer } = setup();
    at(5000);
    n.pipeline.healthTick();
    expect(health().down).toBe(true);
    n.fromUnderlay(fromNode2(remotePing(POD_A.ip)));
    at(6000);
    n.pipeline.healthTick();
    expect(health().down).toBe(false);
    at(12_000);
    n.pipeline.healthTick();
    expect(health().down).toBe(true);
    answer();
    expect(health().down).toBe(false);
  });
});
