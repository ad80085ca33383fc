import { z } from 'zod';
import { typeMeta, objectMeta, intOrString, protocol, conditions, quantity, objectReference } from './meta.js';

/**
 * Pod, Service, Endpoints, Node (core/v1). Every field Kubernetes accepts is
 * listed, strictly, down to the levels podwire acts on (containers, ports,
 * env, probes, service ports...). Blocks podwire stores but does not
 * interpret (affinity, security contexts, lifecycle hooks, volume sources,
 * topology spread, status) are accepted as objects without field checks.
 */
const opaque = z.record(z.string(), z.unknown());
const i32 = z.number().int();
const port = i32.min(1).max(65535);

const keyRef = z.strictObject({ name: z.string().optional(), key: z.string(), optional: z.boolean().optional() });

const envVar = z.strictObject({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .strictObject({
      fieldRef: z.strictObject({ apiVersion: z.string().optional(), fieldPath: z.string() }).optional(),
      resourceFieldRef: z
        .strictObject({ containerName: z.string().optional(), resource: z.string(), divisor: quantity.optional() })
        .optional(),
      configMapKeyRef: keyRef.optional(),
      secretKeyRef: keyRef.optional(),
    })
    .optional(),
});

const envFrom = z.strictObject({
  prefix: z.string().optional(),
  configMapRef: z.strictObject({ name: z.string().optional(), optional: z.boolean().optional() }).optional(),
  secretRef: z.strictObject({ name: z.string().optional(), optional: z.boolean().optional() }).optional(),
});

export const probe = z.strictObject({
  exec: z.strictObject({ command: z.array(z.string()).optional() }).optional(),
  httpGet: z
    .strictObject({
      path: z.string().optional(),
      port: intOrString,
      host: z.string().optional(),
      scheme: z.enum(['HTTP', 'HTTPS']).optional(),
      httpHeaders: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
    })
    .optional(),
  tcpSocket: z.strictObject({ port: intOrString, host: z.string().optional() }).optional(),
  grpc: z.strictObject({ port: i32, service: z.string().optional() }).optional(),
  initialDelaySeconds: i32.optional(),
  timeoutSeconds: i32.optional(),
  periodSeconds: i32.optional(),
  successThreshold: i32.optional(),
  failureThreshold: i32.optional(),
  terminationGracePeriodSeconds: i32.optional(),
});

export const containerPort = z.strictObject({
  name: z.string().max(15).optional(),
  containerPort: port,
  protocol: protocol.optional(),
  hostIP: z.string().optional(),
  hostPort: i32.optional(),
});

export const container = z.strictObject({
  name: z.string(),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  ports: z.array(containerPort).optional(),
  envFrom: z.array(envFrom).optional(),
  env: z.array(envVar).optional(),
  resources: z
    .strictObject({
      limits: z.record(z.string(), quantity).optional(),
      requests: z.record(z.string(), quantity).optional(),
      claims: z.array(z.strictObject({ name: z.string(), request: z.string().optional() })).optional(),
    })
    .optional(),
  resizePolicy: z.array(z.strictObject({ resourceName: z.string(), restartPolicy: z.string() })).optional(),
  restartPolicy: z.enum(['Always']).optional(),
  volumeMounts: z
    .array(
      z.strictObject({
        name: z.string(),
        mountPath: z.string(),
        readOnly: z.boolean().optional(),
        recursiveReadOnly: z.string().optional(),
        subPath: z.string().optional(),
        subPathExpr: z.string().optional(),
        mountPropagation: z.string().optional(),
      }),
    )
    .optional(),
  volumeDevices: z.array(z.strictObject({ name: z.string(), devicePath: z.string() })).optional(),
  livenessProbe: probe.optional(),
  readinessProbe: probe.optional(),
  startupProbe: probe.optional(),
  lifecycle: opaque.optional(),
  terminationMessagePath: z.string().optional(),
  terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
  imagePullPolicy: z.enum(['Always', 'Never', 'IfNotPresent']).optional(),
  securityContext: opaque.optional(),
  stdin: z.boolean().optional(),
  stdinOnce: z.boolean().optional(),
  tty: z.boolean().optional(),
});

export const podSpec = z.strictObject({
  activeDeadlineSeconds: i32.optional(),
  affinity: opaque.optional(),
  automountServiceAccountToken: z.boolean().optional(),
  containers: z.array(container).min(1),
  dnsConfig: z
    .strictObject({
      nameservers: z.array(z.string()).optional(),
      searches: z.array(z.string()).optional(),
      options: z.array(z.strictObject({ name: z.string(), value: z.string().optional() })).optional(),
    })
    .optional(),
  dnsPolicy: z.enum(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']).optional(),
  enableServiceLinks: z.boolean().optional(),
  ephemeralContainers: z.array(opaque).optional(),
  hostAliases: z.array(z.strictObject({ ip: z.string(), hostnames: z.array(z.string()).optional() })).optional(),
  hostIPC: z.boolean().optional(),
  hostNetwork: z.boolean().optional(),
  hostPID: z.boolean().optional(),
  hostUsers: z.boolean().optional(),
  hostname: z.string().optional(),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().optional() })).optional(),
  initContainers: z.array(container).optional(),
  nodeName: z.string().optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  os: z.strictObject({ name: z.string() }).optional(),
  overhead: z.record(z.string(), quantity).optional(),
  preemptionPolicy: z.string().optional(),
  priority: i32.optional(),
  priorityClassName: z.string().optional(),
  readinessGates: z.array(z.strictObject({ conditionType: z.string() })).optional(),
  resourceClaims: z.array(opaque).optional(),
  resources: opaque.optional(),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
  runtimeClassName: z.string().optional(),
  schedulerName: z.string().optional(),
  schedulingGates: z.array(z.strictObject({ name: z.string() })).optional(),
  securityContext: opaque.optional(),
  serviceAccount: z.string().optional(),
  serviceAccountName: z.string().optional(),
  setHostnameAsFQDN: z.boolean().optional(),
  shareProcessNamespace: z.boolean().optional(),
  subdomain: z.string().optional(),
  terminationGracePeriodSeconds: i32.optional(),
  tolerations: z
    .array(
      z.strictObject({
        key: z.string().optional(),
        operator: z.enum(['Exists', 'Equal']).optional(),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
        tolerationSeconds: i32.optional(),
      }),
    )
    .optional(),
  topologySpreadConstraints: z.array(opaque).optional(),
  volumes: z.array(z.looseObject({ name: z.string() })).optional(),
});

export const podTemplateSpec = z.strictObject({ metadata: objectMeta.optional(), spec: podSpec });

export const pod = z.strictObject({ ...typeMeta, spec: podSpec, status: opaque.optional() });

export const servicePort = z.strictObject({
  name: z.string().optional(),
  protocol: protocol.optional(),
  appProtocol: z.string().optional(),
  port,
  targetPort: intOrString.optional(),
  nodePort: i32.optional(),
});

export const service = z.strictObject({
  ...typeMeta,
  spec: z
    .strictObject({
      type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
      selector: z.record(z.string(), z.string()).optional(),
      ports: z.array(servicePort).optional(),
      clusterIP: z.string().optional(),
      clusterIPs: z.array(z.string()).optional(),
      externalIPs: z.array(z.string()).optional(),
      externalName: z.string().optional(),
      externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
      internalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
      healthCheckNodePort: i32.optional(),
      ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).optional(),
      ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
      loadBalancerIP: z.string().optional(),
      loadBalancerSourceRanges: z.array(z.string()).optional(),
      loadBalancerClass: z.string().optional(),
      allocateLoadBalancerNodePorts: z.boolean().optional(),
      publishNotReadyAddresses: z.boolean().optional(),
      sessionAffinity: z.enum(['ClientIP', 'None']).optional(),
      sessionAffinityConfig: z
        .strictObject({ clientIP: z.strictObject({ timeoutSeconds: i32.optional() }).optional() })
        .optional(),
      trafficDistribution: z.string().optional(),
    })
    .optional(),
  status: z
    .strictObject({
      loadBalancer: z
        .strictObject({
          ingress: z
            .array(
              z.strictObject({
                ip: z.string().optional(),
                hostname: z.string().optional(),
                ipMode: z.string().optional(),
                ports: z.array(z.strictObject({ port: i32, protocol, error: z.string().optional() })).optional(),
              }),
            )
            .optional(),
        })
        .optional(),
      conditions,
    })
    .optional(),
});

const endpointAddress = z.strictObject({
  ip: z.string(),
  hostname: z.string().optional(),
  nodeName: z.string().optional(),
  targetRef: objectReference.optional(),
});

export const endpoints = z.strictObject({
  ...typeMeta,
  subsets: z
    .array(
      z.strictObject({
        addresses: z.array(endpointAddress).optional(),
        notReadyAddresses: z.array(endpointAddress).optional(),
        ports: z
          .array(
            z.strictObject({
              name: z.string().optional(),
              port,
              protocol: protocol.optional(),
              appProtocol: z.string().optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

export const node = z.strictObject({
  ...typeMeta,
  spec: z
    .strictObject({
      podCIDR: z.string().optional(),
      podCIDRs: z.array(z.string()).optional(),
      providerID: z.string().optional(),
      unschedulable: z.boolean().optional(),
      taints: z
        .array(
          z.strictObject({
            key: z.string(),
            value: z.string().optional(),
            effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
            timeAdded: z.string().optional(),
          }),
        )
        .optional(),
      configSource: opaque.optional(),
      externalID: z.string().optional(),
    })
    .optional(),
  status: opaque.optional(),
});
