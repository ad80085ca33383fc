import {
  Informer,
  EventRecorder,
  ApiClientError,
  type ApiClient,
  type KubeObject,
  type EventType,
} from '../control/client/index.js';
import { apiPodKey, type PodRecord, type PodSandboxes } from './sandbox.js';
import { ContainerRuntime, type ContainerRun } from './runtime.js';
import { podStatus, canonicalJson, type ContainerView } from './pod-status.js';
import { runProbe, ProbeState, type ProbeSpec } from './probes.js';
import { containerEnv, expand, ContainerConfigError } from './container-env.js';
import { launchFor } from './images.js';
import { podFilesFor, writePodFiles, readPodHostname, type KubeletDnsOptions, type PodLike } from './pod-files.js';
import { isoTime } from '../control/index.js';
import path from 'node:path';
import { containerSecurity, SecurityContextError } from './security.js';
import type { ExecSpec } from './exec-spec.js';
import { hostNetworkRecord, hostPathBinds } from './pod-host.js';
import { ServiceAccountTokens, mountsToken, serviceAccountOf } from './service-account.js';

/**
 * The agent's kubelet: it watches the Pods bound to this node and makes
 * them so — a sandbox (netns, veth, IP) per pod, a process per container,
 * probes — and reports each pod's status back. Work for one pod is
 * serialised; pods proceed in parallel. Level-triggered: every sync
 * compares what is with what should be, so a missed event heals itself.
 */
export interface KubeletOptions {
  client: ApiClient;
  node: string;
  nodeIp: string;
  sandboxes: PodSandboxes;
  stateDir: string;
  tools: { workloadBin: string; busyboxDir: string };
  log: (msg: string) => void;
  /** seconds a pod's containers get between SIGTERM and SIGKILL (at most) */
  maxGraceSeconds?: number;
  /** --cluster-dns, --cluster-domain, --resolv-conf: what the pods' resolv.conf is made of */
  dns: KubeletDnsOptions;
  /**
   * The cluster CA (PEM) when the API server has one: pods then get their
   * ServiceAccount token, this CA and their namespace at
   * /var/run/secrets/kubernetes.io/serviceaccount (service-account.ts).
   * Absent (a cluster without TLS): no token is projected.
   */
  clusterCaPem?: string;
}

const COMPONENT = 'kubelet';
/** waiting reasons that a later sync may clear (the runtime does not retry them itself) */
const BLOCKED = ['PortConflict', 'CreateContainerConfigError'];

interface ProbeLoop {
  timer: NodeJS.Timeout | null;
  state: ProbeState;
  startedAt: string;
  running: boolean;
}

export class Kubelet {
  readonly runtime: ContainerRuntime;
  private informer!: Informer;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly keyByUid = new Map<string, string>();
  private readonly probes = new Map<string, { readiness?: ProbeLoop; liveness?: ProbeLoop }>();
  private readonly told = new Set<string>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** hostNetwork pods' sandboxes: no netns or address of their own (pod-host.ts), so none from the agent's PodSandboxes */
  private readonly hostPods = new Map<string, PodRecord>();
  private stopped = false;
  /** Sandboxes are a dozen `ip` commands each: a burst of pods makes them a few at a time, not all at once. */
  private readonly sandboxSlots = new Slots(4);

  private readonly events: EventRecorder;
  private readonly tokens: ServiceAccountTokens | null;
  /** pods (uid) whose ServiceAccount files are written, or that mount none (null) */
  private readonly saDirs = new Map<string, string | null>();

  constructor(private readonly o: KubeletOptions) {
    this.events = new EventRecorder(o.client, o.log);
    this.tokens = o.clusterCaPem
      ? new ServiceAccountTokens({
          client: o.client,
          caPem: o.clusterCaPem,
          log: o.log,
          dirFor: (uid) => path.join(o.stateDir, 'pods', uid, 'serviceaccount.pod'),
        })
      : null;
    this.runtime = new ContainerRuntime(
      o.stateDir,
      (uid) => {
        const key = this.keyByUid.get(uid);
        if (key) this.enqueue(key);
      },
      o.log,
      {
        pause: [o.tools.workloadBin, 'pause'],
        // the agent's state (pods' logs and files, its socket) is no container's business
        hide: [o.stateDir],
        // what built-in images run: busybox links (in the state dir), the workload binary and bin/podwire.js, node
        keep: [o.tools.busyboxDir, path.resolve(path.dirname(o.tools.workloadBin), '../..'), process.execPath],
      },
    );
  }

  async start(): Promise<void> {
    this.runtime.adopt();
    this.informer = new Informer(this.o.client, 'pods', { fieldSelector: `spec.nodeName=${this.o.node}` }, (m) =>
      this.o.log(`kubelet: ${m}`),
    );
    const onPod = (p: KubeObject) => this.enqueue(apiPodKey(p.metadata.namespace ?? 'default', p.metadata.name));
    this.informer.on({ added: onPod, modified: onPod, deleted: onPod });
    await this.informer.start();
    // Sandboxes and containers of pods that went away while no agent watched.
    for (const rec of this.o.sandboxes.list()) {
      if (!rec.uid) continue;
      this.keyByUid.set(rec.uid, rec.name);
      this.enqueue(rec.name);
    }
    const known = new Set(this.o.sandboxes.list().map((r) => r.uid));
    // hostNetwork pods have no sandbox record: the informer's list says which still run here
    for (const p of this.informer.list())
      if (p.spec?.hostNetwork === true && !p.metadata.deletionTimestamp) {
        known.add(p.metadata.uid);
        this.enqueue(apiPodKey(p.metadata.namespace ?? 'default', p.metadata.name));
      }
    for (const uid of this.runtime.podUids()) if (!known.has(uid)) await this.runtime.stopPod(uid, 0);
  }

  stop(): void {
    this.stopped = true;
    this.informer?.stop();
    this.runtime.close();
    this.tokens?.stop();
    for (const loops of this.probes.values()) for (const l of Object.values(loops)) if (l?.timer) clearTimeout(l.timer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
  }

  /** The hostNetwork pods this node runs (their records: the node's address, no namespace of their own). */
  hostNetworkPods(): PodRecord[] {
    return [...this.hostPods.values()];
  }

  /** The pod object this node runs under a sandbox key. */
  podFor(key: string): KubeObject | undefined {
    const [ns, name] = key.includes('/') ? key.split('/') : ['default', key];
    return this.informer?.get(ns, name);
  }

  private enqueue(key: string): void {
    if (this.stopped) return;
    const next = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.sync(key))
      .catch((e) => this.o.log(`kubelet: sync ${key}: ${(e as Error).stack ?? e}`));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  private retryLater(key: string, ms: number): void {
    if (this.retryTimers.has(key)) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(key);
      this.enqueue(key);
    }, ms);
    t.unref();
    this.retryTimers.set(key, t);
  }

  private async sync(key: string): Promise<void> {
    const pod = this.podFor(key);
    const rec = this.o.sandboxes.get(key) ?? this.hostPods.get(key);
    const gone = !pod || !!pod.metadata.deletionTimestamp;
    if (rec?.uid && (gone || pod!.metadata.uid !== rec.uid)) await this.teardown(rec, pod);
    if (pod?.metadata.deletionTimestamp) {
      // Terminating: its containers are stopped (above); now it may go (the kubelet's final delete, grace 0).
      await this.o.client
        .delete('pods', pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0, uid: pod.metadata.uid })
        .catch((e) => {
          if (!(e instanceof ApiClientError && (e.status === 404 || e.status === 409))) {
            this.o.log(`kubelet: deleting terminated pod ${key}: ${(e as Error).message}`);
            this.retryLater(key, 1000);
          }
        });
      return;
    }
    if (gone) return;
    const uid = pod.metadata.uid!;
    this.keyByUid.set(uid, key);
    let sb = this.o.sandboxes.get(key) ?? this.hostPods.get(key);
    if (!sb && pod.spec.hostNetwork === true) {
      sb = hostNetworkRecord(key, pod.metadata.namespace ?? 'default', uid, this.o.nodeIp);
      this.hostPods.set(key, sb);
      this.o.log(`pod ${key}: hostNetwork, the node's namespace and ${sb.ip}`);
    }
    if (sb && !sb.uid) {
      await this.writeStatus(
        pod,
        undefined,
        `a pod named "${key}" made with \`podwire pod add\` already exists on ${this.o.node}`,
      );
      return;
    }
    if (!sb) {
      try {
        sb = await this.sandboxSlots.run(() =>
          this.o.sandboxes.createForApi(pod.metadata.namespace ?? 'default', pod.metadata.name, uid),
        );
        this.o.log(`pod ${key}: sandbox ${sb.netns}, ${sb.ip}`);
      } catch (e) {
        const msg = `Failed to create pod sandbox: ${(e as Error).message}`;
        this.tell(uid, 'sandbox', pod, 'Warning', 'FailedCreatePodSandBox', msg);
        await this.writeStatus(pod, undefined, msg);
        this.retryLater(key, 2000);
        return;
      }
    }
    // the pod's resolv.conf, hosts and hostname: failing to make them fails the sandbox, as in the kubelet
    let hostname: string;
    try {
      hostname = this.podFiles(pod, sb);
    } catch (e) {
      const msg = `Failed to create pod sandbox: ${(e as Error).message}`;
      this.tell(uid, 'podfiles', pod, 'Warning', 'FailedCreatePodSandBox', msg);
      await this.writeStatus(pod, sb, msg);
      this.retryLater(key, 5000);
      return;
    }
    // the ServiceAccount's token, the CA and the namespace (the kube-api-access volume): without them no container starts
    let saDir: string | null;
    try {
      saDir = await this.serviceAccountFiles(pod);
    } catch (e) {
      const msg = `MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: ${(e as Error).message}`;
      this.tell(uid, 'token', pod, 'Warning', 'FailedMount', msg);
      await this.writeStatus(pod, sb);
      this.retryLater(key, 2000);
      return;
    }
    await this.ensureContainers(pod, sb, hostname, saDir);
    await this.writeStatus(pod, sb);
  }

  /** The pod's projected ServiceAccount directory (fetched once, refreshed by the token manager), or null when it mounts none. */
  private async serviceAccountFiles(pod: KubeObject): Promise<string | null> {
    const uid = pod.metadata.uid!;
    if (!this.tokens) return null;
    if (this.saDirs.has(uid)) return this.saDirs.get(uid)!;
    let mounts = pod.spec?.automountServiceAccountToken !== false;
    if (mounts && typeof pod.spec?.automountServiceAccountToken !== 'boolean') {
      const sa = await this.o.client.tryGet('serviceaccounts', pod.metadata.namespace, serviceAccountOf(pod));
      mounts = mountsToken(pod, sa);
    }
    const dir = mounts ? await this.tokens.ensure(pod) : null;
    this.saDirs.set(uid, dir);
    return dir;
  }

  /** Write the pod's files (once: running containers have them mounted) into its directory; returns the containers' hostname. */
  private podFiles(pod: KubeObject, sb: PodRecord): string {
    const uid = pod.metadata.uid!;
    const written = readPodHostname(this.runtime.etcDir(uid));
    if (written) return written;
    // hostNetwork: the node's hostname (as the node's UTS namespace gives a real one)
    const named = sb.netns
      ? pod
      : {
          ...pod,
          metadata: { ...pod.metadata, name: this.o.node },
          spec: { ...pod.spec, hostname: undefined, subdomain: undefined, setHostnameAsFQDN: undefined },
        };
    const f = podFilesFor(named as PodLike, [sb.ip], this.o.dns);
    for (const w of f.warnings)
      this.tell(
        uid,
        `dns/${w.reason}`,
        pod,
        'Warning',
        w.reason,
        w.reason === 'MissingClusterDNS'
          ? `pod: "${pod.metadata.name}_${pod.metadata.namespace}(${uid})". ${w.message}`
          : w.message,
      );
    writePodFiles(this.runtime.etcDir(uid), f.files);
    return f.hostname;
  }

  private async teardown(rec: PodRecord, pod: KubeObject | undefined): Promise<void> {
    const uid = rec.uid!;
    for (const [k, loops] of this.probes) {
      if (!k.startsWith(`${uid}/`)) continue;
      for (const l of Object.values(loops)) if (l?.timer) clearTimeout(l.timer);
      this.probes.delete(k);
    }
    const grace = Math.min(
      pod?.metadata.deletionGracePeriodSeconds ?? pod?.spec?.terminationGracePeriodSeconds ?? 30,
      this.o.maxGraceSeconds ?? 5,
    );
    await this.runtime.stopPod(uid, grace * 1000);
    this.tokens?.forget(uid);
    this.saDirs.delete(uid);
    if (this.hostPods.get(rec.name) === rec) this.hostPods.delete(rec.name);
    else await this.o.sandboxes.delete(rec.name);
    this.keyByUid.delete(uid);
    for (const t of [...this.told]) if (t.startsWith(`${uid}/`)) this.told.delete(t);
    this.o.log(`pod ${rec.name}: stopped and removed (${rec.ip} released)`);
  }

  /** An event about a pod, from this node's kubelet; repeats within ten minutes bump its count. */
  private event(pod: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.record({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, COMPONENT, this.o.node);
  }

  /** One event per pod and topic: repeated syncs do not repeat it. */
  private tell(
    uid: string,
    topic: string,
    pod: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    const k = `${uid}/${topic}`;
    if (this.told.has(k)) return;
    this.told.add(k);
    this.event(pod, type, reason, message);
  }

  private async ensureContainers(
    pod: KubeObject,
    sb: PodRecord,
    hostname: string,
    saDir: string | null = null,
  ): Promise<void> {
    const uid = pod.metadata.uid!;
    const portOwner = new Map<string, string>();
    const ephemeral = (pod.spec.ephemeralContainers ?? []) as Record<string, any>[];
    const all = [...(pod.spec.containers as Record<string, any>[]), ...ephemeral];
    for (const c of all) {
      const isEphemeral = ephemeral.includes(c);
      const run: ContainerRun = {
        podUid: uid,
        podName: `${pod.metadata.namespace}/${pod.metadata.name}`,
        name: c.name,
        image: c.image,
        argv: [],
        env: {},
        netns: sb.netns,
        hostname,
        // ephemeral containers are never restarted
        restartPolicy: isEphemeral ? 'Never' : (pod.spec.restartPolicy ?? 'Always'),
        etcDir: this.runtime.etcDir(uid),
        ...(saDir ? { serviceAccountDir: saDir } : {}),
        shareProcessNamespace: pod.spec.shareProcessNamespace === true,
        cwd: typeof c.workingDir === 'string' && c.workingDir.startsWith('/') ? c.workingDir : '/',
        stdin: c.stdin === true,
        tty: c.tty === true,
        stdinOnce: c.stdinOnce === true,
        ...(isEphemeral && typeof c.targetContainerName === 'string' ? { targetContainer: c.targetContainerName } : {}),
        hostPID: pod.spec.hostPID === true,
        hostIPC: pod.spec.hostIPC === true,
      };
      // Containers share the pod's network namespace: two may not declare one port.
      let clash: string | null = null;
      for (const p of c.ports ?? []) {
        const k = `${p.containerPort}/${p.protocol ?? 'TCP'}`;
        const other = portOwner.get(k);
        if (other && !clash)
          clash = `port ${k} is already declared by container "${other}" of this pod (containers share the pod's network namespace)`;
        else portOwner.set(k, c.name);
      }
      const v = this.runtime.view(uid, c.name);
      const blocked = !!v && v.pid === null && v.current.state === 'waiting' && BLOCKED.includes(v.current.reason);
      if (v && !blocked) continue; // the runtime has it (running, or restarting per restartPolicy)
      if (clash) {
        this.runtime.block(run, 'PortConflict', clash);
        this.tell(uid, `clash/${c.name}`, pod, 'Warning', 'PortConflict', `container ${c.name}: ${clash}`);
        continue;
      }
      const launch = launchFor(c as never, this.o.tools);
      let env: Record<string, string>;
      try {
        run.security = containerSecurity(c.securityContext, pod.spec.securityContext);
        run.volumes = hostPathBinds(pod.spec, c, run.security.privileged);
      } catch (e) {
        if (!(e instanceof SecurityContextError)) throw e;
        this.runtime.block(run, 'CreateContainerConfigError', e.message);
        this.tell(uid, `security/${c.name}`, pod, 'Warning', 'Failed', `Error: ${e.message}`);
        continue;
      }
      try {
        env = await containerEnv(this.o.client, pod, c, {
          podIp: sb.ip,
          nodeIp: this.o.nodeIp,
          node: this.o.node,
          hostname,
          pathPrepend: launch.pathPrepend,
        });
      } catch (e) {
        if (!(e instanceof ContainerConfigError) && !(e instanceof ApiClientError)) throw e;
        this.runtime.block(run, 'CreateContainerConfigError', (e as Error).message);
        this.tell(uid, `config/${c.name}`, pod, 'Warning', 'Failed', `Error: ${(e as Error).message}`);
        this.retryLater(apiPodKey(pod.metadata.namespace ?? 'default', pod.metadata.name), 3000);
        continue;
      }
      // $(VAR) in command/args expands from the container's environment, built-in or not
      run.argv = launch.argv.map((a: string) => expand(a, env));
      run.env = env;
      if (blocked) this.runtime.forget(uid, c.name);
      this.runtime.start(run);
      this.tell(
        uid,
        `pulled/${c.name}`,
        pod,
        'Normal',
        'Pulled',
        launch.builtin
          ? `Container image "${c.image}": podwire runs its built-in ${launch.builtin} workload`
          : `Container image "${c.image}": podwire runs the command on the node's own binaries`,
      );
      if (launch.notice) this.tell(uid, `notice/${c.name}`, pod, 'Warning', 'NoBuiltInImage', launch.notice);
      this.tell(uid, `started/${c.name}`, pod, 'Normal', 'Started', `Started container ${c.name}`);
      if (!isEphemeral) this.watchProbes(pod, sb, c);
    }
    for (const c of pod.spec.initContainers ?? [])
      this.tell(
        uid,
        `init/${c.name}`,
        pod,
        'Warning',
        'InitContainersNotRun',
        `podwire does not run init containers yet: ${c.name} was skipped`,
      );
  }

  private watchProbes(pod: KubeObject, sb: PodRecord, c: Record<string, any>): void {
    const uid = pod.metadata.uid!;
    const key = `${uid}/${c.name}`;
    if (this.probes.has(key)) return;
    const loops: { readiness?: ProbeLoop; liveness?: ProbeLoop } = {};
    this.probes.set(key, loops);
    const podKey = apiPodKey(pod.metadata.namespace ?? 'default', pod.metadata.name);
    const arm = (kind: 'readiness' | 'liveness', spec: ProbeSpec) => {
      const loop: ProbeLoop = { timer: null, state: new ProbeState(spec), startedAt: '', running: false };
      if (kind === 'liveness') loop.state.ready = true;
      loops[kind] = loop;
      const tick = () =>
        probeOnce().catch((e) => {
          // a probe must never take the agent down; try again next period
          this.o.log(`kubelet: probe ${kind} of ${key}: ${(e as Error).message}`);
          if (this.probes.has(key)) {
            loop.timer = setTimeout(() => void tick(), (spec.periodSeconds ?? 10) * 1000);
            loop.timer.unref();
          }
        });
      const probeOnce = async () => {
        loop.timer = null;
        if (this.stopped || !this.probes.has(key)) return;
        const v = this.runtime.view(uid, c.name);
        if (v?.current.state === 'running') {
          if (v.current.startedAt !== loop.startedAt) {
            // a new run of the container: its readiness starts over
            loop.startedAt = v.current.startedAt;
            loop.state = new ProbeState(spec);
            if (kind === 'liveness') loop.state.ready = true;
          }
          const r = await runProbe(
            spec,
            sb.ip,
            { netns: sb.netns, exec: this.runtime.execTarget(uid, c.name) },
            c.ports,
          );
          const { changed, failedNow } = loop.state.record(r);
          const p = this.podFor(podKey) ?? pod;
          if (kind === 'readiness' && changed) {
            if (!loop.state.ready)
              this.event(p, 'Warning', 'Unhealthy', `Readiness probe failed: ${loop.state.lastMessage}`);
            this.enqueue(podKey);
          }
          if (kind === 'liveness' && failedNow) {
            this.event(p, 'Warning', 'Unhealthy', `Liveness probe failed: ${loop.state.lastMessage}`);
            this.event(p, 'Normal', 'Killing', `Container ${c.name} failed liveness probe, will be restarted`);
            this.runtime.restart(uid, c.name);
          }
        }
        if (this.probes.has(key)) {
          loop.timer = setTimeout(() => void tick(), (spec.periodSeconds ?? 10) * 1000);
          loop.timer.unref();
        }
      };
      loop.timer = setTimeout(() => void tick(), (spec.initialDelaySeconds ?? 0) * 1000);
      loop.timer.unref();
    };
    if (c.readinessProbe) arm('readiness', c.readinessProbe);
    if (c.livenessProbe) arm('liveness', c.livenessProbe);
  }

  private containerViews(pod: KubeObject, which: 'containers' | 'ephemeralContainers'): ContainerView[] {
    const uid = pod.metadata.uid!;
    return ((pod.spec[which] ?? []) as Record<string, any>[]).map((c) => {
      const v = this.runtime.view(uid, c.name);
      const running = v?.current.state === 'running';
      const probe = this.probes.get(`${uid}/${c.name}`)?.readiness;
      const ready =
        running &&
        (probe ? probe.state.ready && probe.startedAt === (v!.current as { startedAt: string }).startedAt : true);
      return {
        name: c.name,
        image: c.image,
        current: v?.current ?? { state: 'waiting', reason: 'ContainerCreating' },
        last: v?.last,
        restartCount: v?.restartCount ?? 0,
        ready,
        started: running,
      };
    });
  }

  /** Write the pod's status when it differs from what the API server holds. */
  private async writeStatus(pod: KubeObject, sb: PodRecord | undefined, sandboxError?: string): Promise<void> {
    const now = isoTime();
    const status = podStatus(
      {
        podIP: sb?.ip,
        hostIP: this.o.nodeIp,
        startTime: pod.status?.startTime ?? now,
        restartPolicy: pod.spec.restartPolicy ?? 'Always',
        containers: this.containerViews(pod, 'containers'),
        ephemeral: this.containerViews(pod, 'ephemeralContainers'),
        sandboxError,
      },
      pod.status,
      now,
    );
    if (canonicalJson(status) === canonicalJson(pod.status)) return;
    try {
      await this.o.client.updateStatus({ ...pod, apiVersion: 'v1', kind: 'Pod', status });
    } catch (e) {
      // A newer version is on its way to the informer; that event syncs again.
      if (e instanceof ApiClientError && e.status === 409) return;
      if (e instanceof ApiClientError && e.status === 404) return;
      this.retryLater(apiPodKey(pod.metadata.namespace ?? 'default', pod.metadata.name), 1000);
      throw e;
    }
  }

  /**
   * What exec enters (as the kubelet's exec, for kubectl exec): the named
   * container, else the one kubectl.kubernetes.io/default-container names,
   * else the pod's first running one — a process in its namespaces and the
   * identity it runs with (exec-spec.ts).
   */
  execTarget(key: string, container?: string): { status: number; body: ExecSpec | { error: string } } {
    const pod = this.podFor(key);
    if (!pod || !this.keyByUid.has(pod.metadata.uid!))
      return { status: 404, body: { error: `pod "${key}" does not run on ${this.o.node}` } };
    const uid = pod.metadata.uid!;
    const names = (pod.spec.containers as { name: string }[]).map((c) => c.name);
    // exec and attach may name an ephemeral container (kubectl debug attaches to it); the default is a regular one
    const ephemeral = ((pod.spec.ephemeralContainers ?? []) as { name: string }[]).map((c) => c.name);
    const wanted = container ?? pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (wanted !== undefined && !names.includes(wanted) && !ephemeral.includes(wanted))
      return { status: 400, body: { error: `container ${wanted} is not valid for pod ${pod.metadata.name}` } };
    for (const name of wanted !== undefined ? [wanted] : names) {
      const t = this.runtime.execTarget(uid, name);
      if (t) return { status: 200, body: toExecSpec(name, t) };
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed')
      return {
        status: 409,
        body: { error: `cannot exec into a container in a completed pod; current phase is ${phase}` },
      };
    return {
      status: 409,
      body: {
        error:
          wanted !== undefined
            ? `container ${wanted} of pod ${pod.metadata.name} is not running`
            : `pod ${pod.metadata.name} has no running container`,
      },
    };
  }

  /** For the log server: the container's log file of a pod this node runs. */
  logFile(namespace: string, name: string, container: string, previous: boolean): string | null {
    const pod = this.informer?.get(namespace, name);
    if (!pod || !this.runtime.has(pod.metadata.uid!, container)) return null;
    return this.runtime.logPath(pod.metadata.uid!, container, previous);
  }
}

/** The runtime's view of a running container as exec-spec.ts spells it (a container from before sandboxes: root, every capability). */
function toExecSpec(container: string, t: NonNullable<ReturnType<ContainerRuntime['execTarget']>>): ExecSpec {
  const sec = t.security ?? { uid: 0, gid: 0, groups: [0], caps: [], privileged: true, noNewPrivs: false };
  return {
    container,
    pid: t.pid,
    uid: sec.uid,
    gid: sec.gid,
    groups: sec.groups,
    caps: sec.caps,
    noNewPrivs: sec.noNewPrivs,
    privileged: sec.privileged,
    env: t.env,
    cwd: t.cwd,
  };
}

/** At most n tasks at once; the rest wait their turn in order. */
class Slots {
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.busy >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.busy++;
    try {
      return await task();
    } finally {
      this.busy--;
      this.waiting.shift()?.();
    }
  }
}
