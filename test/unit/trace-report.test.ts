import { describe, it, expect } from 'vitest';
import { explainTrace, type AgentEvent } from '../../src/trace/index.js';

const inject = { pod: 'client', route: { gateway: '10.244.1.1', dev: 'eth0' }, mtu: 1450, gateway: '10.244.1.1', gatewayMac: '0a:58:0a:f4:01:01', arpMs: 0.5, sent: true };
const ev = (node: string, stage: string, time = 1000, data?: Record<string, unknown>): AgentEvent => ({ node, stage, detail: stage, time, data });

describe('trace report', () => {
  it('orders layers by the path, not by clocks: the source node first even when another agent’s event arrived earlier', () => {
    const r = explainTrace({
      inject,
      events: [ev('node1', 'received'), ev('node2', 'decap'), ev('node1', 'route'), ev('node1', 'encap'), ev('node2', 'deliver')],
      agentsDown: [],
      srcNode: 'node1',
      dst: { ip: '10.244.2.2', pod: 'web-2', node: 'node2' },
      arrival: { arrived: true, ttl: 62 },
      pathMtu: 1450,
    });
    expect(r.layers.map((l) => `${l.where}/${l.what.split(':')[0]}`)).toEqual([
      'client/route', 'client/gateway ARP', 'node1 agent/received', 'node1 agent/route', 'node1 agent/encap', 'node2 agent/decap', 'node2 agent/deliver', 'web-2/eth0',
    ]);
    expect(r.verdict).toBe('DELIVERED');
  });

  it('names the layer for each way a probe ends', () => {
    const base = { inject, agentsDown: [] as string[], srcNode: 'node1', dst: { ip: '10.244.2.2', pod: 'web-2', node: 'node2' }, pathMtu: 1450 };
    expect(explainTrace({ ...base, events: [ev('node1', 'received'), ev('node1', 'drop', 1, { reason: 'ttl-expired' })], arrival: { arrived: false } })).toMatchObject({ verdict: 'DROPPED', reason: 'ttl-expired' });
    expect(explainTrace({ ...base, events: [ev('node1', 'encap', 1, { outerDst: '172.28.0.12' })], agentsDown: ['node2'], arrival: { arrived: false } }).summary).toMatch(/node2's agent is not running/);
    expect(explainTrace({ ...base, events: [], agentsDown: ['node1'], arrival: { arrived: false } }).summary).toMatch(/node1's agent is not running/);
    expect(explainTrace({ ...base, inject: { pod: 'client', route: null, error: 'Network is unreachable', sent: false }, events: [], arrival: null }).summary).toMatch(/no route/);
    expect(explainTrace({ ...base, inject: { ...inject, gatewayMac: null }, events: [], arrival: null }).verdict).toBe('LOST');
  });
});
