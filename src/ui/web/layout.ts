import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import type { UiHop, UiTopology } from '../contract.js';

/**
 * Where everything of the topology goes, computed by elkjs (the Eclipse Layout Kernel): the
 * articles' two-node picture as a compound graph. Each node is a box laid out bottom-up — eth0 at
 * the bottom on the shared underlay, the agent, cbr0, then its pods packed in a grid on top —
 * and the Services sit above the nodes that hold their backends. The page draws the boxes and
 * straight lines between their centres itself (SVG, so every name is text in the DOM).
 */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface TopoLayout {
  width: number;
  height: number;
  boxes: Map<string, Box>;
}

export const POD_W = 224;
export const POD_H = 58;
const PART_W = 150; // eth0, agent, cbr0
const PART_H = 30;
const SVC_W = 176;
const SVC_H = 44;

export const ids = {
  node: (n: string) => `node:${n}`,
  pods: (n: string) => `pods:${n}`,
  eth0: (n: string) => `eth0:${n}`,
  agent: (n: string) => `agent:${n}`,
  cbr0: (n: string) => `cbr0:${n}`,
  pod: (nsName: string) => `pod:${nsName}`,
  svc: (nsName: string) => `svc:${nsName}`,
  underlay: 'underlay',
};

/** Changes only when something is added or removed: a relayout is needed then, not on every event. */
export function structureKey(t: UiTopology): string {
  return [
    t.nodes.map((n) => n.name).join(','),
    t.pods.map((p) => `${p.namespace}/${p.name}@${p.node}`).join(','),
    t.services.map((s) => `${s.namespace}/${s.name}:${s.backends.map((b) => b.pod ?? b.ip).join('+')}`).join(','),
  ].join('|');
}

export function elkGraph(t: UiTopology): ElkNode {
  const part = (id: string): ElkNode => ({ id, width: PART_W, height: PART_H });
  const nodeBoxes: ElkNode[] = t.nodes.map((n) => {
    const pods = t.pods.filter((p) => p.node === n.name);
    const podsGroup: ElkNode = {
      id: ids.pods(n.name),
      layoutOptions: {
        // rectpacking fills rows to the aspect ratio (box stacks them in one column)
        'elk.algorithm': 'rectpacking',
        'elk.aspectRatio': '1.6',
        'elk.spacing.nodeNode': '10',
        'elk.padding': '[top=6,left=6,bottom=6,right=6]',
      },
      // an empty group keeps its place (a node without pods still shows where they would be)
      children: pods.length
        ? pods.map((p) => ({ id: ids.pod(`${p.namespace}/${p.name}`), width: POD_W, height: POD_H }))
        : [{ id: `${ids.pods(n.name)}:empty`, width: POD_W, height: 20 }],
    };
    return {
      id: ids.node(n.name),
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': 'UP',
        'elk.spacing.nodeNodeBetweenLayers': '16',
        'elk.padding': '[top=34,left=12,bottom=12,right=12]',
      },
      children: [podsGroup, part(ids.cbr0(n.name)), part(ids.agent(n.name)), part(ids.eth0(n.name))],
      edges: [
        { id: `e:${n.name}:1`, sources: [ids.eth0(n.name)], targets: [ids.agent(n.name)] },
        { id: `e:${n.name}:2`, sources: [ids.agent(n.name)], targets: [ids.cbr0(n.name)] },
        { id: `e:${n.name}:3`, sources: [ids.cbr0(n.name)], targets: [ids.pods(n.name)] },
      ],
    };
  });
  const podNode = new Map(t.pods.map((p) => [`${p.namespace}/${p.name}`, p.node]));
  const edges: ElkNode['edges'] = [];
  for (const s of t.services) {
    const nodes = new Set<string>();
    for (const b of s.backends) {
      const n = b.pod ? podNode.get(b.pod.includes('/') ? b.pod : `${s.namespace}/${b.pod}`) : undefined;
      if (n) nodes.add(n);
    }
    for (const n of nodes)
      edges.push({
        id: `s:${s.namespace}/${s.name}:${n}`,
        sources: [ids.svc(`${s.namespace}/${s.name}`)],
        targets: [ids.node(n)],
      });
  }
  for (const n of t.nodes) edges.push({ id: `u:${n.name}`, sources: [ids.node(n.name)], targets: [ids.underlay] });
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.nodeNodeBetweenLayers': '36',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      // node1 left of node2, Services in the API's order: the picture keeps its places as it changes
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.padding': '[top=10,left=10,bottom=10,right=10]',
    },
    children: [
      ...t.services.map((s) => ({ id: ids.svc(`${s.namespace}/${s.name}`), width: SVC_W, height: SVC_H })),
      ...nodeBoxes,
      // the underlay: as wide as the nodes together, set after the layout
      { id: ids.underlay, width: 200, height: 24 },
    ],
    edges,
  };
}

const elk = new ELK();

export async function layoutTopology(t: UiTopology): Promise<TopoLayout> {
  const laid = await elk.layout(elkGraph(t));
  const boxes = new Map<string, Box>();
  const walk = (n: ElkNode, ox: number, oy: number) => {
    const x = ox + (n.x ?? 0);
    const y = oy + (n.y ?? 0);
    boxes.set(n.id, { x, y, w: n.width ?? 0, h: n.height ?? 0 });
    for (const c of n.children ?? []) walk(c, x, y);
  };
  // the nodes side by side with tops and bottoms in line: as tall as the tallest, contents at the
  // bottom so every eth0 sits on the underlay at the same height (ELK centres them in their layer)
  const nodeIds = new Set(t.nodes.map((n) => ids.node(n.name)));
  const laidNodes = (laid.children ?? []).filter((c) => nodeIds.has(c.id));
  const top = Math.min(...laidNodes.map((c) => c.y ?? 0));
  const tall = Math.max(...laidNodes.map((c) => c.height ?? 0));
  for (const c of laid.children ?? []) {
    if (!nodeIds.has(c.id)) {
      walk(c, 0, 0);
      continue;
    }
    const grow = tall - (c.height ?? 0);
    boxes.set(c.id, { x: c.x ?? 0, y: top, w: c.width ?? 0, h: tall });
    for (const k of c.children ?? []) walk(k, c.x ?? 0, top + grow);
  }
  // the underlay spans every node: a line the eth0s hang from, as the articles draw it
  const nodeBoxes = t.nodes.map((n) => boxes.get(ids.node(n.name))).filter((b): b is Box => !!b);
  const u = boxes.get(ids.underlay);
  if (u && nodeBoxes.length) {
    const left = Math.min(...nodeBoxes.map((b) => b.x));
    const right = Math.max(...nodeBoxes.map((b) => b.x + b.w));
    const bottom = Math.max(...nodeBoxes.map((b) => b.y + b.h));
    boxes.set(ids.underlay, { x: left, y: Math.max(u.y, bottom + 24), w: right - left, h: u.h });
  }
  let width = laid.width ?? 0;
  let height = laid.height ?? 0;
  for (const b of boxes.values()) {
    width = Math.max(width, b.x + b.w + 10);
    height = Math.max(height, b.y + b.h + 10);
  }
  height += 16; // the underlay's label below it
  return { width, height, boxes };
}

export const centre = (b: Box) => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });

/**
 * The points a flow's path is drawn through, one list per hop (so a drop can be marked at its hop).
 * A VXLAN hop goes down from one eth0 to the underlay, along it, and up into the other eth0.
 */
export function hopPoints(h: UiHop, l: TopoLayout, next?: UiHop, prev?: UiHop): { x: number; y: number }[] {
  const at = (id: string) => {
    const b = l.boxes.get(id);
    return b ? [centre(b)] : [];
  };
  switch (h.kind) {
    case 'pod': {
      // a pod is left (or right) by its side, down a bus beside the pods to cbr0: straight through
      // the boxes the line would cross the other pods' names
      const b = l.boxes.get(ids.pod(h.id));
      if (!b) return [];
      const bridge = next?.kind === 'bridge' ? next : prev?.kind === 'bridge' ? prev : undefined;
      const group = bridge ? l.boxes.get(ids.pods(bridge.node)) : undefined;
      if (!group) return [centre(b)];
      const right = b.x + b.w / 2 > group.x + group.w / 2;
      const edge = { x: right ? b.x + b.w : b.x, y: b.y + b.h / 2 };
      const bus = { x: right ? group.x + group.w - 3 : group.x + 3, y: edge.y };
      const foot = { x: bus.x, y: group.y + group.h };
      return next?.kind === 'bridge' ? [edge, bus, foot] : [foot, bus, edge];
    }
    case 'bridge':
      return at(ids.cbr0(h.node));
    case 'agent':
      return at(ids.agent(h.node));
    case 'underlay':
      return at(ids.eth0(h.node));
    case 'service': {
      // up the left margin of the node the flow comes from, to the Service's frontend above the
      // nodes, and down the right margin of the node it goes on from: around the pods, not across
      const svc = l.boxes.get(ids.svc(h.id));
      if (!svc) return [];
      const bottom = { x: svc.x + svc.w / 2, y: svc.y + svc.h };
      const nodeOf = (x: UiHop | undefined, side: 'prev' | 'next') =>
        !x ? undefined : x.kind === 'vxlan' ? (side === 'next' ? x.from : x.to) : 'node' in x ? x.node : undefined;
      const from = l.boxes.get(ids.node(nodeOf(prev, 'prev') ?? ''));
      const to = l.boxes.get(ids.node(nodeOf(next, 'next') ?? ''));
      const fromAt = prev ? hopPoints(prev, l).at(-1) : undefined;
      const toAt = next ? hopPoints(next, l)[0] : undefined;
      const up =
        from && fromAt
          ? [
              { x: from.x + 5, y: fromAt.y },
              { x: from.x + 5, y: from.y + 5 },
            ]
          : [];
      const down =
        to && toAt
          ? [
              { x: to.x + to.w - 5, y: to.y + 5 },
              { x: to.x + to.w - 5, y: toAt.y },
            ]
          : [];
      return [...up, bottom, ...down];
    }
    case 'vxlan': {
      const a = l.boxes.get(ids.eth0(h.from));
      const b = l.boxes.get(ids.eth0(h.to));
      const u = l.boxes.get(ids.underlay);
      if (!a || !b) return [];
      const y = u ? u.y + u.h / 2 : Math.max(a.y, b.y) + a.h + 20;
      return [centre(a), { x: centre(a).x, y }, { x: centre(b).x, y }, centre(b)];
    }
  }
}
