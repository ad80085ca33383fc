import fs from 'node:fs';

/**
 * What the agent measures of its containers' processes, served on :10250
 * as GET /stats/summary in the shape of the kubelet's Summary API (the part
 * metrics-server reads): per container the CPU (cumulative core-seconds and
 * the current rate, in nanocores) and memory (RSS of its processes), per
 * node the sum of its pods and of the agent itself. There are no cgroups:
 * a container is its process tree — the process the runtime started and
 * every descendant (a shell's children, an exec'd command), with the CPU of
 * children already reaped counted by their parents (cutime/cstime).
 */
export interface ProcEntry {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks */
  ticks: number;
  rssBytes: number;
}

/** Linux's USER_HZ (sysconf(_SC_CLK_TCK)): 100 on every architecture Node runs on */
export const CLK_TCK = 100;
const PAGE = 4096;

/** One /proc/<pid>/stat line: the fields after the command (which may hold spaces and parentheses). */
export function parseStat(text: string): { ppid: number; ticks: number; rssPages: number } | null {
  const end = text.lastIndexOf(')');
  if (end < 0) return null;
  const f = text
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  // after "pid (comm)": state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17) … rss(24)
  const at = (n: number) => Number(f[n - 3]);
  const ticks = at(14) + at(15) + at(16) + at(17);
  if (!Number.isFinite(ticks)) return null;
  return { ppid: at(4), ticks, rssPages: at(24) };
}

export function readProcTable(proc = '/proc'): Map<number, ProcEntry> {
  const out = new Map<number, ProcEntry>();
  for (const name of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = fs.readFileSync(`${proc}/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const s = parseStat(text);
    if (s) out.set(Number(name), { pid: Number(name), ppid: s.ppid, ticks: s.ticks, rssBytes: s.rssPages * PAGE });
  }
  return out;
}

/** CPU ticks and RSS of `root` and all its descendants (withoutRoot: of its descendants only). */
export function treeUsage(
  root: number,
  table: Map<number, ProcEntry>,
  withoutRoot = false,
): { ticks: number; rssBytes: number } | null {
  if (!table.has(root)) return null;
  const children = new Map<number, number[]>();
  for (const p of table.values()) {
    const l = children.get(p.ppid);
    if (l) l.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  let ticks = 0;
  let rssBytes = 0;
  const todo = [root];
  const seen = new Set<number>();
  while (todo.length) {
    const pid = todo.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const p = table.get(pid);
    if (!p) continue;
    todo.push(...(children.get(pid) ?? []));
    if (withoutRoot && pid === root) continue;
    ticks += p.ticks;
    rssBytes += p.rssBytes;
  }
  return { ticks, rssBytes };
}

export interface RunningContainer {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  /** the process the runtime started for it */
  pid: number;
  /** stdin/tty: that process is the container's console holder (streams/console-holder.ts), not the container's — counted out, as containerd's shim is */
  console?: boolean;
  startTime?: string;
}

interface Sample {
  atMs: number;
  ticks: Map<string, number>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Summaries with rates: each request compares with the previous sample
 * (a second one is taken after `gapMs` when the last is too old or absent).
 */
export class StatsSampler {
  private last: Sample | null = null;

  constructor(
    private readonly o: {
      node: string;
      containers: () => RunningContainer[];
      /** processes that are the node's own (the agent), each counted alone */
      nodePids?: () => number[];
      proc?: string;
      now?: () => number;
      gapMs?: number;
    },
  ) {}

  private sample(): { atMs: number; table: Map<number, ProcEntry>; ticks: Map<string, number> } {
    const table = readProcTable(this.o.proc);
    const ticks = new Map<string, number>();
    for (const c of this.o.containers()) {
      const u = treeUsage(c.pid, table, c.console);
      if (u) ticks.set(`${c.podUid}/${c.container}`, u.ticks);
    }
    for (const pid of this.o.nodePids?.() ?? []) {
      const p = table.get(pid);
      if (p) ticks.set(`node/${pid}`, p.ticks);
    }
    return { atMs: (this.o.now ?? Date.now)(), table, ticks };
  }

  async summary(): Promise<Record<string, unknown>> {
    const now = this.o.now ?? Date.now;
    if (!this.last || now() - this.last.atMs > 60_000 || now() - this.last.atMs < 100) {
      const s = this.sample();
      this.last = { atMs: s.atMs, ticks: s.ticks };
      await new Promise((r) => setTimeout(r, this.o.gapMs ?? 300));
    }
    const prev = this.last!;
    const cur = this.sample();
    this.last = { atMs: cur.atMs, ticks: cur.ticks };
    const dtNs = Math.max(1, (cur.atMs - prev.atMs) * 1e6);
    const rate = (key: string) => {
      const a = prev.ticks.get(key);
      const b = cur.ticks.get(key);
      if (a === undefined || b === undefined) return 0;
      return Math.max(0, Math.round((((b - a) / CLK_TCK) * 1e9 * 1e9) / dtNs));
    };
    const time = iso(cur.atMs);
    const pods = new Map<string, { podRef: Record<string, string>; containers: Record<string, unknown>[] }>();
    let nodeNano = 0;
    let nodeCoreNs = 0;
    let nodeRss = 0;
    for (const c of this.o.containers()) {
      const key = `${c.podUid}/${c.container}`;
      const u = treeUsage(c.pid, cur.table, c.console);
      if (!u) continue;
      const nano = rate(key);
      const coreNs = Math.round((u.ticks / CLK_TCK) * 1e9);
      nodeNano += nano;
      nodeCoreNs += coreNs;
      nodeRss += u.rssBytes;
      const pk = `${c.namespace}/${c.pod}`;
      if (!pods.has(pk))
        pods.set(pk, { podRef: { name: c.pod, namespace: c.namespace, uid: c.podUid }, containers: [] });
      pods.get(pk)!.containers.push({
        name: c.container,
        ...(c.startTime ? { startTime: c.startTime } : {}),
        cpu: { time, usageNanoCores: nano, usageCoreNanoSeconds: coreNs },
        memory: { time, workingSetBytes: u.rssBytes, rssBytes: u.rssBytes },
      });
    }
    for (const pid of this.o.nodePids?.() ?? []) {
      const u = cur.table.get(pid); // the process alone: its containers are counted above
      if (!u) continue;
      nodeNano += rate(`node/${pid}`);
      nodeCoreNs += Math.round((u.ticks / CLK_TCK) * 1e9);
      nodeRss += u.rssBytes;
    }
    return {
      // the interval the rates are over (not in the kubelet's Summary; metrics.k8s.io reports it as `window`)
      windowSeconds: Number((dtNs / 1e9).toFixed(3)),
      node: {
        nodeName: this.o.node,
        cpu: { time, usageNanoCores: nodeNano, usageCoreNanoSeconds: nodeCoreNs },
        memory: { time, workingSetBytes: nodeRss, rssBytes: nodeRss },
      },
      pods: [...pods.values()],
    };
  }
}

/** What a container list needs of the kubelet: the pod by its key, and the runtime's view of a container. */
export interface KubeletView {
  podFor(key: string):
    | {
        metadata: { name: string; uid?: string };
        spec?: { containers?: { name: string; stdin?: boolean; tty?: boolean }[] };
      }
    | undefined;
  runtime: { view(uid: string, name: string): { pid: number | null; current: { state: string } } | null };
  /** hostNetwork pods, which have no record among the agent's sandboxes */
  hostNetworkPods?(): { name: string; namespace?: string; uid?: string }[];
}

/** The running containers of the pods this node holds (sandbox records: key, namespace, uid). */
export function runningContainers(
  kubelet: KubeletView,
  records: { name: string; namespace?: string; uid?: string }[],
): RunningContainer[] {
  const out: RunningContainer[] = [];
  for (const rec of [...records, ...(kubelet.hostNetworkPods?.() ?? [])]) {
    const pod = kubelet.podFor(rec.name);
    const uid = pod?.metadata.uid;
    if (!pod || !uid || (rec.uid && rec.uid !== uid)) continue;
    for (const c of pod.spec?.containers ?? []) {
      const v = kubelet.runtime.view(uid, c.name);
      if (!v?.pid || v.current.state !== 'running') continue;
      out.push({
        namespace: rec.namespace ?? 'default',
        pod: pod.metadata.name,
        podUid: uid,
        container: c.name,
        pid: v.pid,
        ...(c.stdin || c.tty ? { console: true } : {}),
      });
    }
  }
  return out;
}

/** The agent's /stats/summary: its kubelet's containers, and the agent process as the node's own. */
export function statsSummary(node: string, containers: () => RunningContainer[]): () => Promise<unknown> {
  const sampler = new StatsSampler({ node, containers, nodePids: () => [process.pid] });
  return () => sampler.summary();
}
