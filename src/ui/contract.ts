/**
 * The wire contract between `podwire ui`'s server (src/ui/*.ts, Node) and its
 * page (src/ui/web/, bundled for the browser). Types only: both sides import
 * this file, so a change here is a change to both — keep it the one place the
 * JSON shapes are written down.
 *
 * Transport: live data by Server-Sent Events on GET /api/events (one event
 * name per message type below, `data:` a JSON object); everything else JSON
 * over plain HTTP on 127.0.0.1. Write requests (POST) must carry the header
 * `x-podwire-ui: <token>` with the token of GET /api/session and, when the
 * browser sends one, an Origin equal to the page's own: a page of any other
 * origin is refused with 403.
 */

/** GET /api/session */
export interface UiSession {
  lab: string;
  /** for the x-podwire-ui header of every POST */
  token: string;
  /** what this server can do here (instructor controls need the lab's state dir) */
  features: { instructor: boolean; step: boolean };
}

// ---- SSE on GET /api/events ----------------------------------------------

/** event: topology — the whole picture, sent on connect and whenever it changes */
export interface UiTopology {
  nodes: UiNode[];
  pods: UiPod[];
  services: UiService[];
  policies: UiPolicy[];
  ingresses: { namespace: string; name: string; hosts: string[] }[];
}
export interface UiNode {
  name: string;
  /** the underlay (eth0) address */
  ip: string;
  podCidr: string;
  /** cbr0's address, the pods' gateway */
  gateway: string;
  ready: boolean;
  agent: 'up' | 'down';
}
export interface UiPod {
  namespace: string;
  name: string;
  ip: string;
  node: string;
  labels: Record<string, string>;
  phase: string;
  ready: boolean;
  /** the cluster's own pods, drawn as what they are */
  role?: 'dns' | 'ingress';
}
export interface UiService {
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  ports: { port: number; protocol: string; targetPort: string | number; nodePort?: number }[];
  backends: { pod?: string; ip: string; port: number; ready: boolean }[];
}
export interface UiPolicy {
  namespace: string;
  name: string;
  /** kubectl's rendering of spec.podSelector ("app=web", "<none>" for all) */
  podSelector: string;
  policyTypes: string[];
}

/** one hop of a flow's drawn path */
export type UiHop =
  | { kind: 'pod'; id: string } // "ns/name"
  | { kind: 'bridge'; node: string } // cbr0
  | { kind: 'agent'; node: string }
  | { kind: 'vxlan'; from: string; to: string } // node names, over eth0
  | { kind: 'underlay'; node: string } // out of eth0 untunnelled (masquerade, outside client)
  | { kind: 'service'; id: string }; // "ns/name": the frontend a flow went through

/** event: flows — what changed in the last window (≈ 500 ms), aggregated: one entry per flow, never one per packet */
export interface UiFlowBatch {
  windowMs: number;
  flows: UiFlow[];
  /** events of conversations left out because the window already held its cap of entries (absent: none) */
  overflow?: number;
}
export interface UiFlow {
  /** stable for the same conversation: proto, src, dst, dst port (after the Service's translation the backend is in `backend`) */
  key: string;
  proto: string;
  src: { ip: string; pod?: string; node?: string };
  dst: { ip: string; pod?: string; node?: string; port?: number };
  service?: string;
  backend?: string;
  verdict: 'FORWARDED' | 'DROPPED' | 'TRANSLATED';
  /** drop reason (the agent's, as observe prints it) */
  reason?: string;
  /** where it was dropped: the node and the hop of `path` */
  dropAt?: { node: string; hop: number };
  path: UiHop[];
  /** events folded into this entry in the window */
  events: number;
  lastSeen: string;
}

/** event: drop — each drop as observe shows it (rate-limited by the server; `suppressed` says how many were folded) */
export interface UiDrop {
  time: string;
  node: string;
  reason: string;
  detail?: string;
  proto: string;
  src: string;
  dst: string;
  srcPod?: string;
  dstPod?: string;
  suppressed?: number;
}

/** event: status — the sources the server follows; sent on change (the page says "reconnecting …") */
export interface UiStatus {
  apiserver: 'up' | 'down';
  agents: Record<string, 'up' | 'down'>;
  message?: string;
}

// ---- request/response ----------------------------------------------------

/** POST /api/trace  { from: "ns/pod" | "pod", to: "ns/pod" | a DNS name | an IP, port?, proto? } */
export interface UiTraceRequest {
  from: string;
  to: string;
  port?: number;
  proto?: 'tcp' | 'udp' | 'icmp';
}
/** the articles' layer ladder: DNS → Service → NetworkPolicy → Route → VXLAN → Delivery */
export type UiLayerName = 'DNS' | 'Service' | 'NetworkPolicy' | 'Route' | 'VXLAN' | 'Delivery';
export interface UiLayer {
  name: UiLayerName;
  state: 'passed' | 'dropped' | 'skipped' | 'pending';
  node?: string;
  /** one line, as the CLI's trace says it */
  summary: string;
  /** the packet's fields at this layer (outer IPs, VNI, source port; frontend, backend, conntrack; policy, rule …) */
  fields: Record<string, string>;
  reason?: string;
}
export interface UiTraceResult {
  id: string;
  verdict: string;
  summary: string;
  layers: UiLayer[];
  /** GET: the pcapng of this probe's packets as the agents captured them */
  pcapUrl?: string;
}

/** POST /api/step { …UiTraceRequest } starts; POST /api/step/:id/next releases the probe one layer */
export interface UiStepState {
  id: string;
  /** the layers reached so far; the last one is where the probe is held now */
  layers: UiLayer[];
  done: boolean;
  verdict?: string;
}

/** GET /api/probe?namespace=… — podwire probe's matrix */
export interface UiProbeMatrix {
  namespace: string;
  pods: string[];
  port: number;
  proto: string;
  /** [from][to] */
  cells: UiProbeCell[][];
}
export interface UiProbeCell {
  from: string;
  to: string;
  observed: 'allowed' | 'blocked' | 'not-probed';
  expected: 'allowed' | 'blocked';
  /** which policy isolates, which rule allows (podwire policy explain's words) */
  explain: string;
}

/** GET /api/scenarios */
export interface UiScenario {
  name: string;
  summary: string;
  findWith: string;
  target: string;
  defaultTarget?: string;
  /** targets it is broken on now */
  broken: string[];
}
/** POST /api/break { scenario, target? } · POST /api/fix { scenario?, target? } · POST /api/reset → { ok, message } */
export interface UiActionResult {
  ok: boolean;
  message: string;
}
