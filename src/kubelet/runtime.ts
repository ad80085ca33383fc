import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from '../host/index.js';
import type { ContainerState } from './pod-status.js';
import { isoTime } from '../control/index.js';
import { withConsole } from './streams/console.js';
import {
  startProcess,
  signalGroup,
  processStartTicks,
  liveProcessGroups,
  sandboxedDescendant,
  podSandboxArgv,
  containerSandboxArgv,
  type SandboxMounts,
  type SandboxBind,
} from '../host/index.js';
import { execIdentityArgv, containerSecurity, type ContainerSecurity } from './security.js';
import { KubeletError } from './errors.js';

/**
 * Containers as a container runtime runs them, without one: sandboxes made
 * with bubblewrap, nsenter and setpriv (why those: src/host/sandbox.ts).
 *
 * A pod: its network namespace (made by the agent) and a pause process per
 * pod — started before the pod's first container, in a PID, UTS (the pod's
 * hostname) and IPC namespace of its own, which the pod's containers join
 * (bwrap's init, a reaper, is PID 1 there; pause its child). A container:
 *   - the pod's network, UTS and IPC namespaces;
 *   - its own PID namespace — Kubernetes' semantics: without
 *     shareProcessNamespace each container has its own (it sees only its own
 *     processes; bwrap's reaper is its PID 1 and the command PID 2, so the
 *     command gets SIGTERM when the pod stops, as with `docker run --init`;
 *     Kubernetes makes the command PID 1, where a SIGTERM without a handler
 *     is ignored and every stop would wait out the grace period); with
 *     shareProcessNamespace: true the pod's, where pause's init is PID 1 and
 *     every container sees the others;
 *   - its own mount namespace: the node's / read-only as the image
 *     (privileged: writable, and the node's /dev); private tmpfs over /tmp,
 *     /var/tmp (1777) and /run — so nothing of /run/podwire (the API
 *     server's and agents' sockets) — and over the agent's state directory;
 *     the pod's own /etc/resolv.conf, hosts and hostname (pod-files.ts)
 *     bound over the node's (read-only with readOnlyRootFilesystem — the
 *     root is read-only anyway: there is no per-container writable layer,
 *     the node's filesystem is the image); the tools built-in images need
 *     (busybox links, the workload binary, node) bound back read-only when
 *     a private tmpfs hides them; a fresh /proc, a minimal /dev;
 *   - containerd's default capabilities, securityContext honoured
 *     (security.ts): capabilities add/drop, privileged (all), runAsUser,
 *     runAsGroup, the pod's supplementalGroups/fsGroup; setpriv drops to
 *     them last;
 *   - PR_SET_NO_NEW_PRIVS, always: bubblewrap sets it for every sandbox and
 *     cannot be told not to. Kubernetes sets it only for
 *     allowPrivilegeEscalation: false; here the node's setuid binaries are
 *     in every container's image, which makes always the safer default.
 * A small shell shim outside the sandbox (conmon's job in CRI-O) records
 * the exit code in a file, so an agent restarted meanwhile still learns how
 * a container ended; containers.json records every container's process and
 * what exec needs (exec-spec.ts), and the pods' pause processes. Output goes
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
  /** the pod's network namespace; '' for a hostNetwork pod (the node's: the agent's own) */
  netns: string;
  hostname: string;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** the pod's files to bind-mount over /etc/{resolv.conf,hosts,hostname} (absent in runs saved before there were any) */
  etcDir?: string;
  /** the container's identity (absent in runs saved before containers were sandboxes: adopted as they run) */
  security?: ContainerSecurity;
  /** the pod's shareProcessNamespace */
  shareProcessNamespace?: boolean;
  /** workingDir, else / */
  cwd?: string;
  /** the spec's stdin and tty: the container runs on a console kubectl attach reaches (streams/console.ts) */
  stdin?: boolean;
  tty?: boolean;
  /** the spec's stdinOnce: the console ends the container's stdin when the first attach's stdin ends */
  stdinOnce?: boolean;
  /** an ephemeral container's targetContainerName: it joins that container's PID namespace */
  targetContainer?: string;
  /** the pod's hostPID and hostIPC: the node's PID and IPC namespaces (the agent's) */
  hostPID?: boolean;
  hostIPC?: boolean;
  /** volumes (hostPath) bound into the container */
  volumes?: SandboxBind[];
  /** the pod's projected ServiceAccount files (service-account.ts), bound read-only at /var/run/secrets/kubernetes.io/serviceaccount */
  serviceAccountDir?: string;
}

/** What the runtime's sandboxes need to know of this node. */
export interface RuntimeSandboxOptions {
  /** the pause process's argv (the workload binary's `pause`) */
  pause: string[];
  /** directories of the node no container may see, beside /tmp, /run and /var/tmp (the agent's state) */
  hide: string[];
  /** what containers need even where a private tmpfs hides it (busybox links, the workload binary, node): bound back read-only */
  keep: string[];
}

/** A pod's pause process: `pid` the one started (its group), `nsPid` the process in the pod's namespaces. */
interface PodSandbox {
  pid: number;
  startTicks: string | null;
  nsPid: number;
  nsStartTicks: string | null;
}

/**
 * The shim, outside the sandbox: runs the sandbox's argv as its child and
 * records its exit code (bwrap passes the command's on; 128+n for signal n).
 * A PID namespace to join ($2, a /proc/PID/ns/pid, or empty) it opens as
 * fd 3 for bwrap itself: a console holder between the agent and the shim
 * passes on no descriptor but stdio.
 */
const SHIM = 'f=$1; p=$2; shift 2; if [ -n "$p" ]; then exec 3<"$p"; fi; "$@"; echo $? > "$f"';

/** How long a pod's pause process may take to be in its namespaces. */
const PAUSE_READY_MS = 10_000;
/** How long a container's status may stay ContainerCreating while its sandbox's process is made. */
const SANDBOX_READY_MS = 5_000;

interface Tracked {
  run: ContainerRun;
  pid: number | null;
  startTicks: string | null;
  /** the process in the container's namespaces (found after start; what exec and exec probes enter) */
  nsPid?: number | null;
  current: ContainerState;
  last?: ContainerState;
  restartCount: number;
  startedAtMs: number;
  everStarted: boolean;
  stopping: boolean;
  timer: NodeJS.Timeout | null;
}

/** What survives an agent restart (containers.json; an array of containers before pods had a pause). */
type Saved = Omit<Tracked, 'everStarted' | 'stopping' | 'timer'>;
interface SavedFile {
  containers: Saved[];
  pods: Record<string, PodSandbox>;
}

const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const BACKOFF_RESET_AFTER_MS = 60_000;

export { processStartTicks };

export class ContainerRuntime {
  private readonly containers = new Map<string, Tracked>();
  private readonly pods = new Map<string, PodSandbox>();
  private readonly pausing = new Map<string, Promise<PodSandbox>>();
  private readonly file: string;
  private poller: NodeJS.Timeout | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly onChange: (podUid: string) => void,
    private readonly log: (msg: string) => void,
    private readonly sandbox: RuntimeSandboxOptions,
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
      const file = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Saved[] | SavedFile;
      saved = Array.isArray(file) ? file : file.containers;
      if (!Array.isArray(file))
        for (const [uid, p] of Object.entries(file.pods ?? {}))
          if (processStartTicks(p.nsPid) === p.nsStartTicks) this.pods.set(uid, p);
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
      else if (t.pid !== null && t.current.state === 'waiting')
        // saved between its start and its sandbox's process: it runs
        t.current = { state: 'running', startedAt: isoTime(t.startedAtMs) };
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

  /**
   * A running container's process in its namespaces (checked to be still
   * ours) and what it runs with: what exec enters (exec-spec.ts). A
   * container adopted from before sandboxes: its shim's process, as root.
   */
  execTarget(
    uid: string,
    name: string,
  ): {
    pid: number;
    env: Record<string, string>;
    security: ContainerSecurity | null;
    cwd: string;
  } | null {
    const t = this.containers.get(this.key(uid, name));
    if (!t || t.pid === null || t.current.state !== 'running' || processStartTicks(t.pid) !== t.startTicks) return null;
    let pid = t.pid;
    if (t.run.security) {
      // the first process bwrap made: in the container's final namespaces (mount, PID, UTS, IPC, network)
      if (!t.nsPid || processStartTicks(t.nsPid) === null) t.nsPid = sandboxedDescendant(t.pid);
      if (!t.nsPid) return null;
      pid = t.nsPid;
    }
    return { pid, env: t.run.env, security: t.run.security ?? null, cwd: t.run.cwd ?? '/' };
  }

  /** The pods with containers here (uids). */
  podUids(): string[] {
    return [...new Set([...[...this.containers.values()].map((t) => t.run.podUid), ...this.pods.keys()])];
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

  /** Start the container (after its pod's pause process); a failure to start shows as RunContainerError. */
  private launch(t: Tracked): void {
    t.current = { state: 'waiting', reason: 'ContainerCreating' };
    this.launchInSandbox(t).catch((e: Error) => {
      if (t.stopping) return;
      this.log(`container ${t.run.podName}/${t.run.name}: ${e.message}`);
      t.current = { state: 'waiting', reason: 'RunContainerError', message: e.message };
      this.save();
      this.onChange(t.run.podUid);
    });
  }

  /** The pod's pause process, started once (again if it ended), and the process in its namespaces. */
  private ensurePodSandbox(run: ContainerRun): Promise<PodSandbox> {
    const have = this.pods.get(run.podUid);
    if (have && processStartTicks(have.nsPid) === have.nsStartTicks) return Promise.resolve(have);
    const pending = this.pausing.get(run.podUid);
    if (pending) return pending;
    const p = this.startPause(run).finally(() => this.pausing.delete(run.podUid));
    this.pausing.set(run.podUid, p);
    return p;
  }

  private async startPause(run: ContainerRun): Promise<PodSandbox> {
    const dir = path.join(this.stateDir, 'pods', run.podUid);
    fs.mkdirSync(dir, { recursive: true });
    const out = fs.openSync(path.join(dir, 'pause.log'), 'a');
    let child: ChildProcess;
    try {
      child = startProcess(
        podSandboxArgv({
          netns: run.netns || null,
          hostname: run.hostname,
          mounts: this.mounts({ privileged: false, readOnlyRootFilesystem: true }, undefined, []),
          pause: this.sandbox.pause,
        }),
        { detached: true, stdio: ['ignore', out, out] },
      );
    } finally {
      fs.closeSync(out);
    }
    child.unref();
    let ended = false;
    child.on('exit', () => (ended = true));
    child.on('error', () => (ended = true));
    const deadline = Date.now() + PAUSE_READY_MS;
    for (;;) {
      const nsPid = child.pid ? sandboxedDescendant(child.pid) : null;
      if (nsPid) {
        const p: PodSandbox = {
          pid: child.pid!,
          startTicks: processStartTicks(child.pid!),
          nsPid,
          nsStartTicks: processStartTicks(nsPid),
        };
        this.pods.set(run.podUid, p);
        this.save();
        return p;
      }
      if (ended || Date.now() > deadline) {
        if (child.pid) signalGroup(child.pid, 'SIGKILL');
        throw new KubeletError(
          'ERR_SANDBOX',
          `the pod's sandbox (pause) did not start: see ${path.join(dir, 'pause.log')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The container's mount namespace (see the header). */
  private mounts(
    sec: Pick<ContainerSecurity, 'privileged' | 'readOnlyRootFilesystem'>,
    etcDir: string | undefined,
    volumes: SandboxBind[],
  ): SandboxMounts {
    const tmpfs = [{ dest: '/tmp', mode: '1777' }, { dest: '/var/tmp', mode: '1777' }, { dest: '/run' }];
    const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
    for (const h of this.sandbox.hide) if (!tmpfs.some((t) => under(h, t.dest))) tmpfs.push({ dest: h });
    const binds = this.sandbox.keep
      .filter((k) => tmpfs.some((t) => under(k, t.dest)) && fs.existsSync(k))
      .map((k) => ({ src: k, dest: k, readOnly: true }));
    if (etcDir)
      for (const f of ['resolv.conf', 'hosts', 'hostname'])
        if (fs.existsSync(`/etc/${f}`) && fs.existsSync(path.join(etcDir, f)))
          binds.push({ src: path.join(etcDir, f), dest: `/etc/${f}`, readOnly: sec.readOnlyRootFilesystem });
    binds.push(...volumes);
    // a volume whose mount point the node's / lacks (and no tmpfs of ours holds): the sandbox's root gets the node's entries one by one
    const rootEntries = volumes.some((v) => !fs.existsSync(v.dest) && !tmpfs.some((t) => under(v.dest, t.dest)))
      ? nodeRootEntries()
      : undefined;
    return { readOnlyRoot: !sec.privileged, tmpfs, binds, hostDev: sec.privileged, rootEntries };
  }

  private async launchInSandbox(t: Tracked): Promise<void> {
    const run = t.run;
    const sec = run.security ?? containerSecurity(undefined, undefined);
    run.security = sec;
    const pod = await this.ensurePodSandbox(run);
    if (t.stopping) return;
    const dir = this.dir(run.podUid, run.name);
    fs.mkdirSync(dir, { recursive: true });
    const exitFile = path.join(dir, 'exit-code');
    fs.rmSync(exitFile, { force: true });
    // the PID namespace to join (the shim opens it as fd 3 for bwrap): an ephemeral container's target's, or the pod's
    // (shareProcessNamespace); hostPID: the agent's own
    const pidns = run.hostPID ? null : this.pidnsToJoin(run, pod);
    const out = fs.openSync(this.logPath(run.podUid, run.name), 'a');
    let child: ChildProcess;
    try {
      // detached: its own process group, which stop() signals as a whole (the sandbox's processes are in it)
      child = startProcess(
        withConsole(run, [
          '/bin/sh',
          '-c',
          SHIM,
          'sh',
          exitFile,
          pidns ?? '',
          ...containerSandboxArgv({
            netns: run.netns || null,
            hostIpc: run.hostIPC === true,
            hostPid: run.hostPID === true,
            podPid: pod.nsPid,
            podPidnsFd: pidns === null ? null : 3,
            mounts: this.mounts(sec, run.etcDir, [
              ...(run.volumes ?? []),
              ...(run.serviceAccountDir ? [serviceAccountBind(run.serviceAccountDir)] : []),
            ]),
            // setpriv needs these three to drop to the container's identity; it then leaves only sec.caps
            caps: sec.privileged ? 'all' : [...new Set([...sec.caps, 'SETUID', 'SETGID', 'SETPCAP'])],
            cwd: run.cwd ?? '/',
            argv: [...execIdentityArgv(sec), ...run.argv],
          }),
        ]),
        {
          detached: true,
          stdio: ['ignore', out, out],
          env: run.env,
          cwd: '/',
        },
      );
    } finally {
      fs.closeSync(out);
    }
    if (!child.pid) {
      t.current = { state: 'waiting', reason: 'RunContainerError', message: `could not start ${run.argv[0]}` };
      this.onChange(run.podUid);
      return;
    }
    t.pid = child.pid;
    t.nsPid = null;
    t.startTicks = processStartTicks(child.pid);
    t.startedAtMs = Date.now();
    t.everStarted = true;
    child.on('exit', () => {
      if (t.pid === child.pid) this.guard(`${run.podName}/${run.name} exited`, () => this.exited(t, child.pid!));
    });
    child.on('error', (e) => this.log(`container ${t.run.podName}/${t.run.name}: ${e.message}`));
    // Containers outlive the agent (a restarted agent adopts them): they must not keep it running.
    child.unref();
    this.save();
    // Running once the sandbox's process is there (as containerd reports a started task): what exec and
    // attach enter, and what an ephemeral container's target shares, exists when the status says running.
    const deadline = Date.now() + SANDBOX_READY_MS;
    while (t.pid === child.pid && !t.stopping && Date.now() < deadline) {
      t.nsPid = sandboxedDescendant(child.pid);
      if (t.nsPid) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    if (t.pid !== child.pid) return; // it ended meanwhile: exited() has reported it
    t.current = { state: 'running', startedAt: isoTime(t.startedAtMs) };
    this.save();
    this.onChange(t.run.podUid);
  }

  /** The PID namespace the container joins (a /proc/PID/ns/pid of a live process), or null for one of its own. */
  private pidnsToJoin(run: ContainerRun, pod: PodSandbox): string | null {
    if (run.targetContainer !== undefined) {
      const target = this.execTarget(run.podUid, run.targetContainer);
      if (!target)
        throw new KubeletError(
          'ERR_TARGET',
          `the target container "${run.targetContainer}" is not running: its process namespace cannot be shared`,
        );
      return `/proc/${target.pid}/ns/pid`;
    }
    return run.shareProcessNamespace ? `/proc/${pod.nsPid}/ns/pid` : null;
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
    // Each container is a process group (the shim leads it). SIGTERM reaches the shim and the bwrap
    // outside the sandbox too, which end at once, while the command may take its grace (CoreDNS's
    // lameduck): so the wait is for the whole group to be gone, not its leader, and the SIGKILL
    // after the grace goes to the group even when the leader has already ended. (Linux hands out no
    // PID that is still a live group's ID, so the number cannot meanwhile name someone else's group.)
    const groups = ts.filter((t) => t.pid !== null && processStartTicks(t.pid) === t.startTicks).map((t) => t.pid!);
    const alive = () => {
      const live = liveProcessGroups();
      return groups.filter((g) => live.has(g));
    };
    for (const t of ts) {
      t.stopping = true;
      if (t.timer) clearTimeout(t.timer);
    }
    for (const g of groups) signalGroup(g, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (alive().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const g of alive()) signalGroup(g, 'SIGKILL');
    // gone before the sandbox goes: a process still exiting must not outlive its pod's network namespace
    const killedBy = Date.now() + 2_000;
    while (alive().length && Date.now() < killedBy) await new Promise((r) => setTimeout(r, 20));
    for (const t of ts) this.containers.delete(this.key(uid, t.run.name));
    // then the pod's sandbox: its pause (a pending one first finishes starting)
    await this.pausing.get(uid)?.catch(() => null);
    const pause = this.pods.get(uid);
    if (pause && processStartTicks(pause.pid) === pause.startTicks) signalGroup(pause.pid, 'SIGKILL');
    if (pause && processStartTicks(pause.nsPid) === pause.nsStartTicks) signalGroup(pause.nsPid, 'SIGKILL');
    this.pods.delete(uid);
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
      nsPid: t.nsPid ?? null,
      startTicks: t.startTicks,
      current: t.current,
      last: t.last,
      restartCount: t.restartCount,
      startedAtMs: t.startedAtMs,
    }));
    fs.mkdirSync(this.stateDir, { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    const file: SavedFile = { containers: list, pods: Object.fromEntries(this.pods) };
    fs.writeFileSync(tmp, JSON.stringify(file));
    fs.renameSync(tmp, this.file);
  }
}

/** The node's / entry by entry (not /proc and /dev, which the sandbox makes): symlinks (merged /usr's /bin …) as symlinks. */
function nodeRootEntries(): { path: string; symlink?: string }[] {
  return fs
    .readdirSync('/')
    .filter((n) => n !== 'proc' && n !== 'dev')
    .map((n) => {
      const p = `/${n}`;
      const st = fs.lstatSync(p);
      return st.isSymbolicLink() ? { path: p, symlink: fs.readlinkSync(p) } : { path: p };
    });
}

/**
 * The ServiceAccount directory's bind. The mount point is
 * /var/run/secrets/kubernetes.io/serviceaccount, reached through what
 * /var/run is on the node (Debian: a symlink to /run): bubblewrap makes a
 * mount point inside the sandbox's new root, where an absolute symlink on the
 * way would lead out of it, so the path is resolved first — under /run it
 * lands in the container's private /run tmpfs.
 */
export function serviceAccountBind(src: string, varRun = resolveVarRun()): SandboxBind {
  return { src, dest: path.join(varRun, 'secrets/kubernetes.io/serviceaccount'), readOnly: true };
}

function resolveVarRun(): string {
  try {
    return fs.realpathSync('/var/run');
  } catch {
    return '/var/run';
  }
}
