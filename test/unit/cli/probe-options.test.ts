import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeOptionsOf, type ProbeFlags } from '../../../src/cli/probe.js';
import { launchFor } from '../../../src/kubelet/index.js';
import { parseTopologySpec, probeTopology, probeTopologyYaml } from '../../../src/probe/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, '../../integration/fixtures/policy/xyz-abc.yaml');
const DEFAULTS: ProbeFlags = {
  ports: '80,81',
  protocols: 'tcp,udp',
  to: 'pods',
  timeout: '1s',
  output: 'table',
  parallel: '3',
};

describe('podwire probe flags', () => {
  it('defaults: every namespace but kube-system, TCP and UDP on 80 and 81, by pod IP, 1 s', () => {
    expect(probeOptionsOf(DEFAULTS)).toEqual({
      ports: [80, 81],
      protocols: ['tcp', 'udp'],
      to: 'pods',
      timeoutMs: 1000,
      parallel: 3,
    });
    expect(
      probeOptionsOf({
        ...DEFAULTS,
        namespace: 'x',
        selector: 'pod=a',
        ports: '81,80,81',
        protocols: 'UDP,sctp',
        to: 'service-name',
        timeout: '500ms',
      }),
    ).toEqual({
      namespace: 'x',
      selector: 'pod=a',
      ports: [81, 80],
      protocols: ['udp', 'sctp'],
      to: 'service-name',
      timeoutMs: 500,
      parallel: 3,
    });
  });

  it('says which flag is wrong', () => {
    const bad = (f: Partial<ProbeFlags>) => () => probeOptionsOf({ ...DEFAULTS, ...f });
    expect(bad({ namespace: 'x', allNamespaces: true })).toThrow('-n and -A: choose one');
    expect(bad({ ports: '80,http' })).toThrow('--ports: "http" is not a port (1-65535)');
    expect(bad({ ports: '70000' })).toThrow('--ports: "70000" is not a port (1-65535)');
    expect(bad({ protocols: 'tcp,icmp' })).toThrow('--protocols: "icmp" is not one of tcp, udp, sctp');
    expect(bad({ to: 'service' })).toThrow('--to must be pods, service-ip, service-name');
    expect(bad({ timeout: '1' })).toThrow('--timeout: "1" is not a duration (e.g. 1s, 500ms)');
    expect(bad({ output: 'yaml' })).toThrow('-o must be table or json');
    expect(bad({ parallel: '0' })).toThrow('--parallel: "0" is not a positive whole number');
  });
});

describe('the probe topology (cyclonus’s x,y,z × a,b,c)', () => {
  it('the fixture the conformance suite reads is the generator’s output', () => {
    expect(fs.readFileSync(FIXTURE, 'utf8')).toBe(probeTopologyYaml());
  });

  it('namespaces and pods labelled as cyclonus labels them, one Service per pod with it as the only backend', () => {
    const objs = probeTopology({ namespaces: ['x', 'y'], pods: ['a', 'b'], ports: [80], protocols: ['tcp'] }) as any[];
    expect(objs.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'Namespace /x',
      'Namespace /y',
      'Pod x/a',
      'Service x/s-x-a',
      'Pod x/b',
      'Service x/s-x-b',
      'Pod y/a',
      'Service y/s-y-a',
      'Pod y/b',
      'Service y/s-y-b',
    ]);
    expect(objs[1].metadata.labels).toEqual({ ns: 'y' });
    expect(objs[4].metadata.labels).toEqual({ pod: 'b' });
    expect(objs[5].spec).toEqual({
      selector: { pod: 'b' },
      ports: [{ name: 'service-port-tcp-80', protocol: 'TCP', port: 80, targetPort: 80 }],
    });
    expect(parseTopologySpec('x,y:a,b')).toEqual({ namespaces: ['x', 'y'], pods: ['a', 'b'] });
    expect(() => parseTopologySpec('x,y')).toThrow('--print-topology wants namespaces:pods');
  });

  it('each container runs podwire’s agnhost serve-hostname on its port, TCP and UDP', () => {
    const pod = (probeTopology() as any[]).find((o) => o.kind === 'Pod');
    const tools = { workloadBin: '/w', busyboxDir: '/bb' };
    expect(pod.spec.containers.map((c: any) => launchFor(c, tools))).toEqual(
      [80, 81].map((p) => ({
        argv: ['/w', 'serve-hostname', '--tcp', '--udp', '--http=false', '--port', String(p)],
        builtin: 'agnhost serve-hostname',
        pathPrepend: [],
      })),
    );
    expect(pod.spec.containers[1].ports.map((p: any) => p.name)).toEqual(['serve-81-tcp', 'serve-81-udp']);
  });
});
