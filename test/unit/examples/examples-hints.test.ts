import { describe, it, expect } from 'vitest';
import {
  findExample,
  hintsFor,
  formatHints,
  podwireCommand,
  EXAMPLES,
  type HintFacts,
} from '../../../src/examples/index.js';

// What `podwire example run` prints to try, with the lab's addresses: exact text.

const facts = (over: Partial<HintFacts> = {}): HintFacts => ({
  lab: 'pwlab',
  defaultLab: 'pwlab',
  kubectl: 'ip netns exec pwlab-cp kubectl -s http://172.28.0.2:6443',
  services: {},
  nodeIPs: ['172.28.0.11', '172.28.0.12'],
  wwwIP: '172.28.0.200',
  ...over,
});

describe('example hints', () => {
  it('name the lab only when it is not the default one', () => {
    expect(podwireCommand('pwlab', 'pwlab')).toBe('podwire');
    expect(podwireCommand('pwh8', 'pwlab')).toBe('podwire --lab pwh8');
  });

  it('000-service-clusterip: the ClusterIP and the name from the example’s client, in its namespace', () => {
    const e = findExample('000-service-clusterip');
    const lines = formatHints(
      hintsFor(e, facts({ services: { 'ex-000-clusterip/backend': { clusterIP: '10.96.1.4', nodePorts: [] } } })),
    );
    expect(lines).toEqual([
      "  podwire exec -n ex-000-clusterip client -- curl -s 10.96.1.4/   # the ClusterIP, port 80 → a backend pod's 8080 (the page names the pod)",
      '  podwire exec -n ex-000-clusterip client -- curl -s backend/     # by name: backend.ex-000-clusterip.svc.cluster.local',
      '  podwire get endpoints -n ex-000-clusterip backend               # the app: backend pods behind it',
      '  podwire get all -n ex-000-clusterip -l podwire.dev/example      # what example runs made there',
      '  podwire example delete 000-service-clusterip                    # remove it again',
    ]);
  });

  it('000-service-nodeport: every node’s address from the outside client, with --lab', () => {
    const e = findExample('000-service-nodeport');
    const hs = hintsFor(
      e,
      facts({ lab: 'pwh8', services: { 'ex-000-nodeport/web': { clusterIP: '10.96.1.9', nodePorts: [30080] } } }),
    );
    expect(hs.slice(0, 3).map((h) => `${h.command} # ${h.comment}`)).toEqual([
      'podwire --lab pwh8 lab exec client -- curl -s 172.28.0.11:30080/ # from outside the cluster: the NodePort on node1',
      'podwire --lab pwh8 lab exec client -- curl -s 172.28.0.12:30080/ # the same port on node2',
      'podwire --lab pwh8 get svc -n ex-000-nodeport web # TYPE NodePort, PORT(S) 80:30080/TCP',
    ]);
  });

  it('the Ingress examples: https through the controller’s EXTERNAL-IP, quoted where the shell would glob', () => {
    const h000 = hintsFor(findExample('000-ingress'), facts({ ingressIP: '172.28.0.240' })).map((h) => h.command);
    expect(h000.slice(0, 3)).toEqual([
      'podwire lab exec client -- curl -sk --resolve app.example.com:443:172.28.0.240 https://app.example.com/api',
      'podwire lab exec client -- curl -sk --resolve app.example.com:443:172.28.0.240 https://app.example.com/',
      'podwire lab exec client -- curl -si --resolve app.example.com:80:172.28.0.240 http://app.example.com/',
    ]);
    expect(h000).toContain(
      'ip netns exec pwlab-cp kubectl -s http://172.28.0.2:6443 logs -n ingress-nginx -l app.kubernetes.io/name=ingress-nginx --tail 5',
    );
    const h003 = hintsFor(findExample('003-ingress'), facts({ kubectl: null })).map((h) => h.command);
    expect(h003[0]).toBe(
      "podwire lab exec client -- curl -sk --resolve app.example.com:443:<INGRESS-IP> 'https://app.example.com/api/users?id=7'",
    );
    expect(h003.some((c) => c.includes('kubectl'))).toBe(false);
  });

  it('the production policies: probe, exec and explain in production', () => {
    const hs = hintsFor(findExample('000-networkpolicy-default-deny-all'), facts()).map((h) => h.command);
    expect(hs).toEqual([
      'podwire probe -n production --ports 80,8080 --protocols tcp',
      'podwire exec -n production web -- nslookup -timeout=2 api',
      'podwire observe --verdict DROPPED',
      'podwire get all -n production -l podwire.dev/example',
      'podwire example delete 000-networkpolicy-default-deny-all',
    ]);
  });

  it('the Gateway: its own address, in infra and app-team', () => {
    const hs = hintsFor(findExample('000-gateway'), facts({ gatewayIP: '172.28.0.242' })).map((h) => h.command);
    expect(hs).toContain(
      'podwire lab exec client -- curl -sk --resolve api.example.com:443:172.28.0.242 https://api.example.com/v2',
    );
    expect(hs.at(-2)).toBe('podwire get all -n app-team -l podwire.dev/example');
  });

  it('every example has something to try beyond list and delete, and placeholders only where an address is missing', () => {
    for (const e of EXAMPLES) {
      const hs = hintsFor(e, facts({ ingressIP: '172.28.0.240', gatewayIP: '172.28.0.241' }));
      expect(hs.length, e.name).toBeGreaterThan(2);
      for (const h of hs.filter((x) => !/EXTERNAL-IP|CLUSTER-IP/.test(x.command)))
        expect(h.command, e.name).not.toMatch(/<[A-Z-]+>/);
    }
  });

  it('pads commands to one column, up to 72 characters', () => {
    expect(
      formatHints([
        { command: 'a', comment: 'one' },
        { command: 'abc', comment: 'two' },
      ]),
    ).toEqual(['  a     # one', '  abc   # two']);
  });
});
