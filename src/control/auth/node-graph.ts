/**
 * What the Node authorizer reads: which node each pod is bound to and which
 * Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccount it uses —
 * kube-apiserver's node graph (plugin/pkg/auth/authorizer/node/graph.go),
 * kept flat: pod → {node, references}, and per node a count of each object
 * its pods use, so a check is one map lookup. Pure: the auth cache feeds it
 * the pods it watches.
 */
export type NodeGraphKind = 'secrets' | 'configmaps' | 'persistentvolumeclaims' | 'serviceaccounts';

export interface PodReferences {
  secrets: string[];
  configmaps: string[];
  persistentvolumeclaims: string[];
  serviceaccounts: string[];
}

type Obj = Record<string, any>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : []);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/**
 * The objects a pod's kubelet needs (podutil.VisitPodSecretNames,
 * VisitPodConfigmapNames, the PVC and ServiceAccount edges of the graph
 * populator): imagePullSecrets; every container's (init and ephemeral too)
 * env valueFrom and envFrom; secret, configMap, projected and
 * persistentVolumeClaim volumes; spec.serviceAccountName (`default` when
 * unset, as the ServiceAccount admission would have set it).
 */
export function podReferences(pod: Obj): PodReferences {
  const spec: Obj = pod?.spec ?? {};
  const secrets = new Set<string>();
  const configmaps = new Set<string>();
  const pvcs = new Set<string>();
  const add = (set: Set<string>, v: unknown) => {
    const s = str(v);
    if (s) set.add(s);
  };
  for (const s of arr(spec.imagePullSecrets)) add(secrets, s.name);
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)]) {
    for (const e of arr(c.env)) {
      add(secrets, e.valueFrom?.secretKeyRef?.name);
      add(configmaps, e.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of arr(c.envFrom)) {
      add(secrets, e.secretRef?.name);
      add(configmaps, e.configMapRef?.name);
    }
  }
  for (const v of arr(spec.volumes)) {
    add(secrets, v.secret?.secretName);
    add(configmaps, v.configMap?.name);
    add(pvcs, v.persistentVolumeClaim?.claimName);
    for (const src of arr(v.projected?.sources)) {
      add(secrets, src.secret?.name);
      add(configmaps, src.configMap?.name);
    }
  }
  return {
    secrets: [...secrets].sort(),
    configmaps: [...configmaps].sort(),
    persistentvolumeclaims: [...pvcs].sort(),
    serviceaccounts: [str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default'],
  };
}

interface PodEntry {
  node: string;
  namespace: string;
  refs: PodReferences;
}

const KINDS: NodeGraphKind[] = ['secrets', 'configmaps', 'persistentvolumeclaims', 'serviceaccounts'];

export class NodeGraph {
  /** `ns/name` of a pod → where it is bound and what it uses (only pods with spec.nodeName) */
  private readonly pods = new Map<string, PodEntry>();
  /** node → `kind/ns/name` → how many of its pods use it */
  private readonly uses = new Map<string, Map<string, number>>();

  /** A pod added or changed: bound pods count for their node, unbound ones for none. */
  setPod(pod: Obj): void {
    const m = pod?.metadata ?? {};
    const key = `${m.namespace}/${m.name}`;
    this.removeKey(key);
    const node = str(pod?.spec?.nodeName);
    if (!node) return;
    const entry: PodEntry = { node, namespace: String(m.namespace ?? 'default'), refs: podReferences(pod) };
    this.pods.set(key, entry);
    this.count(entry, 1);
  }

  removePod(pod: Obj): void {
    const m = pod?.metadata ?? {};
    this.removeKey(`${m.namespace}/${m.name}`);
  }

  clear(): void {
    this.pods.clear();
    this.uses.clear();
  }

  /** Does a pod bound to `node` use this object? */
  related(node: string, kind: NodeGraphKind, namespace: string, name: string): boolean {
    return (this.uses.get(node)?.get(`${kind}/${namespace}/${name}`) ?? 0) > 0;
  }

  private removeKey(key: string): void {
    const old = this.pods.get(key);
    if (!old) return;
    this.pods.delete(key);
    this.count(old, -1);
  }

  private count(e: PodEntry, by: 1 | -1): void {
    let m = this.uses.get(e.node);
    if (!m) this.uses.set(e.node, (m = new Map()));
    for (const kind of KINDS)
      for (const name of e.refs[kind]) {
        const k = `${kind}/${e.namespace}/${name}`;
        const n = (m.get(k) ?? 0) + by;
        if (n > 0) m.set(k, n);
        else m.delete(k);
      }
    if (!m.size) this.uses.delete(e.node);
  }
}
