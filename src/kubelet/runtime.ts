import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { ContainerState } from './pod-status.js';
import { isoTime } from '../control/time.js';

/**
 * Containers without a container runtime: each is a process started in its
 * pod's network namespace (so a pod's containers share localhost and its
 * ports) with a UTS namespace of its own named after the pod and a mount
 * namespace of its own, in which the pod's resolv.conf, hosts and hostname
 * (pod-files.ts) are bind-mounted over /etc's — the node's mount namespace
 * never sees them. A small
 * shell shim (conmon's job in CRI-O) records the exit code in a file, so an
 * agent restarted meanwhile still learns how a container ended. Output goes
 * to a log file per container (the previous run's is kept, for --previous).
 * Restarts follow restartPolicy with a back-off of 1 s doubling to 30 s
 * (Kubernetes: 10 s to 5 min; shorter here so a lab shows CrashLoopBackOff
 * within seconds), reset after a run of 60 s.
 */
export interface ContainerRun {
  podUid: string;
  podName: string;
  name: string;
  image: string;
  argv: string[];
  env: Record<string, string>;
  netns: string;
  hostname: string;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** the pod's files to bind-mount over /etc/{resolv.conf,hosts,hostname} (absent in runs saved before there were any) */
  etcDir?: string;
}

/**
 * The shim: hostname, the pod's files over /etc's (those /etc has) in the
 * container's own mount namespace, then the command as its child, whose
 * exit code it records. A mount that fails ends the container with 128, as
 * a runtime reports a container it could not start.
 */
const SHIM = [
  'h=$1; f=$2; e=$3; shift 3',
  'hostname "$h" 2>/dev/null',
  'if [ -n "$e" ]; then for x in resolv.conf hosts hostname; do [ -e "/etc/$x" ] || continue; mount --bind "$e/$x" "/etc/$x" || { echo "podwire: could not bind-mount $e/$x over /etc/$x" >&2; echo 128 > "$f"; exit 128; }; done; fi',
  '"$@"; echo $? > "$f"',
].join('; ');

interface Tracked {
  run: ContainerRun;
  pid: number | null;
  startTicks: string | null;
  current: ContainerState;
  last?: ContainerState;
  restartCount: number;
  startedAtMs: number;
  everStarted: boolean;
  stopping: boolean;
  timer: NodeJS.Timeout | null;
}

/** What survives an agent restart (containers.json). */
type Saved = Omit<Tracked, 'everStarted' | 'stopping' | 'timer'>;

const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const BACKOFF_RESET_AFTER_MS = 60_000;

/** Field 22 of /proc/PID/stat: when the process started; tells a reused PID from ours. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export class ContainerRuntime {
  private readonly containers = new Map<string, Tracked>();
  private readonly file: string;
  private poller: NodeJS.Timeout | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly onChange: (podUid: string) => void,
    private readonly log: (msg: string) => void,
  ) {
    this.file = path.join(stateDir, 'containers.json');
  }

  private key = (uid: string, name: string) => `${uid}/${name}`;

  dir(uid: string, name: string): string {
    return path.join(this.stateDir, 'pods', uid, name);
  }

  /** The pod's resolv.conf, hosts and hostname (no container can be named so: a container's name has no dot). */
  etcDir(uid: string): string {
    return path.join(this.stateDir, 'pods', uid, 'etc.pod');
  }

  logPath(uid: string, name: string, previous = false): string {
    return path.join(this.dir(uid, name), previous ? 'previous.log' : 'current.log');
  }

  /** Containers from the last run whose processes are still ours and alive are kept; the rest are reported ended. */
  adopt(): void {
    let saved: Saved[] = [];
    try {
      saved = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Saved[];
    } catch {
      saved = [];
    }
    for (const s of saved) {
      const t: Tracked = {
        ...s,
        everStarted: s.restartCount > 0 || s.current.state !== 'waiting',
        stopping: false,
        timer: null,
      };
      this.containers.set(this.key(s.run.podUid, s.run.name), t);
      if (t.pid !== null && processStartTicks(t.pid) !== t.startTicks) this.exited(t, null);
      else if (t.pid === null && t.current.state === 'waiting') this.scheduleRestart(t);
    }
    this.save();
    this.poller = setInterval(() => this.poll(), 1000);
    this.poller.unref();
  }

  /** Processes started by an earlier agent are not our children: notice their end by polling. */
  private poll(): void {
    for (const t of this.containers.values()) {
      if (t.pid !== null && !t.stopping && processStartTicks(t.pid) !== t.startTicks)
        this.guard(`${t.run.podName}/${t.run.name} ended`, () => this.exited(t, null));
    }
  }

  has(uid: string, name: string): boolean {
    return this.containers.has(this.key(uid, name));
  }

  view(
    uid: string,
    name: string,
  ): {
    current: ContainerState;
    last?: ContainerState;
    restartCount: number;
    started: boolean;
    pid: number | null;
  } | null {
    const t = this.containers.get(this.key(uid, name));
    if (!t) return null;
    return {
      current: t.current,
      last: t.last,
      restartCount: t.restartCount,
      started: t.current.state === 'running',
      pid: t.pid,
    };
  }

  /** A running container's process (checked to be still ours) and environment: what exec enters. */
  execTarget(uid: string, name: string): { pid: number; env: Record<string, string> } | null {
    const t = this.containers.get(this.key(uid, name));
    if (!t || t.pid === null || t.current.state !== 'running' || processStartTicks(t.pid) !== t.startTicks) return null;
    return { pid: t.pid, env: t.run.env };
  }

  /** The pods with containers here (uids). */
  podUids(): string[] {
    return [...new Set([...this.containers.values()].map((t) => t.run.podUid))];
  }

  /** Start a container once; later calls for the same one do nothing. */
  start(run: ContainerRun): void {
    const k = this.key(run.podUid, run.name);
    if (this.containers.has(k)) return;
    const t: Tracked = {
      run,
      pid: null,
      startTicks: null,
      current: { state: 'waiting', reason: 'ContainerCreating' },
      restartCount: 0,
      startedAtMs: 0,
      everStarted: false,
      stopping: false,
      timer: null,
    };
    this.containers.set(k, t);
    this.launch(t);
  }

  /** A container that must not start (e.g. its port clashes with another's): shown waiting with the reason. */
  block(run: ContainerRun, reason: string, message: string): void {
    const k = this.key(run.podUid, run.name);
    const t = this.containers.get(k);
    if (t) {
      t.current = { state: 'waiting', reason, message };
      return;
    }
    this.containers.set(k, {
      run,
      pid: null,
      startTicks: null,
      current: { state: 'waiting', reason, message },
      restartCount: 0,
      startedAtMs: 0,
      everStarted: false,
      stopping: false,
      timer: null,
    });
    this.save();
  }

  private launch(t: Tracked): void {
    const dir = this.dir(t.run.podUid, t.run.name);
    fs.mkdirSync(dir, { recursive: true });
    const exitFile = path.join(dir, 'exit-code');
    fs.rmSync(exitFile, { force: true });
    const out = fs.openSync(this.logPath(t.run.podUid, t.run.name), 'a');
    // nsenter and unshare exec (no fork), so the shim's PID is the one spawn returns
    // (and `nsenter --target` it enters the container's namespaces: exec, probes);
    // detached: its own process group, which stop() signals as a whole.
    const etc = t.run.etcDir ?? '';
    // private: the container's mounts never propagate back to the node
    const unshare = etc ? ['unshare', '--uts', '--mount', '--propagation', 'private'] : ['unshare', '--uts'];
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${t.run.netns}`,
        '--',
        ...unshare,
        '--',
        '/bin/sh',
        '-c',
        SHIM,
        'sh',
        t.run.hostname,
        exitFile,
        etc,
        ...t.run.argv,
      ],
      {
        detached: true,
        stdio: ['ignore', out, out],
        env: t.run.env,
        cwd: '/',
      },
    );
    fs.closeSync(out);
    if (!child.pid) {
      t.current = { state: 'waiting', reason: 'RunContainerError', message: `could not start ${t.run.argv[0]}` };
      this.onChange(t.run.podUid);
      return;
    }
    t.pid = child.pid;
    t.startTicks = processStartTicks(child.pid);
    t.startedAtMs = Date.now();
    t.everStarted = true;
    t.current = { state: 'running', startedAt: isoTime(t.startedAtMs) };
    child.on('exit', () => {
      if (t.pid === child.pid) this.guard(`${t.run.podName}/${t.run.name} exited`, () => this.exited(t, child.pid!));
    });
    child.on('error', (e) => this.log(`container ${t.run.podName}/${t.run.name}: ${e.message}`));
    // Containers outlive the agent (a restarted agent adopts them): they must not keep it running.
    child.unref();
    this.save();
    this.onChange(t.run.podUid);
  }

  private exited(t: Tracked, _pid: number | null): void {
    const dir = this.dir(t.run.podUid, t.run.name);
    let code: number | null = null;
    try {
      code = Number(fs.readFileSync(path.join(dir, 'exit-code'), 'utf8').trim());
    } catch {
      code = null; // killed by a signal (or by us), before the shim could write
    }
    const started = t.current.state === 'running' ? t.current.startedAt : undefined;
    const exitCode = code ?? 137;
    t.pid = null;
    t.startTicks = null;
    t.current = {
      state: 'terminated',
      exitCode,
      reason: code === 0 ? 'Completed' : code === null ? (t.stopping ? 'Killed' : 'Error') : 'Error',
      ...(started ? { startedAt: started } : {}),
      finishedAt: isoTime(),
    };
    if (!t.stopping) {
      const again = t.run.restartPolicy === 'Always' || (t.run.restartPolicy === 'OnFailure' && exitCode !== 0);
      if (again) this.scheduleRestart(t);
    }
    this.save();
    this.onChange(t.run.podUid);
  }

  private scheduleRestart(t: Tracked): void {
    const ranFor = Date.now() - t.startedAtMs;
    const n = ranFor >= BACKOFF_RESET_AFTER_MS ? 0 : t.restartCount;
    const delayMs = Math.min(BACKOFF_START_MS * 2 ** n, BACKOFF_MAX_MS);
    if (t.current.state === 'terminated') t.last = t.current;
    t.current = {
      state: 'waiting',
      reason: 'CrashLoopBackOff',
      message: `back-off ${Math.round(delayMs / 1000)}s restarting failed container=${t.run.name} pod=${t.run.podName}`,
    };
    t.timer = setTimeout(
      () =>
        this.guard(`restart ${t.run.podName}/${t.run.name}`, () => {
          t.timer = null;
          if (t.stopping) return;
          t.restartCount++;
          // keep the last run's output for `logs --previous`
          try {
            fs.renameSync(this.logPath(t.run.podUid, t.run.name), this.logPath(t.run.podUid, t.run.name, true));
          } catch {
            /* no output */
          }
          this.launch(t);
        }),
      delayMs,
    );
  }

  /** Work on timers and child events: a failure (a full disk, say) is logged, never allowed to end the agent. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log(`container runtime: ${what}: ${(e as Error).message}`);
    }
  }

  /** Drop a container that has no process (one that was blocked), so it can be started anew. */
  forget(uid: string, name: string): void {
    const t = this.containers.get(this.key(uid, name));
    if (t && t.pid === null) {
      if (t.timer) clearTimeout(t.timer);
      this.containers.delete(this.key(uid, name));
    }
  }

  /** Kill one container (liveness failure): it is restarted as if it had exited. */
  restart(uid: string, name: string): void {
    const t = this.containers.get(this.key(uid, name));
    if (t?.pid) signalGroup(t.pid, 'SIGKILL');
  }

  /** Stop every container of a pod: SIGTERM to each process group, SIGKILL after graceMs. */
  async stopPod(uid: string, graceMs: number): Promise<void> {
    const ts = [...this.containers.values()].filter((t) => t.run.podUid === uid);
    for (const t of ts) {
      t.stopping = true;
      if (t.timer) clearTimeout(t.timer);
      if (t.pid) signalGroup(t.pid, 'SIGTERM');
    }
    const deadline = Date.now() + graceMs;
    while (ts.some((t) => t.pid !== null && processStartTicks(t.pid) === t.startTicks) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const t of ts) if (t.pid !== null && processStartTicks(t.pid) === t.startTicks) signalGroup(t.pid, 'SIGKILL');
    for (const t of ts) this.containers.delete(this.key(uid, t.run.name));
    fs.rmSync(path.join(this.stateDir, 'pods', uid), { recursive: true, force: true });
    this.save();
  }

  close(): void {
    if (this.poller) clearInterval(this.poller);
    for (const t of this.containers.values()) if (t.timer) clearTimeout(t.timer);
  }

  private save(): void {
    const list: Saved[] = [...this.containers.values()].map((t) => ({
      run: t.run,
      pid: t.pid,
      startTicks: t.startTicks,
      current: t.current,
      last: t.last,
      restartCount: t.restartCount,
      startedAtMs: t.startedAtMs,
    }));
    fs.mkdirSync(this.stateDir, { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(list));
    fs.renameSync(tmp, this.file);
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}
