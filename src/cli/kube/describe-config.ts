import { rfc1123z } from '../../control/printers/index.js';
import {
  annotationsMultiline,
  describeEvents,
  labelsMultiline,
  PrefixWriter,
  type Related,
} from './describe-writer.js';

/** kubectl describe for Namespaces, ConfigMaps and Secrets (a Secret's values are never shown, only their sizes). */
type Obj = Record<string, any>;

export function describeNamespace(ns: Obj): string {
  const w = new PrefixWriter();
  w.write(0, `Name:\t${ns.metadata.name}\n`);
  labelsMultiline(w, 'Labels', ns.metadata.labels);
  annotationsMultiline(w, 'Annotations', ns.metadata.annotations);
  w.write(0, `Status:\t${ns.status?.phase ?? ''}\n`);
  if ((ns.status?.conditions ?? []).length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tLastTransitionTime\tReason\tMessage\n');
    w.write(1, '----\t------\t------------------\t------\t-------\n');
    for (const c of ns.status.conditions)
      w.write(1, `${c.type}\t${c.status}\t${rfc1123z(c.lastTransitionTime)}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
  }
  return w.toString();
}

export function describeConfigMap(cm: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  w.write(0, `Name:\t${cm.metadata.name}\n`);
  w.write(0, `Namespace:\t${cm.metadata.namespace ?? ''}\n`);
  labelsMultiline(w, 'Labels', cm.metadata.labels);
  annotationsMultiline(w, 'Annotations', cm.metadata.annotations);
  w.write(0, '\nData\n====\n');
  for (const k of Object.keys(cm.data ?? {}).sort()) w.write(0, `${k}:\n----\n${cm.data[k]}\n`);
  w.write(0, '\nBinaryData\n====\n');
  for (const k of Object.keys(cm.binaryData ?? {}).sort())
    w.write(0, `${k}: ${Buffer.from(cm.binaryData[k], 'base64').length} bytes\n`);
  w.write(0, '\n');
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

export function describeSecret(s: Obj): string {
  const w = new PrefixWriter();
  w.write(0, `Name:\t${s.metadata.name}\n`);
  w.write(0, `Namespace:\t${s.metadata.namespace ?? ''}\n`);
  labelsMultiline(w, 'Labels', s.metadata.labels);
  annotationsMultiline(w, 'Annotations', s.metadata.annotations);
  w.write(0, `\nType:\t${s.type ?? ''}\n`);
  w.write(0, '\nData\n====\n');
  for (const k of Object.keys(s.data ?? {}).sort())
    w.write(0, `${k}:\t${Buffer.from(s.data[k], 'base64').length} bytes\n`);
  return w.toString();
}
