import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cmd, type CommandRunner } from '../host/index.js';
import { ipv4ToString } from '../packet/index.js';
import {
  CT_DNAT,
  CT_FROM_UNDERLAY,
  CT_MASQ,
  CT_SNAT,
  LbState,
  serviceSnatIp,
  type Pipeline,
} from '../dataplane/index.js';
import {
  Conntrack,
  ServiceTable,
  iptablesSave,
  maglevTableSize,
  protoName,
  type ConntrackSnapshot,
  type Frontend,
} from '../lb/index.js';
import type { ApiClient } from '../control/client/index.js';
import type { UnderlayPorts } from '../native/index.js';
import { bridgeNodePortDropFilter, compileTcBytecode, underlayServicesDropFilter } from './tc-filter.js';
import { ServiceWatch } from './service-watch.js';
import type { NodeConfig } from './config.js';

/**
 * The agent's kube-proxy: the Service stage's tables (LbState), the watch
 * that fills them, eth0's tc program (NodePort and NAT ranges are the
 * agent's, health-check ports the kernel's), kube-proxy's health servers
 * (:10256/healthz, and each healthCheckNodePort), conntrack housekeeping
 * and its snapshot across restarts.
 */

/** kube-proxy's healthz port (--healthz-bind-address default). */
export const HEALTHZ_PORT = 10256;
const SNAPSHOT_EVERY_MS = 5000;
/** a snapshot older than this is not restored (its flows have moved on or timed out) */
const SNAPSHOT_MAX_AGE_MS = 120_000;

export interface ServicesOptions {
  cfg: NodeConfig;
  client: ApiClient;
  nodeIp: number;
  pipeline: Pipeline;
  runner: CommandRunner;
  log: (msg: string) => void;
  /**
   * Taking over from a running agent (handover.ts): the health servers' ports
   * are still its predecessor's, so they are bound by serve(), after it has left.
   */
  deferServing?: boolean;
}

export class AgentServices {
  readonly lb: LbState;
  readonly watch: ServiceWatch;
  readonly ports: UnderlayPorts;
  private timers: NodeJS.Timeout[] = [];
  private healthz: http.Server | null = null;
  private readonly hcServers = new Map<number, http.Server>();
  private readonly snapshotFile: string;
  /** ms each applied Service change took (last 256), for /lb and the bench */
  readonly applyMs: number[] = [];
  restoredEntries = 0;
  private serving: boolean;
  private healthPorts: Map<number, string> | null = null;

  constructor(private readonly o: ServicesOptions) {
    this.serving = !o.deferServing;
    const s = o.cfg.services;
    const clock = () => performance.now();
    this.lb = new LbState({
      snatIp: serviceSnatIp(o.cfg.podCidr),
      serviceCidr: s.serviceCidr,
      clusterCidr: s.clusterCidr,
      clock,
      table: new ServiceTable({ mode: s.proxyMode }),
      conntrack: new Conntrack({
        maxEntries: s.conntrackMax,
        clock,
        onRemoved: (owner) => {
          const b = this.lb.backendOf(owner);
          if (b !== undefined && b.active > 0) b.active--;
        },
      }),
    });
    this.ports = {
      nodeIp: o.nodeIp,
      nodePorts: [this.lb.nodePortMin, this.lb.nodePortMax],
      natPorts: [this.lb.natPortMin, this.lb.natPortMax],
    };
    this.snapshotFile = path.join(o.cfg.stateDir, 'conntrack.json');
    this.watch = new ServiceWatch({
      client: o.client,
      node: o.cfg.node,
      lb: this.lb,
      compile: { defaultScheduler: s.scheduler, maglevTableSize: s.maglevTableSize, proxyMode: s.proxyMode },
      log: o.log,
      onHealthPorts: (ports) => void this.healthPortsChanged(ports),
      onApplied: (_svc, ms) => {
        this.applyMs.push(ms);
        if (this.applyMs.length > 256) this.applyMs.shift();
      },
    });
  }

  /** Before the datapath starts: restore conntrack, program eth0. After: the watch and the health servers. */
  async prepare(): Promise<void> {
    this.restore();
    await this.installTcFilter([]);
    this.o.pipeline.setLoadBalancer(this.lb);
  }

  async start(): Promise<void> {
    if (this.serving) await this.listenHealthz();
    await this.watch.start();
    const housekeeping = setInterval(() => {
      this.lb.conntrack.sweep();
      this.lb.sweepAffinity(this.lb.clock());
    }, 1000);
    const snapshots = setInterval(() => this.saveSnapshot(), SNAPSHOT_EVERY_MS);
    housekeeping.unref();
    snapshots.unref();
    this.timers.push(housekeeping, snapshots);
    this.o.log(
      `services: ${this.lb.table.serviceCount} Services, ${this.lb.table.frontendCount} frontends (${this.o.cfg.services.proxyMode} mode, default scheduler ${this.o.cfg.services.scheduler}); conntrack max ${this.lb.conntrack.maxEntries}${this.restoredEntries ? `, ${this.restoredEntries} entries restored` : ''}`,
    );
  }

  /** After a handover: bind kube-proxy's health servers, now that the predecessor has let go of them. */
  async serve(): Promise<void> {
    if (this.serving) return;
    this.serving = true;
    await this.listenHealthz();
    if (this.healthPorts) await this.healthPortsChanged(this.healthPorts);
  }

  /** Every live connection, for a successor taking over (handover.ts). */
  conntrackSnapshot(): ConntrackSnapshot {
    return this.lb.conntrack.snapshot();
  }

  /**
   * The predecessor's last word on its connections: new ones added, those
   * restored from its file updated. Backends are matched by address later, as
   * after restore() (owner -1).
   */
  takeOverConntrack(snap: ConntrackSnapshot): number {
    return this.lb.conntrack.restore(
      { ...snap, entries: snap.entries.map((e) => ({ ...e, owner: -1 })) },
      { update: true },
    );
  }

  private async listenHealthz(): Promise<void> {
    this.healthz = await listen(this.o.nodeIp, HEALTHZ_PORT, (_req, res) => {
      // kube-proxy's /healthz: 200 while its rules are in sync with the API server
      const ok = this.watch.synced;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          lastUpdated: new Date(this.watch.lastAppliedMs || Date.now()).toISOString(),
          currentTime: new Date().toISOString(),
          nodeEligible: true,
        }),
      );
    }).catch((err) => {
      this.o.log(`kube-proxy healthz on :${HEALTHZ_PORT} not served: ${(err as Error).message}`);
      return null;
    });
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.watch.stop();
    this.healthz?.close();
    for (const s of this.hcServers.values()) s.close();
    this.saveSnapshot();
  }

  // ------------------------------------------------------- health-check ports

  private async healthPortsChanged(ports: Map<number, string>): Promise<void> {
    this.healthPorts = ports;
    if (!this.serving) {
      // the kernel's ports (passed by the tc filters) are known now; the servers come with serve()
      this.lb.kernelPorts.clear();
      for (const p of ports.keys()) this.lb.kernelPorts.add(p);
      return;
    }
    for (const [port, server] of this.hcServers) {
      if (!ports.has(port)) {
        server.close();
        this.hcServers.delete(port);
      }
    }
    this.lb.kernelPorts.clear();
    for (const p of ports.keys()) this.lb.kernelPorts.add(p);
    for (const [port, service] of ports) {
      if (this.hcServers.has(port)) continue;
      const server = await listen(this.o.nodeIp, port, (_req, res) => {
        // kube-proxy's service health server: 200 with local endpoints, else 503
        const svc = ports.get(port) ?? service;
        const n = this.watch.localEndpoints(svc);
        const [namespace, name] = svc.split('/');
        res.writeHead(n > 0 ? 200 : 503, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' });
        res.end(JSON.stringify({ service: { namespace, name }, localEndpoints: n, serviceProxyHealthy: true }));
      }).catch((err) => {
        this.o.log(`healthCheckNodePort ${port} (${service}) not served: ${(err as Error).message}`);
        return null;
      });
      if (server) this.hcServers.set(port, server);
    }
    await this.installTcFilter([...ports.keys()]).catch((err) =>
      this.o.log(`tc filter not updated: ${(err as Error).message}`),
    );
  }

  private async installTcFilter(kernelPorts: number[]): Promise<void> {
    const { cfg, runner } = this.o;
    const sorted = kernelPorts.sort((a, b) => a - b);
    const program = underlayServicesDropFilter(cfg.vxlanPort, this.ports, sorted);
    await runner.run(cmd.tcIngressBpf(undefined, cfg.underlayIf, compileTcBytecode(program)));
    await runner.run(cmd.tcClsact(undefined, cfg.bridge));
    await runner.run(
      cmd.tcIngressBpf(
        undefined,
        cfg.bridge,
        compileTcBytecode(bridgeNodePortDropFilter(this.ports.nodePorts, sorted)),
      ),
    );
  }

  // ------------------------------------------------------------- snapshots

  private saveSnapshot(): void {
    try {
      const snap = this.lb.conntrack.snapshot();
      const tmp = `${this.snapshotFile}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ savedAt: Date.now(), snap }));
      fs.renameSync(tmp, this.snapshotFile);
    } catch (err) {
      this.o.log(`conntrack snapshot not saved: ${(err as Error).message}`);
    }
  }

  /**
   * Restore the last run's connections: established flows through a
   * Service keep their backend (and masqueraded flows their port) across an
   * agent restart. Backends are not known yet, so restored entries name no
   * backend (their counters start over).
   */
  private restore(): void {
    try {
      if (!fs.existsSync(this.snapshotFile)) return;
      const { savedAt, snap } = JSON.parse(fs.readFileSync(this.snapshotFile, 'utf8')) as {
        savedAt: number;
        snap: ConntrackSnapshot;
      };
      if (Date.now() - savedAt > SNAPSHOT_MAX_AGE_MS) return;
      this.restoredEntries = this.lb.conntrack.restore({
        ...snap,
        entries: snap.entries.map((e) => ({ ...e, owner: -1 })),
      });
    } catch (err) {
      this.o.log(`conntrack snapshot not restored: ${(err as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- display

  /** What `podwire lb show` prints. */
  status(service?: string, iptables = false): unknown {
    const lb = this.lb;
    // one Service (`lb show <name>`, and the bench polling one at 10,000): pick it before sorting anything
    let services: { service: string; frontends: readonly Frontend[] }[];
    if (!service) services = lb.table.services();
    else if (service.includes('/'))
      services = this.watch.frontendsOf(service).length
        ? [{ service, frontends: this.watch.frontendsOf(service) }]
        : [];
    else {
      services = [...this.watch.programmedServices()]
        .filter(([s]) => s.endsWith(`/${service}`))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([s, frontends]) => ({ service: s, frontends }));
    }
    return {
      node: this.o.cfg.node,
      mode: lb.table.mode,
      defaultScheduler: this.o.cfg.services.scheduler,
      table: {
        services: lb.table.serviceCount,
        frontends: lb.table.frontendCount,
        usableBackends: this.watch.usableBackends,
        changesApplied: this.watch.applied,
      },
      services: services.map((s) => ({
        service: s.service,
        frontends: s.frontends.map((f) => frontendStatus(f, this.o.nodeIp, this.o.cfg.services.maglevTableSize)),
      })),
      conntrack: {
        entries: lb.conntrack.size,
        max: lb.conntrack.maxEntries,
        bytesPerEntry: lb.conntrack.bytesPerEntry(),
        ...lb.conntrack.stats,
      },
      stats: lb.stats,
      applyMs: this.applyMs.slice(-16),
      rulesExamined: lb.table.mode === 'linear' ? lb.table.rulesExamined : undefined,
      // in linear mode the rules are what the agent runs; asked for, what kube-proxy would write for them
      iptablesSave:
        lb.table.mode === 'linear' || iptables
          ? iptablesSave(service ? services.flatMap((s) => s.frontends) : [...lb.table.frontends()])
          : undefined,
      restoredEntries: this.restoredEntries,
    };
  }

  /** What `podwire conntrack list` prints. */
  conntrackRows(): unknown[] {
    const ct = this.lb.conntrack;
    const rows: unknown[] = [];
    ct.forEach((e) => {
      const r = ct.row(e);
      const b = this.lb.backendOf(r.owner);
      const t = (x: { src: number; sport: number; dst: number; dport: number }) => ({
        src: ipv4ToString(x.src),
        sport: x.sport,
        dst: ipv4ToString(x.dst),
        dport: x.dport,
      });
      rows.push({
        proto: protoName(r.proto),
        state: r.state,
        secondsLeft: r.secondsLeft,
        ageSeconds: r.ageSeconds,
        orig: t(r.orig),
        reply: t(r.reply),
        nat: natKinds(r.flags),
        backend: b?.name,
        packets: [r.origPackets, r.replyPackets],
        bytes: [r.origBytes, r.replyBytes],
      });
    });
    return rows;
  }

  /** `podwire conntrack flush [--proto] [--src] [--dst]`: matches on the original tuple. */
  flushConntrack(f: { proto?: string; src?: string; dst?: string; port?: number }): number {
    const ct = this.lb.conntrack;
    return ct.removeWhere((e) => {
      if (f.proto && protoName(ct.proto(e)) !== f.proto.toUpperCase()) return false;
      if (f.src && ipv4ToString(ct.origSrc(e)) !== f.src) return false;
      if (f.dst && ipv4ToString(ct.origDst(e)) !== f.dst) return false;
      if (f.port !== undefined && ct.origDport(e) !== f.port) return false;
      return true;
    });
  }
}

function natKinds(flags: number): string[] {
  const k: string[] = [];
  if (flags & CT_DNAT) k.push('dnat');
  if (flags & CT_SNAT) k.push('snat');
  if (flags & CT_MASQ) k.push('masquerade');
  if (flags & CT_FROM_UNDERLAY) k.push('from-underlay');
  return k;
}

function frontendStatus(f: Frontend, nodeIp: number, configuredM: number): unknown {
  const usable = new Set(f.backends);
  return {
    frontend: `${ipv4ToString(f.ip === 0 ? nodeIp : f.ip)}:${f.port}/${protoName(f.proto)}`,
    type: f.type,
    portName: f.portName,
    scheduler: f.scheduler.name,
    affinityTimeoutSeconds: f.affinityTimeoutMs / 1000,
    localOnly: f.localOnly,
    snat: f.snatExternal,
    backends: f.allBackends.map((b) => ({
      name: b.name,
      address: `${ipv4ToString(b.ip)}:${b.port}`,
      node: b.nodeName,
      ready: b.ready,
      serving: b.serving,
      terminating: b.terminating,
      usable: usable.has(b),
      weight: b.weight,
      connections: b.connections,
      active: b.active,
      packets: b.packets,
      bytes: b.bytes,
    })),
    maglevShares: maglevShares(f, configuredM),
  };
}

/** Slots per backend of a maglev frontend's table (what `lb show` prints as shares): the table read back through pick. */
function maglevShares(
  f: Frontend,
  configuredM: number,
): { tableSize: number; slots: Record<string, number> } | undefined {
  if (f.scheduler.name !== 'maglev' || f.backends.length === 0) return undefined;
  const m = maglevTableSize(f.backends.length, configuredM);
  const counts = new Map<number, number>();
  for (let slot = 0; slot < m; slot++) {
    const i = f.scheduler.pick(slot, 0);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  return { tableSize: m, slots: Object.fromEntries([...counts].map(([i, n]) => [f.backends[i]?.name ?? `#${i}`, n])) };
}

function listen(ip: number, port: number, handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject).listen(port, ipv4ToString(ip), () => resolve(server));
  });
}
