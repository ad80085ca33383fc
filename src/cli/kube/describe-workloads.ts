import { rfc1123z, since, selectorString } from '../../control/printers/index.js';
import { templateKey } from '../../control/controllers/index.js';
import {
  annotationsMultiline,
  describeContainers,
  describeEvents,
  labelsMultiline,
  PrefixWriter,
  tolerationsMultiline,
  unstructured,
  type Related,
} from './describe-writer.js';

/**
 * kubectl describe's text for pods, Deployments and StatefulSets (with
 * their pod template), and kubectl's generic describer for kinds without
 * their own. Pure: every input, the clock included, is given.
 */
type Obj = Record<string, any>;

export function controller(o: Obj): string {
  const ref = (o.metadata?.ownerReferences ?? []).find((r: Obj) => r.controller);
  return ref ? `${ref.kind}/${ref.name}` : '';
}

function volumes(w: PrefixWriter, vols: Obj[] | undefined, space: string): void {
  if (!(vols ?? []).length) return void w.write(0, `${space}Volumes:\t<none>\n`);
  w.write(0, `${space}Volumes:\n`);
  for (const v of vols!) {
    w.write(1, `${space ? ' ' : ''}${v.name}:\n`);
    if (v.emptyDir)
      w.write(
        2,
        `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${v.emptyDir.medium ?? ''}\n    SizeLimit:\t${v.emptyDir.sizeLimit ?? '<unset>'}\n`,
      );
    else if (v.configMap)
      w.write(
        2,
        `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${v.configMap.name ?? ''}\n    Optional:\t${!!v.configMap.optional}\n`,
      );
    else if (v.secret)
      w.write(
        2,
        `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${v.secret.secretName ?? ''}\n    Optional:\t${!!v.secret.optional}\n`,
      );
    else if (v.hostPath)
      w.write(
        2,
        `Type:\tHostPath (bare host directory volume)\n    Path:\t${v.hostPath.path}\n    HostPathType:\t${v.hostPath.type || '<none>'}\n`,
      );
    else if (v.persistentVolumeClaim)
      w.write(
        2,
        `Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t${v.persistentVolumeClaim.claimName}\n    ReadOnly:\t${!!v.persistentVolumeClaim.readOnly}\n`,
      );
    else w.write(1, '<unknown>\n');
  }
}

function qosClass(pod: Obj): string {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const cs: Obj[] = pod.spec?.containers ?? [];
  const has = (c: Obj, f: string) => Object.keys(c.resources?.[f] ?? {}).length > 0;
  if (!cs.some((c) => has(c, 'requests') || has(c, 'limits'))) return 'BestEffort';
  const guaranteed = cs.every((c) =>
    ['cpu', 'memory'].every(
      (r) =>
        c.resources?.limits?.[r] && (c.resources?.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r],
    ),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function describePod(pod: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  const st = pod.status ?? {};
  const spec = pod.spec ?? {};
  w.write(0, `Name:\t${pod.metadata.name}\n`);
  w.write(0, `Namespace:\t${pod.metadata.namespace ?? ''}\n`);
  if (spec.priority !== undefined) w.write(0, `Priority:\t${spec.priority}\n`);
  if (spec.priorityClassName) w.write(0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  if (spec.runtimeClassName) w.write(0, `Runtime Class Name:\t${spec.runtimeClassName}\n`);
  if (spec.serviceAccountName) w.write(0, `Service Account:\t${spec.serviceAccountName}\n`);
  w.write(0, spec.nodeName ? `Node:\t${spec.nodeName}/${st.hostIP ?? ''}\n` : 'Node:\t<none>\n');
  if (st.startTime) w.write(0, `Start Time:\t${rfc1123z(st.startTime)}\n`);
  labelsMultiline(w, 'Labels', pod.metadata.labels);
  annotationsMultiline(w, 'Annotations', pod.metadata.annotations);
  if (pod.metadata.deletionTimestamp && st.phase !== 'Failed' && st.phase !== 'Succeeded') {
    w.write(0, `Status:\tTerminating (lasts ${since(pod.metadata.deletionTimestamp, nowMs)})\n`);
    w.write(0, `Termination Grace Period:\t${pod.metadata.deletionGracePeriodSeconds ?? 0}s\n`);
  } else w.write(0, `Status:\t${st.phase ?? ''}\n`);
  if (st.reason) w.write(0, `Reason:\t${st.reason}\n`);
  if (st.message) w.write(0, `Message:\t${st.message}\n`);
  w.write(0, `IP:\t${st.podIP ?? ''}\n`);
  const ips: Obj[] = st.podIPs ?? [];
  if (!ips.length) w.write(0, 'IPs:\t<none>\n');
  else {
    w.write(0, 'IPs:\n');
    for (const ip of ips) w.write(1, `IP:\t${ip.ip}\n`);
  }
  const by = controller(pod);
  if (by) w.write(0, `Controlled By:\t${by}\n`);
  if (st.nominatedNodeName) w.write(0, `NominatedNodeName:\t${st.nominatedNodeName}\n`);
  if ((spec.initContainers ?? []).length)
    describeContainers(w, 'Init Containers', spec.initContainers, st.initContainerStatuses, '', pod);
  describeContainers(w, 'Containers', spec.containers, st.containerStatuses, '', pod);
  if ((spec.ephemeralContainers ?? []).length)
    describeContainers(w, 'Ephemeral Containers', spec.ephemeralContainers, st.ephemeralContainerStatuses, '', pod);
  if ((spec.readinessGates ?? []).length) {
    w.write(0, 'Readiness Gates:\n  Type\tStatus\n');
    for (const g of spec.readinessGates)
      w.write(
        1,
        `${g.conditionType} \t${(st.conditions ?? []).find((c: Obj) => c.type === g.conditionType)?.status ?? '<none>'} \n`,
      );
  }
  if ((st.conditions ?? []).length) {
    w.write(0, 'Conditions:\n  Type\tStatus\n');
    for (const c of st.conditions) w.write(1, `${c.type} \t${c.status} \n`);
  }
  volumes(w, spec.volumes, '');
  w.write(0, `QoS Class:\t${qosClass(pod)}\n`);
  labelsMultiline(w, 'Node-Selectors', spec.nodeSelector);
  tolerationsMultiline(w, 'Tolerations', spec.tolerations);
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

function podTemplate(w: PrefixWriter, t: Obj | undefined): void {
  w.write(0, 'Pod Template:\n');
  if (!t) return void w.write(1, '<unset>');
  labelsMultiline(w, '  Labels', t.metadata?.labels);
  if (Object.keys(t.metadata?.annotations ?? {}).length)
    annotationsMultiline(w, '  Annotations', t.metadata.annotations);
  const spec = t.spec ?? {};
  if (spec.serviceAccountName) w.write(1, `Service Account:\t${spec.serviceAccountName}\n`);
  if ((spec.initContainers ?? []).length)
    describeContainers(w, 'Init Containers', spec.initContainers, undefined, '  ');
  describeContainers(w, 'Containers', spec.containers, undefined, '  ');
  volumes(w, spec.volumes, '  ');
  if (spec.priorityClassName) w.write(1, `Priority Class Name:\t${spec.priorityClassName}\n`);
  labelsMultiline(w, '  Node-Selectors', spec.nodeSelector);
  tolerationsMultiline(w, 'Tolerations', spec.tolerations, '  ');
}

function podCounts(pods: Obj[] | undefined): string {
  const n = (phase: string) => (pods ?? []).filter((p) => p.status?.phase === phase).length;
  return `${n('Running')} Running / ${n('Pending')} Waiting / ${n('Succeeded')} Succeeded / ${n('Failed')} Failed`;
}

export function describeDeployment(d: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  const spec = d.spec ?? {};
  const st = d.status ?? {};
  w.write(0, `Name:\t${d.metadata.name}\n`);
  w.write(0, `Namespace:\t${d.metadata.namespace ?? ''}\n`);
  w.write(0, `CreationTimestamp:\t${rfc1123z(d.metadata.creationTimestamp)}\n`);
  labelsMultiline(w, 'Labels', d.metadata.labels);
  annotationsMultiline(w, 'Annotations', d.metadata.annotations);
  w.write(0, `Selector:\t${selectorString(spec.selector)}\n`);
  w.write(
    0,
    `Replicas:\t${spec.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable\n`,
  );
  w.write(0, `StrategyType:\t${spec.strategy?.type ?? ''}\n`);
  w.write(0, `MinReadySeconds:\t${spec.minReadySeconds ?? 0}\n`);
  const ru = spec.strategy?.rollingUpdate;
  if (ru)
    w.write(
      0,
      `RollingUpdateStrategy:\t${ru.maxUnavailable ?? '<nil>'} max unavailable, ${ru.maxSurge ?? '<nil>'} max surge\n`,
    );
  podTemplate(w, spec.template);
  if ((st.conditions ?? []).length) {
    w.write(0, 'Conditions:\n  Type\tStatus\tReason\n');
    w.write(1, '----\t------\t------\n');
    for (const c of st.conditions) w.write(1, `${c.type} \t${c.status}\t${c.reason ?? ''}\n`);
  }
  // the new ReplicaSet is the one with the Deployment's template (upstream's EqualIgnoreHash)
  // (given when the ReplicaSets could be listed, as kubectl prints these lines)
  const rss = rel.replicaSets ?? [];
  const key = JSON.stringify(templateKey(spec.template));
  const newRs = rss.find((rs) => JSON.stringify(templateKey(rs.spec?.template)) === key);
  const old = rss.filter((rs) => rs !== newRs);
  if (rel.replicaSets) {
    const shown = (l: Obj[]) =>
      l
        .map((rs) => `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 1} replicas created)`)
        .join(', ') || '<none>';
    w.write(0, `OldReplicaSets:\t${shown(old)}\n`);
    w.write(0, `NewReplicaSet:\t${shown(newRs ? [newRs] : [])}\n`);
  }
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

/** kubectl's ReplicaSetDescriber. */
export function describeReplicaSet(r: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  const spec = r.spec ?? {};
  w.write(0, `Name:\t${r.metadata.name}\n`);
  w.write(0, `Namespace:\t${r.metadata.namespace ?? ''}\n`);
  w.write(0, `Selector:\t${selectorString(spec.selector)}\n`);
  labelsMultiline(w, 'Labels', r.metadata.labels);
  annotationsMultiline(w, 'Annotations', r.metadata.annotations);
  const by = controller(r);
  if (by) w.write(0, `Controlled By:\t${by}\n`);
  w.write(0, `Replicas:\t${r.status?.replicas ?? 0} current / ${spec.replicas ?? 1} desired\n`);
  w.write(0, `Pods Status:\t${podCounts(rel.pods)}\n`);
  podTemplate(w, spec.template);
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

export function describeStatefulSet(s: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  const spec = s.spec ?? {};
  w.write(0, `Name:\t${s.metadata.name}\n`);
  w.write(0, `Namespace:\t${s.metadata.namespace ?? ''}\n`);
  w.write(0, `CreationTimestamp:\t${rfc1123z(s.metadata.creationTimestamp)}\n`);
  w.write(0, `Selector:\t${selectorString(spec.selector)}\n`);
  labelsMultiline(w, 'Labels', s.metadata.labels);
  annotationsMultiline(w, 'Annotations', s.metadata.annotations);
  w.write(0, `Replicas:\t${spec.replicas ?? 1} desired | ${s.status?.replicas ?? 0} total\n`);
  w.write(0, `Update Strategy:\t${spec.updateStrategy?.type ?? ''}\n`);
  const ru = spec.updateStrategy?.rollingUpdate;
  if (ru?.partition !== undefined) {
    w.write(1, `Partition:\t${ru.partition}\n`);
    if (ru.maxUnavailable !== undefined) w.write(1, `MaxUnavailable:\t${ru.maxUnavailable}\n`);
  }
  w.write(0, `Pods Status:\t${podCounts(rel.pods)}\n`);
  podTemplate(w, spec.template);
  const claims: Obj[] = spec.volumeClaimTemplates ?? [];
  if (!claims.length) w.write(0, 'Volume Claims:\t<none>\n');
  else {
    w.write(0, 'Volume Claims:\n');
    for (const c of claims) {
      w.write(1, `Name:\t${c.metadata?.name ?? ''}\n`);
      w.write(1, `StorageClass:\t${c.spec?.storageClassName ?? ''}\n`);
      labelsMultiline(w, 'Labels', c.metadata?.labels, '  ');
      labelsMultiline(w, 'Annotations', c.metadata?.annotations, '  ');
      w.write(1, `Capacity:\t${c.spec?.resources?.requests?.storage ?? '<default>'}\n`);
      w.write(1, `Access Modes:\t[${(c.spec?.accessModes ?? []).join(' ')}]\n`);
    }
  }
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

/** kubectl's GenericDescriber, for the kinds without their own. */
export function describeGeneric(o: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  w.write(0, `Name:\t${o.metadata.name}\n`);
  w.write(0, `Namespace:\t${o.metadata.namespace ?? ''}\n`);
  labelsMultiline(w, 'Labels', o.metadata.labels);
  annotationsMultiline(w, 'Annotations', o.metadata.annotations);
  unstructured(w, 0, o, '', [
    '.metadata.managedFields',
    '.metadata.name',
    '.metadata.namespace',
    '.metadata.labels',
    '.metadata.annotations',
  ]);
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}
