import { describe, it, expect } from 'vitest';
import {
  formatLbStatus,
  backendState,
  frontendPolicy,
  type LbBackendStatus,
  type LbFrontendStatus,
  type LbStatus,
} from '../../../src/cli/lb.js';

const backend = (
  name: string,
  address: string,
  node: string | null,
  over: Partial<LbBackendStatus> = {},
): LbBackendStatus => ({
  name,
  address,
  node,
  ready: true,
  serving: true,
  terminating: false,
  usable: true,
  weight: 1,
  connections: 0,
  active: 0,
  packets: 0,
  bytes: 0,
  ...over,
});
const frontend = (
  frontend: string,
  type: string,
  backends: LbBackendStatus[],
  over: Partial<LbFrontendStatus> = {},
): LbFrontendStatus => ({
  frontend,
  type,
  portName: '',
  scheduler: 'random',
  affinityTimeoutSeconds: 0,
  localOnly: false,
  snat: false,
  backends,
  ...over,
});
const status = (services: LbStatus['services'], over: Partial<LbStatus> = {}): LbStatus => ({
  node: 'node1',
  mode: 'hash',
  defaultScheduler: 'random',
  services,
  conntrack: { entries: 3, max: 131072, created: 5, expired: 2, insertFailed: 0 },
  stats: { newServiceFlows: 4, newMasqueradeFlows: 1, rejected: 1, affinityHits: 0 },
  ...over,
});

describe('podwire lb show', () => {
  it('prints each frontend with its backends numbered below it, as cilium service list does', () => {
    const web = [
      backend('web-a', '10.244.1.5:8080', 'node1', { connections: 3, active: 1, packets: 30, bytes: 2808 }),
      backend('web-b', '10.244.2.4:8080', 'node2', { ready: false, serving: true, terminating: true, usable: false }),
    ];
    const text = formatLbStatus(
      status([
        {
          service: 'default/web',
          frontends: [
            frontend('10.96.1.2:80/TCP', 'ClusterIP', web),
            frontend('172.28.0.11:30080/TCP', 'NodePort', web.slice(0, 1), {
              localOnly: true,
              affinityTimeoutSeconds: 10800,
            }),
          ],
        },
        { service: 'default/empty', frontends: [frontend('10.96.1.3:80/TCP', 'ClusterIP', [])] },
        {
          service: 'default/kubernetes',
          frontends: [
            frontend('10.96.0.1:443/TCP', 'ClusterIP', [backend('172.28.0.2:6443', '172.28.0.2:6443', null)], {
              snat: true,
            }),
          ],
        },
      ]),
    );
    expect(text).toBe(FIXED_TABLE);
  });

  it('maglev frontends show each backend’s share of the lookup table; linear mode adds the iptables-save text', () => {
    const text = formatLbStatus(
      status(
        [
          {
            service: 'default/db',
            frontends: [
              frontend(
                '10.96.1.9:5432/TCP',
                'ClusterIP',
                [
                  backend('db-0', '10.244.1.7:5432', 'node1'),
                  backend('db-1', '10.244.2.7:5432', 'node2', { weight: 3 }),
                ],
                { scheduler: 'maglev', maglevShares: { tableSize: 251, slots: { 'db-0': 126, 'db-1': 125 } } },
              ),
            ],
          },
        ],
        {
          mode: 'linear',
          rulesExamined: { last: 4, total: 40, lookups: 10 },
          iptablesSave: '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n',
        },
      ),
    );
    expect(text).toBe(MAGLEV_TABLE);
  });

  it('names backend states and frontend policies in words', () => {
    expect([
      backendState({ ready: true, serving: true, terminating: false }),
      backendState({ ready: false, serving: true, terminating: true }),
      backendState({ ready: false, serving: false, terminating: true }),
      backendState({ ready: false, serving: false, terminating: false }),
    ]).toEqual(['ready', 'terminating,serving', 'terminating', 'not-ready']);
    expect(frontendPolicy(frontend('10.96.1.2:80/TCP', 'ClusterIP', [], { localOnly: true }))).toBe('ITP=Local');
    expect(
      frontendPolicy(
        frontend('172.28.0.240:80/TCP', 'LoadBalancer', [], {
          localOnly: true,
          snat: false,
          affinityTimeoutSeconds: 60,
        }),
      ),
    ).toBe('affinity=ClientIP/60s,ETP=Local');
    expect(frontendPolicy(frontend('10.96.1.2:80/TCP', 'ClusterIP', []))).toBe('-');
  });
});

const FIXED_TABLE = [
  'node1: 3 Service(s), hash mode, default scheduler random',
  'SERVICE              FRONTEND                TYPE        SCHEDULER   POLICY                               BACKEND                        STATE                          NODE    CONNS   ACTIVE   PACKETS   BYTES',
  'default/web          10.96.1.2:80/TCP        ClusterIP   random      -                                    1 => 10.244.1.5:8080 (web-a)   ready                          node1   3       1        30        2808',
  '                                                                                                          2 => 10.244.2.4:8080 (web-b)   terminating,serving (unused)   node2   0       0        0         0',
  '                     172.28.0.11:30080/TCP   NodePort    random      affinity=ClientIP/10800s,ETP=Local   1 => 10.244.1.5:8080 (web-a)   ready                          node1   3       1        30        2808',
  'default/empty        10.96.1.3:80/TCP        ClusterIP   random      -                                    (no endpoints)',
  'default/kubernetes   10.96.0.1:443/TCP       ClusterIP   random      SNAT                                 1 => 172.28.0.2:6443           ready                          -       0       0        0         0',
  'conntrack: 3 of 131072 entries (created 5, expired 2, insert failed 0); new Service flows 4, masqueraded 1, rejected 1, affinity hits 0',
].join('\n');
const MAGLEV_TABLE = [
  'node1: 1 Service(s), linear mode, default scheduler random',
  'SERVICE      FRONTEND             TYPE        SCHEDULER   POLICY   BACKEND                           STATE   NODE    CONNS   ACTIVE   PACKETS   BYTES   MAGLEV-SLOTS',
  'default/db   10.96.1.9:5432/TCP   ClusterIP   maglev      -        1 => 10.244.1.7:5432 (db-0)       ready   node1   0       0        0         0       126 (50.2%)',
  '                                                                   2 => 10.244.2.7:5432 (db-1) w=3   ready   node2   0       0        0         0       125 (49.8%)',
  'conntrack: 3 of 131072 entries (created 5, expired 2, insert failed 0); new Service flows 4, masqueraded 1, rejected 1, affinity hits 0',
  'linear mode: the last lookup examined 4 rules; 40 over 10 lookups',
  '',
  "# the rules this agent walks (linear mode), as kube-proxy's iptables mode would write:",
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  'COMMIT',
].join('\n');
