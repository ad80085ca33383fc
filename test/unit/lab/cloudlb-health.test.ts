// The health state machine (unhealthy after 2 failures, healthy after 1
// success), what is probed, and the checker driving it with an injected probe.

import { describe, expect, it } from 'vitest';
import {
  HealthChecker,
  healthCheckTarget,
  initialHealth,
  observeProbe,
  type Health,
  type HealthState,
  type Probe,
} from '../../../src/cloudlb/index.js';

const run = (results: boolean[]): Health[] => {
  let h: HealthState = initialHealth(0);
  return results.map((ok, i) => (h = observeProbe(h, ok, ok ? 'HTTP 200' : 'connection refused', i + 1)).state);
};

describe('observeProbe', () => {
  it('starts unknown; one success makes it healthy', () => {
    expect(initialHealth(5)).toMatchObject({ state: 'unknown', failures: 0, successes: 0, sinceMs: 5 });
    expect(run([true])).toEqual(['healthy']);
  });

  it('turns unhealthy after two failures in a row, not one', () => {
    expect(run([true, false, false])).toEqual(['healthy', 'healthy', 'unhealthy']);
    expect(run([true, false, true, false])).toEqual(['healthy', 'healthy', 'healthy', 'healthy']);
    expect(run([false, false])).toEqual(['unknown', 'unhealthy']);
  });

  it('comes back after one success, and remembers when the state last changed', () => {
    let h = initialHealth(0);
    h = observeProbe(h, false, 'x', 10);
    h = observeProbe(h, false, 'connection refused', 20);
    expect(h).toMatchObject({ state: 'unhealthy', sinceMs: 20, last: 'connection refused', lastCheckMs: 20 });
    h = observeProbe(h, false, 'x', 30);
    expect(h.sinceMs).toBe(20);
    h = observeProbe(h, true, 'HTTP 200', 40);
    expect(h).toMatchObject({ state: 'healthy', sinceMs: 40, failures: 0, successes: 1 });
  });
});

describe('healthCheckTarget (GKE’s checks for kube-proxy)', () => {
  it('externalTrafficPolicy Local: the Service’s healthCheckNodePort', () => {
    expect(healthCheckTarget({ externalTrafficPolicy: 'Local', healthCheckNodePort: 30500 }, '172.28.0.11')).toEqual({
      url: 'http://172.28.0.11:30500/',
      kind: 'service',
    });
  });
  it('Cluster (or no policy): kube-proxy’s healthz on 10256', () => {
    expect(healthCheckTarget({ externalTrafficPolicy: 'Cluster' }, '172.28.0.12')).toEqual({
      url: 'http://172.28.0.12:10256/healthz',
      kind: 'kube-proxy',
    });
    expect(healthCheckTarget({}, '172.28.0.12').kind).toBe('kube-proxy');
  });
});

describe('HealthChecker', () => {
  const target = (ip: string) => healthCheckTarget({}, ip);

  it('probes every node of every Service each round and reports each change once', async () => {
    const up = new Set(['http://172.28.0.11:10256/healthz']);
    const probe: Probe = async (url) =>
      up.has(url) ? { ok: true, detail: 'HTTP 200' } : { ok: false, detail: 'connection refused' };
    const changes: string[] = [];
    let now = 0;
    const hc = new HealthChecker(
      (svc, node, from, to) => changes.push(`${svc} ${node} ${from}→${to.state}`),
      probe,
      () => now,
    );
    hc.setService('default/web', [
      { name: 'node1', ip: '172.28.0.11', target: target('172.28.0.11') },
      { name: 'node2', ip: '172.28.0.12', target: target('172.28.0.12') },
    ]);
    now = 1;
    await hc.tick();
    expect(changes).toEqual(['default/web node1 unknown→healthy']);
    now = 2;
    await hc.tick();
    expect(changes).toEqual(['default/web node1 unknown→healthy', 'default/web node2 unknown→unhealthy']);
    up.delete('http://172.28.0.11:10256/healthz');
    await hc.tick();
    await hc.tick();
    expect(changes.at(-1)).toBe('default/web node1 healthy→unhealthy');
    expect(hc.states('default/web').map((s) => [s.name, s.health.state, s.health.last])).toEqual([
      ['node1', 'unhealthy', 'connection refused'],
      ['node2', 'unhealthy', 'connection refused'],
    ]);
  });

  it('keeps a node’s state across setService calls unless its check changed', async () => {
    const hc = new HealthChecker(
      () => {},
      async () => ({ ok: true, detail: 'HTTP 200' }),
      () => 0,
    );
    const n1 = { name: 'node1', ip: '172.28.0.11', target: target('172.28.0.11') };
    expect(hc.setService('s', [n1])).toBe(true);
    await hc.tick();
    expect(hc.setService('s', [n1])).toBe(false);
    expect(hc.states('s')[0].health.state).toBe('healthy');
    expect(
      hc.setService('s', [
        { ...n1, target: healthCheckTarget({ externalTrafficPolicy: 'Local', healthCheckNodePort: 31000 }, n1.ip) },
      ]),
    ).toBe(true);
    expect(hc.states('s')[0].health.state).toBe('unknown');
  });

  it('never has two probes of one pair in flight, and drops answers for a Service removed meanwhile', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const changes: string[] = [];
    const hc = new HealthChecker(
      (s, n) => changes.push(`${s} ${n}`),
      async () => {
        calls++;
        await gate;
        return { ok: true, detail: 'HTTP 200' };
      },
      () => 0,
    );
    hc.setService('s', [{ name: 'node1', ip: '172.28.0.11', target: target('172.28.0.11') }]);
    const first = hc.tick();
    void hc.tick();
    expect(calls).toBe(1);
    hc.removeService('s');
    release();
    await first;
    expect(changes).toEqual([]);
  });
});
