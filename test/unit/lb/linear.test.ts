import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/control/client/index.js';
import {
  LinearTable,
  PROTO_TCP,
  PROTO_UDP,
  compileService,
  endpointChainName,
  iptablesSave,
  portProtoHash,
  servicePortName,
  statisticProbability,
  statisticScheduler,
  walkEndpointRules,
  type Frontend,
} from '../../../src/lb/index.js';
import { parseIpv4 } from '../../../src/packet/index.js';

const node = { name: 'node-a' };

function compiled(
  ns: string,
  name: string,
  spec: Record<string, any>,
  ports: unknown[],
  ips: string[],
  status?: Record<string, any>,
): Frontend[] {
  const svc: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { selector: { app: name }, ...spec },
    ...(status ? { status } : {}),
  };
  const slice: KubeObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-q8x2v`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports,
    // x.x.1.x pods run on this node
    endpoints: ips.map((ip) => ({
      addresses: [ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: ip.split('.')[2] === '1' ? 'node-a' : 'node-b',
    })),
  };
  return compileService(svc, ips.length ? [slice] : [], node, { defaultScheduler: 'random' }).frontends;
}

const kubeDns = () =>
  compiled(
    'kube-system',
    'kube-dns',
    { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    [{ name: 'dns', port: 53, protocol: 'UDP' }],
    ['10.244.0.2', '10.244.0.3'],
  );
const web = () =>
  compiled(
    'default',
    'web',
    {
      type: 'NodePort',
      clusterIP: '10.96.0.20',
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
    },
    [{ name: 'http', port: 8080, protocol: 'TCP' }],
    ['10.244.1.5', '10.244.2.3', '10.244.3.7'],
  );
const empty = () =>
  compiled('default', 'empty', { clusterIP: '10.96.0.30', ports: [{ name: 'http', port: 80 }] }, [], []);
const shop = () =>
  compiled(
    'default',
    'shop',
    {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.40',
      externalTrafficPolicy: 'Local',
      sessionAffinity: 'ClientIP',
      ports: [{ port: 443, targetPort: 8443, nodePort: 31443 }],
    },
    [{ name: '', port: 8443, protocol: 'TCP' }],
    ['10.244.1.5', '10.244.2.9'],
    { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
  );

describe('kube-proxy chain names', () => {
  it('match kube-proxy’s own (proxier_test.go, and every cluster’s kube-dns)', () => {
    expect(portProtoHash('kube-system/kube-dns:dns', 'udp')).toBe('TCOU7JCQXEZGVUNU');
    expect(portProtoHash('kube-system/kube-dns:dns-tcp', 'tcp')).toBe('ERIFXISQEP7F7OF4');
    expect(portProtoHash('default/kubernetes:https', 'tcp')).toBe('NPX46M4PTMTKRN6Y');
    expect(portProtoHash('ns1/svc1:p80', 'tcp')).toBe('XPGD46QRK7WJZT7O');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.2:80')).toBe('KUBE-SEP-LXVODXWDISEETFEF');
  });

  it('servicePortName leaves the colon out for an unnamed port', () => {
    expect(servicePortName({ service: 'default/web', portName: 'http' })).toBe('default/web:http');
    expect(servicePortName({ service: 'default/web', portName: '' })).toBe('default/web');
  });
});

describe('the KUBE-SVC probability walk', () => {
  it('rule i of n matches with probability 1/(n−i); the last always', () => {
    expect([1, 2, 3, 4, 1000].map(statisticProbability)).toEqual([
      '1.0000000000',
      '0.5000000000',
      '0.3333333333',
      '0.2500000000',
      '0.0010000000',
    ]);
    const walk = (n: number, draws: number[]) => {
      const script = [...draws];
      const index = walkEndpointRules(n, () => script.shift()!);
      return { index, unused: script.length };
    };
    expect(walk(3, [0.2])).toEqual({ index: 0, unused: 0 }); // 0.2 < 1/3
    expect(walk(3, [0.34, 0.49])).toEqual({ index: 1, unused: 0 }); // then 0.49 < 1/2
    expect(walk(3, [0.9, 0.5, 0.1])).toEqual({ index: 2, unused: 1 }); // the last rule draws nothing
    expect(walk(1, [0.99])).toEqual({ index: 0, unused: 1 });
  });

  it('each endpoint gets 1/n', () => {
    let seed = 12345;
    const lcg = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40000; i++) counts[walkEndpointRules(4, lcg)]++;
    for (const c of counts) expect(Math.abs(c / 40000 - 0.25)).toBeLessThan(0.01);
  });

  it('statisticScheduler explains which rule matched', () => {
    const s = statisticScheduler(3, () => 0.9);
    expect(s.pick(0, 0)).toBe(2);
    expect(s.explain(0, 0, 0)).toBe(
      'KUBE-SVC rule 1 of 3 matched (statistic --mode random --probability 0.3333333333)',
    );
    expect(s.explain(0, 0, 2)).toBe('KUBE-SVC rule 3 of 3 (the last rule always matches)');
  });
});

describe('LinearTable', () => {
  it('scans KUBE-SERVICES rule by rule and counts what it examined', () => {
    const t = new LinearTable();
    const fs = [...kubeDns(), ...web(), ...empty()];
    t.rebuild(fs);
    expect(t.ruleCount).toBe(4);
    expect(t.lookup(parseIpv4('10.96.0.10'), 53, PROTO_UDP)).toBe(fs[0]);
    expect(t.lastRulesExamined).toBe(1);
    expect(t.lookup(parseIpv4('10.96.0.30'), 80, PROTO_TCP)?.service).toBe('default/empty');
    expect(t.lastRulesExamined).toBe(3);
    expect(t.lookup(parseIpv4('10.96.0.10'), 53, PROTO_TCP)).toBeUndefined(); // TCP 53 is not a rule
    expect(t.lastRulesExamined).toBe(3);
    expect(t.lookupNodePort(30080, PROTO_TCP)?.type).toBe('NodePort');
    expect(t.lastRulesExamined).toBe(1);
    expect([t.rulesExamined, t.lookups]).toEqual([8, 4]);
  });
});

describe('iptablesSave', () => {
  it('prints the nat table as iptables-save -t nat shows kube-proxy’s', () => {
    expect(iptablesSave([...kubeDns(), ...web(), ...empty()])).toBe(`*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-EXT-CDGGSHYLG3RE2FKL - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-6E7XQMQ4RAYOWTTM - [0:0]
:KUBE-SEP-AFGSLHOD2HFNCBX4 - [0:0]
:KUBE-SEP-DY76ZDMWORDP4GAT - [0:0]
:KUBE-SEP-VQGOCFX4X6FWJPNR - [0:0]
:KUBE-SEP-YIL6JZP7A3QYXJU2 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]
:KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-EXT-CDGGSHYLG3RE2FKL -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-CDGGSHYLG3RE2FKL -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-EXT-CDGGSHYLG3RE2FKL
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-6E7XQMQ4RAYOWTTM -s 10.244.0.3/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A KUBE-SEP-6E7XQMQ4RAYOWTTM -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.3:53
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -s 10.244.1.5/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-DY76ZDMWORDP4GAT -s 10.244.3.7/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-DY76ZDMWORDP4GAT -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.3.7:8080
-A KUBE-SEP-VQGOCFX4X6FWJPNR -s 10.244.2.3/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-VQGOCFX4X6FWJPNR -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.3:8080
-A KUBE-SEP-YIL6JZP7A3QYXJU2 -s 10.244.0.2/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A KUBE-SEP-YIL6JZP7A3QYXJU2 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.2:53
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-AFGSLHOD2HFNCBX4
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.3:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-VQGOCFX4X6FWJPNR
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.3.7:8080" -j KUBE-SEP-DY76ZDMWORDP4GAT
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.244.0.2:53" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-YIL6JZP7A3QYXJU2
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.244.0.3:53" -j KUBE-SEP-6E7XQMQ4RAYOWTTM
COMMIT
`);
  });

  it('externalTrafficPolicy Local, an unnamed port and ClientIP affinity: KUBE-SVL, recent matches', () => {
    expect(iptablesSave(shop())).toBe(`*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-EXT-PFINMTQ5Y2TT4XZK - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-DZGAPYFXE2EPLKJB - [0:0]
:KUBE-SEP-PB5NRAIPSGI67OY7 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-PFINMTQ5Y2TT4XZK - [0:0]
:KUBE-SVL-PFINMTQ5Y2TT4XZK - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-EXT-PFINMTQ5Y2TT4XZK -m comment --comment "masquerade LOCAL traffic for default/shop external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-PFINMTQ5Y2TT4XZK -m comment --comment "route LOCAL traffic for default/shop external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-PFINMTQ5Y2TT4XZK
-A KUBE-EXT-PFINMTQ5Y2TT4XZK -j KUBE-SVL-PFINMTQ5Y2TT4XZK
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/shop" -m tcp --dport 31443 -j KUBE-EXT-PFINMTQ5Y2TT4XZK
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-DZGAPYFXE2EPLKJB -s 10.244.1.5/32 -m comment --comment "default/shop" -j KUBE-MARK-MASQ
-A KUBE-SEP-DZGAPYFXE2EPLKJB -p tcp -m comment --comment "default/shop" -m recent --set --name KUBE-SEP-DZGAPYFXE2EPLKJB --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.5:8443
-A KUBE-SEP-PB5NRAIPSGI67OY7 -s 10.244.2.9/32 -m comment --comment "default/shop" -j KUBE-MARK-MASQ
-A KUBE-SEP-PB5NRAIPSGI67OY7 -p tcp -m comment --comment "default/shop" -m recent --set --name KUBE-SEP-PB5NRAIPSGI67OY7 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.2.9:8443
-A KUBE-SERVICES -d 10.96.0.40/32 -p tcp -m comment --comment "default/shop cluster IP" -m tcp --dport 443 -j KUBE-SVC-PFINMTQ5Y2TT4XZK
-A KUBE-SERVICES -d 203.0.113.7/32 -p tcp -m comment --comment "default/shop loadbalancer IP" -m tcp --dport 443 -j KUBE-EXT-PFINMTQ5Y2TT4XZK
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-PFINMTQ5Y2TT4XZK -m comment --comment "default/shop -> 10.244.1.5:8443" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-DZGAPYFXE2EPLKJB --mask 255.255.255.255 --rsource -j KUBE-SEP-DZGAPYFXE2EPLKJB
-A KUBE-SVC-PFINMTQ5Y2TT4XZK -m comment --comment "default/shop -> 10.244.2.9:8443" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-PB5NRAIPSGI67OY7 --mask 255.255.255.255 --rsource -j KUBE-SEP-PB5NRAIPSGI67OY7
-A KUBE-SVC-PFINMTQ5Y2TT4XZK -m comment --comment "default/shop -> 10.244.1.5:8443" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-DZGAPYFXE2EPLKJB
-A KUBE-SVC-PFINMTQ5Y2TT4XZK -m comment --comment "default/shop -> 10.244.2.9:8443" -j KUBE-SEP-PB5NRAIPSGI67OY7
-A KUBE-SVL-PFINMTQ5Y2TT4XZK -m comment --comment "default/shop -> 10.244.1.5:8443" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-DZGAPYFXE2EPLKJB --mask 255.255.255.255 --rsource -j KUBE-SEP-DZGAPYFXE2EPLKJB
-A KUBE-SVL-PFINMTQ5Y2TT4XZK -m comment --comment "default/shop -> 10.244.1.5:8443" -j KUBE-SEP-DZGAPYFXE2EPLKJB
COMMIT
`);
  });

  it('a Service with no endpoints has nothing in nat (kube-proxy REJECTs it in filter)', () => {
    expect(iptablesSave(empty())).not.toContain('default/empty');
    expect(iptablesSave([])).toContain(
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\nCOMMIT\n',
    );
  });
});
