/**
 * Pure argv builders for iproute2 (`ip`, `bridge`, `tc`) and friends.
 * Nothing here runs anything: plans are data that tests can read.
 * `ns` (when given) makes the command act inside that named network namespace.
 */
type Argv = string[];

const ipArgs = (ns: string | undefined): Argv => (ns ? ['ip', '-n', ns] : ['ip']);
const inNs = (ns: string | undefined, argv: Argv): Argv => (ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv);

export const cmd = {
  netnsAdd: (name: string): Argv => ['ip', 'netns', 'add', name],
  netnsDelete: (name: string): Argv => ['ip', 'netns', 'delete', name],
  netnsList: (): Argv => ['ip', '-j', 'netns', 'list'],
  exec: (ns: string, argv: readonly string[]): Argv => ['ip', 'netns', 'exec', ns, ...argv],

  bridgeAdd: (ns: string | undefined, name: string, mac?: string): Argv => [
    ...ipArgs(ns),
    'link',
    'add',
    name,
    ...(mac ? ['address', mac] : []),
    'type',
    'bridge',
    'stp_state',
    '0',
    'mcast_snooping',
    '0',
    'forward_delay',
    '0',
  ],
  /** A veth pair whose peer is created directly in `peerNs` (or beside it). */
  vethAdd: (ns: string | undefined, name: string, peer: string, peerNs?: string, mtu?: number): Argv => [
    ...ipArgs(ns),
    'link',
    'add',
    name,
    ...(mtu ? ['mtu', String(mtu)] : []),
    'type',
    'veth',
    'peer',
    'name',
    peer,
    ...(peerNs ? ['netns', peerNs] : []),
  ],
  linkSet: (ns: string | undefined, name: string, ...settings: string[]): Argv => [
    ...ipArgs(ns),
    'link',
    'set',
    'dev',
    name,
    ...settings,
  ],
  linkUp: (ns: string | undefined, name: string): Argv => [...ipArgs(ns), 'link', 'set', 'dev', name, 'up'],
  linkDelete: (ns: string | undefined, name: string): Argv => [...ipArgs(ns), 'link', 'delete', 'dev', name],
  linkShowJson: (ns: string | undefined, name?: string): Argv => [
    ...ipArgs(ns),
    '-j',
    'link',
    'show',
    ...(name ? ['dev', name] : []),
  ],
  addrAdd: (ns: string | undefined, cidr: string, dev: string): Argv => [
    ...ipArgs(ns),
    'addr',
    'replace',
    cidr,
    'dev',
    dev,
  ],
  addrShowJson: (ns: string | undefined): Argv => [...ipArgs(ns), '-j', 'addr', 'show'],
  routeReplace: (ns: string | undefined, dst: string, ...rest: string[]): Argv => [
    ...ipArgs(ns),
    'route',
    'replace',
    dst,
    ...rest,
  ],
  routeDelete: (ns: string | undefined, dst: string): Argv => [...ipArgs(ns), 'route', 'delete', dst],

  /** Isolated bridge ports cannot talk to each other, only to non-isolated ones (the agent). */
  bridgePortIsolate: (ns: string | undefined, dev: string): Argv => [
    ...inNs(ns, ['bridge', 'link', 'set', 'dev', dev, 'isolated', 'on', 'learning', 'off']),
  ],
  bridgeFdbStatic: (ns: string | undefined, mac: string, dev: string): Argv => [
    ...inNs(ns, ['bridge', 'fdb', 'replace', mac, 'dev', dev, 'master', 'static']),
  ],

  tcClsact: (ns: string | undefined, dev: string): Argv => [
    ...inNs(ns, ['tc', 'qdisc', 'replace', 'dev', dev, 'clsact']),
  ],
  /** A classic-BPF classifier in direct-action mode: the program's return value is the verdict. */
  tcIngressBpf: (ns: string | undefined, dev: string, bytecode: string): Argv => [
    ...inNs(ns, [
      'tc',
      'filter',
      'replace',
      'dev',
      dev,
      'ingress',
      'pref',
      '100',
      'handle',
      '1',
      'bpf',
      'da',
      'bytecode',
      bytecode,
    ]),
  ],
  ethtoolOffload: (ns: string | undefined, dev: string, settings: Record<string, 'on' | 'off'>): Argv => [
    ...inNs(ns, ['ethtool', '-K', dev, ...Object.entries(settings).flat()]),
  ],
};
