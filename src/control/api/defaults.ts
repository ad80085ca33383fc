/**
 * The defaults Kubernetes' API server fills into an object before it stores
 * it, so that `kubectl get -o yaml` and `describe` show what a real cluster
 * shows. Rule for rule as in Kubernetes v1.30: pkg/apis/core/v1/defaults.go,
 * pkg/apis/apps/v1/defaults.go, pkg/apis/networking/v1/defaults.go,
 * pkg/apis/discovery/v1/defaults.go and the zz_generated.defaults.go that
 * walk them (which defaulter runs on which nested field), with the feature
 * gates at their v1.30 defaults (StatefulSetAutoDeletePVC and
 * LoadBalancerIPMode on, InPlacePodVerticalScaling off).
 *
 * Defaulting only fills what is unset; it never removes a field or replaces
 * a value the client chose. "Unset" is what Go sees after decoding: a
 * pointer field (`*int32`, `*string`, a struct pointer) is unset when it is
 * absent or null; a plain field (`string`, `int32`, a slice) is unset when it
 * is absent, null or its zero value ("", 0, []), because Go cannot tell those
 * apart and upstream defaults them too (`timeoutSeconds: 0` becomes 1,
 * `policyTypes: []` becomes [Ingress], `imagePullPolicy: ""` is filled).
 *
 * Two fields are not defaults upstream but always appear in what the API
 * server writes back, so they are filled here too: a container's
 * `resources: {}` and a NetworkPolicy's `spec.podSelector: {}` (non-pointer
 * structs Go always serializes). And `spec.finalizers: [kubernetes]` on a
 * Namespace comes from the namespace create strategy (PrepareForCreate).
 *
 * Deliberately left out:
 * - Service type/ports/traffic policies/IP families: service-alloc.ts does
 *   them (with the allocation). Also not done: clearing sessionAffinityConfig
 *   when sessionAffinity is None (upstream drops it; it removes a client field).
 * - Quantities are stored as sent: SetDefaults_ResourceList rounds them up to
 *   milli scale and the API server re-serializes them canonically ("0.5" as "500m").
 * - The Namespace `kubernetes.io/metadata.name` label is added when missing;
 *   upstream also overwrites a different value, which would change a client
 *   field. Likewise a Namespace with finalizers but not `kubernetes` keeps its
 *   list (upstream appends `kubernetes` on create).
 * - Volume sources podwire cannot mount and whose defaults are legacy
 *   in-tree plugin settings: iscsi, rbd, azureDisk, scaleIO.
 * - Other always-serialized empties: `metadata.creationTimestamp: null` in pod
 *   templates and volume claim templates, the `apiVersion`/`kind` of volume
 *   claim templates, `status: {}`: status belongs to the server's initial status.
 * - Gateway API CRD defaults (HTTPRoute matches PathPrefix "/", backendRef
 *   weight 1, listener allowedRoutes...): CRD schema defaults, not these files.
 * - ConfigMap `data: {}` (upstream sets an empty map that is never serialized).
 * - Defaults behind gates that are off in v1.30 (resizePolicy, image volumes,
 *   pod-level resources).
 */

type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** A pointer field: filled when absent or null. */
function fill(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

/** A plain field: also filled when it holds Go's zero value. */
function fillZero(o: Obj, key: string, value: unknown): void {
  const v = o[key];
  if (v === undefined || v === null || v === '' || v === 0 || (Array.isArray(v) && v.length === 0)) o[key] = value;
}

/** A non-pointer struct field: created when unset. A non-object (invalid) value is left for validation to refuse. */
function struct(o: Obj, key: string): Obj {
  fill(o, key, {});
  return isObj(o[key]) ? o[key] : {};
}

export function applyDefaults(kind: string, obj: Record<string, any>): Record<string, any> {
  const o = structuredClone(obj);
  if (!isObj(o)) return o;
  DEFAULTERS[kind]?.(o);
  return o;
}

const DEFAULTERS: Record<string, (o: Obj) => void> = {
  Pod: defaultPod,
  Deployment: defaultDeployment,
  ReplicaSet: defaultReplicaSet,
  StatefulSet: defaultStatefulSet,
  NetworkPolicy: defaultNetworkPolicy,
  IngressClass: (o) => {
    if (isObj(o.spec?.parameters)) fill(o.spec.parameters, 'scope', 'Cluster');
  },
  Endpoints: (o) => {
    for (const s of objects(o.subsets)) for (const p of objects(s.ports)) fillZero(p, 'protocol', 'TCP');
  },
  EndpointSlice: (o) => {
    for (const p of objects(o.ports)) {
      fill(p, 'name', '');
      fill(p, 'protocol', 'TCP');
    }
  },
  Namespace: defaultNamespace,
  Secret: (o) => fillZero(o, 'type', 'Opaque'),
  Service: defaultService,
  Node: (o) => {
    // SetDefaults_NodeStatus: allocatable is the capacity unless reported.
    if (isObj(o.status) && isObj(o.status.capacity)) fill(o.status, 'allocatable', structuredClone(o.status.capacity));
  },
};

// ---------------------------------------------------------------- Pods and pod templates

/** SetDefaults_Pod: only for Pods, not for the pod templates of workloads. */
function defaultPod(pod: Obj): void {
  if (!isObj(pod.spec)) return;
  const spec = pod.spec;
  // Requests default to limits, per resource.
  for (const c of [...objects(spec.containers), ...objects(spec.initContainers)]) {
    const res = c.resources;
    if (!isObj(res) || !isObj(res.limits)) continue;
    for (const [name, q] of Object.entries(res.limits)) {
      fill(res, 'requests', {});
      if (isObj(res.requests)) fill(res.requests, name, q);
    }
  }
  fill(spec, 'enableServiceLinks', true);
  // With host networking a container port is a host port.
  if (spec.hostNetwork === true) {
    for (const c of [...objects(spec.containers), ...objects(spec.initContainers)]) {
      for (const p of objects(c.ports))
        if (typeof p.containerPort === 'number') fillZero(p, 'hostPort', p.containerPort);
    }
  }
  defaultPodSpec(spec);
}

/** SetDefaults_PodSpec and what the generated defaulters run below a PodSpec (Pods and templates alike). */
function defaultPodSpec(spec: Obj): void {
  fillZero(spec, 'dnsPolicy', 'ClusterFirst');
  fillZero(spec, 'restartPolicy', 'Always');
  fill(spec, 'securityContext', {});
  fill(spec, 'terminationGracePeriodSeconds', 30);
  fillZero(spec, 'schedulerName', 'default-scheduler');
  for (const v of objects(spec.volumes)) defaultVolume(v);
  for (const c of [...objects(spec.initContainers), ...objects(spec.containers), ...objects(spec.ephemeralContainers)])
    defaultContainer(c);
}

function defaultPodTemplate(template: unknown): void {
  if (isObj(template) && isObj(template.spec)) defaultPodSpec(template.spec);
}

function defaultContainer(c: Obj): void {
  // SetDefaults_Container
  fillZero(
    c,
    'imagePullPolicy',
    imageTag(typeof c.image === 'string' ? c.image : '') === 'latest' ? 'Always' : 'IfNotPresent',
  );
  fillZero(c, 'terminationMessagePath', '/dev/termination-log');
  fillZero(c, 'terminationMessagePolicy', 'File');
  // ContainerPort.Protocol: +default="TCP"
  for (const p of objects(c.ports)) fillZero(p, 'protocol', 'TCP');
  for (const e of objects(c.env)) if (isObj(e.valueFrom?.fieldRef)) fillZero(e.valueFrom.fieldRef, 'apiVersion', 'v1');
  fill(c, 'resources', {});
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe']) if (isObj(c[k])) defaultProbe(c[k]);
  for (const k of ['postStart', 'preStop'])
    if (isObj(c.lifecycle?.[k]?.httpGet)) defaultHttpGet(c.lifecycle[k].httpGet);
}

/** SetDefaults_Probe, SetDefaults_HTTPGetAction, GRPCAction.Service +default="" */
function defaultProbe(p: Obj): void {
  fillZero(p, 'timeoutSeconds', 1);
  fillZero(p, 'periodSeconds', 10);
  fillZero(p, 'successThreshold', 1);
  fillZero(p, 'failureThreshold', 3);
  if (isObj(p.httpGet)) defaultHttpGet(p.httpGet);
  if (isObj(p.grpc)) fill(p.grpc, 'service', '');
}

function defaultHttpGet(h: Obj): void {
  fillZero(h, 'path', '/');
  fillZero(h, 'scheme', 'HTTP');
}

/** 0644, the mode upstream gives secret, configMap, downwardAPI and projected files. */
const DEFAULT_MODE = 0o644;

function defaultVolume(v: Obj): void {
  // SetDefaults_Volume: a volume without a source is an emptyDir.
  if (!Object.keys(v).some((k) => k !== 'name' && v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  if (isObj(v.hostPath)) fill(v.hostPath, 'type', '');
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected'])
    if (isObj(v[k])) fill(v[k], 'defaultMode', DEFAULT_MODE);
  const fieldRefs = (items: unknown) => {
    for (const i of objects(items)) if (isObj(i.fieldRef)) fillZero(i.fieldRef, 'apiVersion', 'v1');
  };
  fieldRefs(v.downwardAPI?.items);
  for (const s of objects(v.projected?.sources)) {
    fieldRefs(s.downwardAPI?.items);
    if (isObj(s.serviceAccountToken)) fill(s.serviceAccountToken, 'expirationSeconds', 3600);
  }
  if (isObj(v.ephemeral?.volumeClaimTemplate))
    fill(struct(v.ephemeral.volumeClaimTemplate, 'spec'), 'volumeMode', 'Filesystem');
}

// ---------------------------------------------------------------- Workloads

function defaultDeployment(d: Obj): void {
  if (!isObj(d.spec)) return;
  const spec = d.spec;
  fill(spec, 'replicas', 1);
  const strategy = struct(spec, 'strategy');
  fillZero(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = struct(strategy, 'rollingUpdate');
    fill(ru, 'maxUnavailable', '25%');
    fill(ru, 'maxSurge', '25%');
  }
  fill(spec, 'revisionHistoryLimit', 10);
  fill(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec.template);
}

function defaultReplicaSet(r: Obj): void {
  if (!isObj(r.spec)) return;
  fill(r.spec, 'replicas', 1);
  if (isObj(r.spec.template)) defaultPodTemplate(r.spec.template);
}

function defaultStatefulSet(s: Obj): void {
  if (!isObj(s.spec)) return;
  const spec = s.spec;
  fillZero(spec, 'podManagementPolicy', 'OrderedReady');
  const us = struct(spec, 'updateStrategy');
  // rollingUpdate is created only along with a defaulted type: an explicit
  // `type: RollingUpdate` without it stays without it, as upstream.
  if (us.type === undefined || us.type === null || us.type === '') {
    us.type = 'RollingUpdate';
    fill(us, 'rollingUpdate', {});
  }
  if (us.type === 'RollingUpdate' && isObj(us.rollingUpdate)) fill(us.rollingUpdate, 'partition', 0);
  const retention = struct(spec, 'persistentVolumeClaimRetentionPolicy');
  fillZero(retention, 'whenDeleted', 'Retain');
  fillZero(retention, 'whenScaled', 'Retain');
  fill(spec, 'replicas', 1);
  fill(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec.template);
  // SetDefaults_PersistentVolumeClaim and SetDefaults_PersistentVolumeClaimSpec
  for (const t of objects(spec.volumeClaimTemplates)) {
    fill(struct(t, 'spec'), 'volumeMode', 'Filesystem');
    fillZero(struct(t, 'status'), 'phase', 'Pending');
  }
}

// ---------------------------------------------------------------- Networking and the rest

function defaultNetworkPolicy(np: Obj): void {
  const spec = struct(np, 'spec');
  fill(spec, 'podSelector', {});
  // Any policy that does not name its types is at least Ingress; Egress too if it has egress rules.
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  for (const rule of [...objects(spec.ingress), ...objects(spec.egress)])
    for (const p of objects(rule.ports)) fill(p, 'protocol', 'TCP');
}

function defaultNamespace(ns: Obj): void {
  const name = ns.metadata?.name;
  // Not for generateName: upstream labels those once the name is chosen.
  if (typeof name === 'string' && name !== '' && isObj(ns.metadata))
    fill(struct(ns.metadata, 'labels'), 'kubernetes.io/metadata.name', name);
  fillZero(struct(ns, 'spec'), 'finalizers', ['kubernetes']);
  fillZero(struct(ns, 'status'), 'phase', 'Active');
}

/** What SetDefaults_Service does beyond service-alloc.ts. */
function defaultService(svc: Obj): void {
  const spec = isObj(svc.spec) ? svc.spec : {};
  if (spec.sessionAffinity === 'ClientIP')
    fill(struct(struct(spec, 'sessionAffinityConfig'), 'clientIP'), 'timeoutSeconds', 10800);
  if (spec.type === 'LoadBalancer') {
    for (const ing of objects(svc.status?.loadBalancer?.ingress))
      if (typeof ing.ip === 'string' && ing.ip !== '') fill(ing, 'ipMode', 'VIP');
  }
}

// ---------------------------------------------------------------- Image references

// github.com/distribution/reference (v0.5.0, as vendored by Kubernetes v1.30).
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_MAX = 255;

/**
 * The tag of an image as Kubernetes' parsers.ParseImageName sees it:
 * "latest" when neither a tag nor a digest is given, "" for a digest alone
 * or a reference it cannot parse (which then pulls IfNotPresent, as upstream).
 */
function imageTag(image: string): string {
  if (/^[a-f0-9]{64}$/.test(image)) return '';
  // ParseNormalizedNamed: "nginx" is docker.io/library/nginx.
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const dockerHub = slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first);
  let domain = dockerHub ? 'docker.io' : first;
  let rest = dockerHub ? image : image.slice(slash + 1);
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  const remote = rest.includes(':') ? rest.slice(0, rest.indexOf(':')) : rest;
  if (remote.toLowerCase() !== remote) return '';
  const m = REFERENCE.exec(`${domain}/${rest}`);
  if (!m || m[1].length > NAME_MAX) return '';
  if (m[2] !== undefined) return m[2];
  return m[3] !== undefined ? '' : 'latest';
}
