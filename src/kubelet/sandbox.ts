// What the kubelet needs of the node's pod sandboxes (network namespace,
// veth, address): the agent implements it (agent/pods.ts's PodManager), the
// kubelet only asks — as a kubelet asks its container runtime over CRI.

export interface PodRecord {
  /** the key pods are known by on this node: the name (default namespace, and pods made with `podwire pod add`) or namespace/name */
  name: string;
  /** set for pods from the API server */
  namespace?: string;
  uid?: string;
  ip: string;
  mac: string;
  netns: string;
  hostVeth: string;
  createdAt: string;
}

/** How a Pod object is known on its node (see PodSandboxes.createForApi). */
export const apiPodKey = (namespace: string, name: string) => (namespace === 'default' ? name : `${namespace}/${name}`);

export interface PodSandboxes {
  list(): PodRecord[];
  get(name: string): PodRecord | undefined;
  /** a sandbox for an API server Pod, known by apiPodKey(namespace, name) */
  createForApi(namespace: string, name: string, uid: string): Promise<PodRecord>;
  delete(name: string): Promise<PodRecord>;
}
