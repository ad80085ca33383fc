import { z } from 'zod';
import { SCHEMAS } from './schemas/index.js';
import { objectMeta, labelSelector, ownerReference } from './schemas/meta.js';
import { container, containerPort, podSpec, podTemplateSpec, probe, servicePort } from './schemas/core-workloads.js';
import type { ResourceType } from './resources.js';

/**
 * The OpenAPI v3 component schemas `kubectl explain` reads: one per served
 * kind, generated from the same zod schemas the server validates with (so
 * explain lists exactly the fields podwire accepts), tagged with
 * x-kubernetes-group-version-kind (how kubectl finds a kind's schema), the
 * shared types named as upstream names them (ObjectMeta, PodSpec,
 * Container, …: kubectl shows `<[]Container>`), and Kubernetes' own
 * descriptions for the kinds and the fields learners look up.
 */

/** `io.k8s.api.core.v1`, `io.k8s.api.apps.v1`, … as upstream's definition names */
export function definitionPrefix(r: Pick<ResourceType, 'group' | 'version'>): string {
  if (!r.group) return `io.k8s.api.core.${r.version}`;
  if (r.group.endsWith('.k8s.io')) return `io.k8s.api.${r.group.replace(/\.k8s\.io$/, '')}.${r.version}`;
  if (!r.group.includes('.')) return `io.k8s.api.${r.group}.${r.version}`;
  return `${r.group.split('.').reverse().join('.')}.${r.version}`;
}

const NAMED: [z.ZodType, string][] = [
  [objectMeta, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'],
  [labelSelector, 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'],
  [ownerReference, 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference'],
  [podSpec, 'io.k8s.api.core.v1.PodSpec'],
  [podTemplateSpec, 'io.k8s.api.core.v1.PodTemplateSpec'],
  [container, 'io.k8s.api.core.v1.Container'],
  [containerPort, 'io.k8s.api.core.v1.ContainerPort'],
  [probe, 'io.k8s.api.core.v1.Probe'],
  [servicePort, 'io.k8s.api.core.v1.ServicePort'],
];

/** Upstream's descriptions (k8s.io/api), for the kinds and the fields explain is mostly asked about. */
const KIND_DESCRIPTIONS: Record<string, string> = {
  Pod: 'Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.',
  Service:
    'Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.',
  Deployment: 'Deployment enables declarative updates for Pods and ReplicaSets.',
  ReplicaSet: 'ReplicaSet ensures that a specified number of pod replicas are running at any given time.',
  StatefulSet:
    'StatefulSet represents a set of pods with consistent identities. Identities are defined as: - Network: A single stable DNS and hostname. - Storage: As many VolumeClaims as requested.',
  Namespace: 'Namespace provides a scope for Names. Use of multiple namespaces is optional.',
  Node: 'Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).',
  ConfigMap: 'ConfigMap holds configuration data for pods to consume.',
  Secret:
    'Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.',
  Endpoints: 'Endpoints is a collection of endpoints that implement the actual service.',
  EndpointSlice:
    'EndpointSlice represents a subset of the endpoints that implement a service. For a given service there may be multiple EndpointSlice objects, selected by labels, which must be joined to produce the full set of endpoints.',
  Event: 'Event is a report of an event somewhere in the cluster.',
  NetworkPolicy: 'NetworkPolicy describes what network traffic is allowed for a set of Pods',
  Ingress:
    'Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend. An Ingress can be configured to give services externally-reachable urls, load balance traffic, terminate SSL, offer name based virtual hosting etc.',
  IngressClass:
    'IngressClass represents the class of the Ingress, referenced by the Ingress Spec. The `ingressclass.kubernetes.io/is-default-class` annotation can be used to indicate that an IngressClass should be considered default.',
  ServiceAccount:
    'ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, for an identity * a principal that can be authenticated and authorized * a set of secrets',
  Role: 'Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.',
  ClusterRole:
    'ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.',
  RoleBinding:
    'RoleBinding references a role, but does not contain it.  It can reference a Role in the same namespace or a ClusterRole in the global namespace. It adds who information via Subjects and namespace information by which namespace it exists in.  RoleBindings in a given namespace only have effect in that namespace.',
  ClusterRoleBinding:
    'ClusterRoleBinding references a ClusterRole, but not contain it.  It can reference a ClusterRole in the global namespace, and adds who information via Subject.',
  SelfSubjectAccessReview:
    'SelfSubjectAccessReview checks whether or the current user can perform an action.  Not filling in a spec.namespace means "in all namespaces".  Self is a special case, because users should always be able to check whether they can perform an action',
  SelfSubjectRulesReview:
    "SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace. The returned list of actions may be incomplete depending on the server's authorization mode, and any errors experienced during the evaluation.",
  SelfSubjectReview:
    'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.',
};

const COMMON_FIELDS: Record<string, string> = {
  apiVersion:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
  metadata:
    "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
  spec: 'Specification of the desired behavior of the object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status',
  status:
    'Most recently observed status of the object. Populated by the system. Read-only. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status',
};

/** definition (short name) → field → description */
const FIELD_DESCRIPTIONS: Record<string, Record<string, string>> = {
  ObjectMeta: {
    name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.',
    namespace:
      'Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the "default" namespace, but "default" is the canonical representation.',
    labels:
      'Map of string keys and values that can be used to organize and categorize (scope and select) objects. May match selectors of replication controllers and services.',
    annotations:
      'Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata.',
    ownerReferences:
      'List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected.',
  },
  PodSpec: {
    containers:
      'List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated.',
    initContainers:
      'List of initialization containers belonging to the pod. Init containers are executed in order prior to containers being started.',
    nodeName:
      'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName.',
    nodeSelector:
      "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.",
    restartPolicy: 'Restart policy for all containers within the pod. One of Always, OnFailure, Never.',
    hostNetwork: "Host networking requested for this pod. Use the host's network namespace.",
    dnsPolicy:
      "Set DNS policy for the pod. Defaults to \"ClusterFirst\". Valid values are 'ClusterFirstWithHostNet', 'ClusterFirst', 'Default' or 'None'.",
  },
  Container: {
    name: 'Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated.',
    image: 'Container image name. More info: https://kubernetes.io/docs/concepts/containers/images',
    command:
      "Entrypoint array. Not executed within a shell. The container image's ENTRYPOINT is used if this is not provided.",
    args: "Arguments to the entrypoint. The container image's CMD is used if this is not provided.",
    ports:
      'List of ports to expose from the container. Not specifying a port here DOES NOT prevent that port from being exposed.',
    env: 'List of environment variables to set in the container. Cannot be updated.',
    readinessProbe:
      'Periodic probe of container service readiness. Container will be removed from service endpoints if the probe fails.',
    livenessProbe:
      'Periodic probe of container liveness. Container will be restarted if the probe fails. Cannot be updated.',
  },
  ContainerPort: {
    containerPort: "Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536.",
    protocol: 'Protocol for port. Must be UDP, TCP, or SCTP. Defaults to "TCP".',
    name: 'If specified, this must be an IANA_SVC_NAME and unique within the pod. Each named port in a pod must have a unique name.',
  },
  ServicePort: {
    port: 'The port that will be exposed by this service.',
    targetPort:
      "Number or name of the port to access on the pods targeted by the service. Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME. If this is a string, it will be looked up as a named port in the target Pod's container ports.",
    nodePort: 'The port on each node on which this service is exposed when type is NodePort or LoadBalancer.',
  },
};

/** every served kind's schema and the named shared ones, `#/components/schemas/…` refs between them */
export function componentSchemas(served: ResourceType[]): Record<string, Record<string, any>> {
  const reg = z.registry<{ id: string }>();
  for (const [s, id] of NAMED) reg.add(s, { id });
  for (const r of served) if (SCHEMAS[r.kind]) reg.add(SCHEMAS[r.kind], { id: `${definitionPrefix(r)}.${r.kind}` });
  const out = z.toJSONSchema(reg, {
    target: 'openapi-3.0',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas as Record<string, Record<string, any>>;
  for (const [id, s] of Object.entries(out)) {
    delete s.$schema;
    delete s.id;
    const short = id.split('.').pop()!;
    for (const [f, text] of Object.entries(FIELD_DESCRIPTIONS[short] ?? {}))
      if (s.properties?.[f]) s.properties[f] = describe(s.properties[f], text);
  }
  for (const r of served) {
    const s = out[`${definitionPrefix(r)}.${r.kind}`];
    if (!s) continue;
    s['x-kubernetes-group-version-kind'] = [{ group: r.group, kind: r.kind, version: r.version }];
    if (KIND_DESCRIPTIONS[r.kind]) s.description = KIND_DESCRIPTIONS[r.kind];
    for (const [f, text] of Object.entries(COMMON_FIELDS))
      if (s.properties?.[f]) s.properties[f] = describe(s.properties[f], text);
  }
  return out;
}

/** a description beside a $ref goes in an allOf, as upstream's v3 documents write it */
function describe(s: Record<string, any>, description: string): Record<string, any> {
  if (s.$ref) return { allOf: [{ $ref: s.$ref }], description };
  return { ...s, description };
}
