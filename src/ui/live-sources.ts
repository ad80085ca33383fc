import http from 'node:http';
import { agentSocketPath } from '../agent/index.js';
import { ApiClient, Informer, type ApiServerTarget, type KubeObject } from '../control/client/index.js';
import { onJsonLines, type LabState } from '../lab/index.js';
import type { FlowEvent } from '../observe/index.js';
import type { UiDrop, UiFlowBatch, UiStatus, UiTopology } from './contract.js';
import { DropLimiter, FlowAggregator, dropOf } from './flow-aggregator.js';
import { addressBook, buildTopology, type AddressBook } from './topology-model.js';

/**
 * What `podwire ui` follows: the API server (informers over Nodes, Pods, Services, EndpointSlices,
 * NetworkPolicies, Ingresses) and every agent's /observe stream. Each source that goes away is
 * reported `down` in a status event and tried again with back-off; when it answers again the
 * informers list and watch afresh and the streams reopen. Nothing a source sends can throw out of
 * here: a bad line is skipped, a dropped connection is a status change.
 */

export interface LiveSourcesEvents {
  topology(t: UiTopology): void;
  flows(b: UiFlowBatch): void;
  drop(d: UiDrop): void;
  status(s: UiStatus): void;
}

export interface LiveSourcesOptions {
  lab: LabState;
  server: ApiServerTarget;
  on: LiveSourcesEvents;
  windowMs?: number;
  maxFlows?: number;
  dropsPerSecond?: number;
  /** how long topology changes settle before one event (a Deployment's rollout is many changes) */
  debounceMs?: number;
  log?: (line: string) => void;
}

const KINDS = ['nodes', 'pods', 'services', 'endpointslices', 'networkpolicies', 'ingresses'] as const;
type Kind = (typeof KINDS)[number];

export const BACKOFF_START_MS = 250;
export const BACKOFF_MAX_MS = 5000;
const nextBackoff = (ms: number) => Math.min(ms * 2, BACKOFF_MAX_MS);

export class LiveSources {
  private readonly client: ApiClient;
  private readonly informers: Record<Kind, Informer>;
  private readonly agentReqs = new Map<string, http.ClientRequest>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aggregator: FlowAggregator;
  private readonly drops: DropLimiter;
  private book: AddressBook = addressBook({ nodes: [], pods: [], services: [], policies: [], ingresses: [] });
  private topologyNow: UiTopology | null = null;
  private topologyJson = '';
  private topologyTimer: NodeJS.Timeout | null = null;
  private readonly statusNow: UiStatus;
  private apiProbeMs = BACKOFF_START_MS;
  private apiProbing = false;
  private apiDownSaid = false;
  private stopped = false;
  private readonly flushTimer: NodeJS.Timeout;

  constructor(private readonly opts: LiveSourcesOptions) {
    this.client = new ApiClient(opts.server);
    this.statusNow = {
      apiserver: 'down',
      agents: Object.fromEntries(opts.lab.plan.nodes.map((n) => [n.name, 'down' as const])),
      message: 'connecting',
    };
    const onError = (msg: string) => this.apiDown(msg);
    this.informers = Object.fromEntries(
      KINDS.map((k) => [
        k,
        new Informer(this.client, k, {}, onError).on({
          added: () => this.topologyChanged(),
          modified: () => this.topologyChanged(),
          deleted: () => this.topologyChanged(),
        }),
      ]),
    ) as Record<Kind, Informer>;
    this.aggregator = new FlowAggregator({ book: () => this.book, windowMs: opts.windowMs, maxFlows: opts.maxFlows });
    this.drops = new DropLimiter(Date.now, opts.dropsPerSecond ?? 20);
    this.flushTimer = setInterval(() => {
      const batch = this.aggregator.flush();
      if (batch) this.opts.on.flows(batch);
    }, this.aggregator.windowMs);
    this.flushTimer.unref();
  }

  /** Start following; resolves once the API server's first lists are in (or at once when it is down). */
  async start(timeoutMs = 5000): Promise<void> {
    const synced = Promise.all(KINDS.map((k) => this.informers[k].start())).then(() => this.apiUp());
    for (const n of this.opts.lab.plan.nodes) this.followAgent(n.name, n.stateDir, BACKOFF_START_MS);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([synced, new Promise<void>((r) => (t = setTimeout(r, timeoutMs)))]);
    clearTimeout(t);
    this.computeTopology();
  }

  topology(): UiTopology {
    return this.topologyNow ?? this.computeTopology();
  }

  status(): UiStatus {
    return { ...this.statusNow, agents: { ...this.statusNow.agents } };
  }

  stop(): void {
    this.stopped = true;
    for (const i of Object.values(this.informers)) i.stop();
    for (const r of this.agentReqs.values()) r.destroy();
    for (const t of this.timers) clearTimeout(t);
    if (this.topologyTimer) clearTimeout(this.topologyTimer);
    clearInterval(this.flushTimer);
    this.client.close();
  }

  // ---- topology ----

  private topologyChanged(): void {
    if (this.topologyTimer || this.stopped) return;
    this.topologyTimer = setTimeout(() => {
      this.topologyTimer = null;
      const before = this.topologyJson;
      const t = this.computeTopology();
      if (this.topologyJson !== before) this.opts.on.topology(t);
    }, this.opts.debounceMs ?? 200);
  }

  private computeTopology(): UiTopology {
    const list = (k: Kind) => this.informers[k].list() as KubeObject[];
    const t = buildTopology({
      planNodes: this.opts.lab.plan.nodes,
      nodes: list('nodes'),
      pods: list('pods'),
      services: list('services'),
      endpointSlices: list('endpointslices'),
      policies: list('networkpolicies'),
      ingresses: list('ingresses'),
      agents: this.statusNow.agents,
    });
    this.topologyNow = t;
    this.topologyJson = JSON.stringify(t);
    this.book = addressBook(t);
    return t;
  }

  // ---- status ----

  private setStatus(change: Partial<UiStatus>, agent?: [string, 'up' | 'down']): void {
    const before = JSON.stringify(this.statusNow);
    Object.assign(this.statusNow, change);
    if (agent) this.statusNow.agents[agent[0]] = agent[1];
    const down = [
      ...(this.statusNow.apiserver === 'down' ? ['the API server'] : []),
      ...Object.entries(this.statusNow.agents)
        .filter(([, s]) => s === 'down')
        .map(([n]) => `${n}'s agent`),
    ];
    this.statusNow.message = down.length ? `reconnecting to ${down.join(', ')}` : undefined;
    if (this.statusNow.message === undefined) delete this.statusNow.message;
    if (JSON.stringify(this.statusNow) === before || this.stopped) return;
    this.opts.on.status(this.status());
    if (agent) this.topologyChanged(); // the node's agent: up/down is drawn
  }

  private apiUp(): void {
    this.apiProbeMs = BACKOFF_START_MS;
    if (this.apiDownSaid) this.opts.log?.('api server: answering again');
    this.apiDownSaid = false;
    this.setStatus({ apiserver: 'up' });
  }

  /** An informer failed: the API server is down until GET /version answers again (tried with back-off). */
  private apiDown(msg: string): void {
    if (this.stopped) return;
    // every informer retries on its own: one line when it goes, not one per retry of each kind
    if (!this.apiDownSaid) this.opts.log?.(`api server: ${msg} (reconnecting)`);
    this.apiDownSaid = true;
    this.setStatus({ apiserver: 'down' });
    if (this.apiProbing) return;
    this.apiProbing = true;
    const probe = () =>
      this.later(this.apiProbeMs, () => {
        this.client.request('GET', '/version', undefined, 'application/json', 3000).then(
          () => {
            this.apiProbing = false;
            this.apiUp();
          },
          () => {
            this.apiProbeMs = nextBackoff(this.apiProbeMs);
            probe();
          },
        );
      });
    probe();
  }

  // ---- agents ----

  private followAgent(node: string, stateDir: string, backoffMs: number): void {
    if (this.stopped) return;
    let gone = false;
    const lost = (why: string) => {
      if (gone || this.stopped) return;
      gone = true;
      this.agentReqs.delete(node);
      this.opts.log?.(`${node}'s agent: ${why}`);
      this.setStatus({}, [node, 'down']);
      this.later(backoffMs, () => this.followAgent(node, stateDir, nextBackoff(backoffMs)));
    };
    const req = http.get({ socketPath: agentSocketPath(stateDir), path: '/observe' }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return lost(`/observe answered ${res.statusCode}`);
      }
      backoffMs = BACKOFF_START_MS;
      this.setStatus({}, [node, 'up']);
      onJsonLines(res, (o) => {
        try {
          this.onFlowEvent(o as FlowEvent);
        } catch (err) {
          this.opts.log?.(`${node}: skipped an event: ${(err as Error).message}`);
        }
      });
      res.on('end', () => lost('stream ended'));
      res.on('error', (err) => lost(err.message));
      res.on('close', () => lost('stream closed'));
    });
    req.on('error', (err) => lost(err.message));
    this.agentReqs.set(node, req);
  }

  private onFlowEvent(e: FlowEvent): void {
    if (!e || typeof e !== 'object' || typeof e.node !== 'string') return;
    this.aggregator.add(e);
    if (e.verdict === 'DROPPED') {
      const d = this.drops.admit(dropOf(e, this.book));
      if (d) this.opts.on.drop(d);
    }
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }
}
