import { dns1123LabelErrors } from './names.js';
import { selectorRequirements, matches, LabelError } from '../labels.js';
import type { Cause } from './status.js';

/**
 * Rules a schema cannot express, with Kubernetes' field paths and wording:
 * unique names, port ranges, and a workload's selector matching its pods.
 */
const invalid = (field: string, value: unknown, why: string): Cause => ({
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
  reason: 'FieldValueInvalid',
});
const duplicate = (field: string, value: unknown): Cause => ({
  field,
  message: `Duplicate value: ${JSON.stringify(value)}`,
  reason: 'FieldValueDuplicate',
});
const required = (field: string, why: string): Cause => ({
  field,
  message: `Required value: ${why}`,
  reason: 'FieldValueRequired',
});

function podSpecCauses(spec: any, at: string): Cause[] {
  const causes: Cause[] = [];
  const names = new Set<string>();
  const all = [
    ...(spec?.initContainers ?? []).map((c: any, i: number) => [c, `${at}.initContainers[${i}]`]),
    ...(spec?.containers ?? []).map((c: any, i: number) => [c, `${at}.containers[${i}]`]),
  ];
  for (const [c, p] of all) {
    for (const e of dns1123LabelErrors(c.name)) causes.push(invalid(`${p}.name`, c.name, e));
    if (names.has(c.name)) causes.push(duplicate(`${p}.name`, c.name));
    names.add(c.name);
    const portNames = new Set<string>();
    (c.ports ?? []).forEach((port: any, j: number) => {
      if (port.name !== undefined) {
        if (portNames.has(port.name)) causes.push(duplicate(`${p}.ports[${j}].name`, port.name));
        portNames.add(port.name);
      }
    });
  }
  return causes;
}

function serviceCauses(o: any): Cause[] {
  const causes: Cause[] = [];
  const spec = o.spec ?? {};
  const ports: any[] = spec.ports ?? [];
  if (spec.type === 'ExternalName') {
    if (!spec.externalName)
      causes.push(required('spec.externalName', 'externalName is required for type ExternalName'));
  } else if (ports.length === 0) {
    causes.push(required('spec.ports', 'at least one port is required'));
  }
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (ports.length > 1 && !p.name)
      causes.push(required(`spec.ports[${i}].name`, 'each port needs a name when there is more than one'));
    if (p.name !== undefined) {
      if (names.has(p.name)) causes.push(duplicate(`spec.ports[${i}].name`, p.name));
      names.add(p.name);
    }
    if (p.nodePort !== undefined && (p.nodePort < 30000 || p.nodePort > 32767))
      causes.push(
        invalid(
          `spec.ports[${i}].nodePort`,
          p.nodePort,
          'provided port is not in the valid range. The range of valid ports is 30000-32767',
        ),
      );
    if (p.nodePort !== undefined && (spec.type ?? 'ClusterIP') === 'ClusterIP')
      causes.push(invalid(`spec.ports[${i}].nodePort`, p.nodePort, "may not be used when `type` is 'ClusterIP'"));
  });
  return causes;
}

function workloadCauses(o: any): Cause[] {
  const causes = podSpecCauses(o.spec?.template?.spec, 'spec.template.spec');
  try {
    const reqs = selectorRequirements(o.spec?.selector);
    if (!reqs.length)
      causes.push(invalid('spec.selector', o.spec?.selector, 'empty selector is invalid for deployment'));
    else if (!matches(reqs, o.spec?.template?.metadata?.labels)) {
      causes.push(
        invalid(
          'spec.template.metadata.labels',
          o.spec?.template?.metadata?.labels ?? {},
          '`selector` does not match template `labels`',
        ),
      );
    }
  } catch (e) {
    causes.push(invalid('spec.selector', o.spec?.selector, (e as LabelError).message));
  }
  return causes;
}

export function semanticCauses(kind: string, o: any): Cause[] {
  switch (kind) {
    case 'Pod':
      return podSpecCauses(o.spec, 'spec');
    case 'Service':
      return serviceCauses(o);
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
      return workloadCauses(o);
    default:
      return [];
  }
}
