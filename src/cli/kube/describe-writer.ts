import { rfc1123z, since } from '../../control/printers/index.js';
import { DESCRIBE_WRITER, TabWriter } from '../../text/index.js';

/**
 * The pieces kubectl's describers share (k8s.io/kubectl/pkg/describe):
 * a prefix writer over a tabwriter (two spaces per level), multi-line
 * labels and annotations, container blocks, the Events table.
 */
type Obj = Record<string, any>;

/** What a describer needs besides the object, fetched by describe.ts. */
/** What a describer needs besides the object, fetched by describe.ts. */
export interface Related {
  /** null: --show-events=false */
  events: Obj[] | null;
  /** service: its Endpoints; ingress: every Endpoints of the namespace */
  endpoints?: Obj[];
  /** ingress: the Services of the namespace */
  services?: Obj[];
  /** node: its non-terminated pods; workloads: their pods */
  pods?: Obj[];
  /** deployment: the ReplicaSets it controls */
  replicaSets?: Obj[];
  /** networkpolicy: every namespace (with pods: every pod), for podwire's "Explained:" part */
  namespaces?: Obj[];
  /** node: its Lease, or why it could not be read */
  lease?: { lease?: Obj; error?: string };
}

export class PrefixWriter {
  private readonly tw = new TabWriter(DESCRIBE_WRITER);
  private done = '';

  write(level: number, text: string): this {
    this.tw.write('  '.repeat(level) + text);
    return this;
  }

  /** Ends an alignment region (describe flushes before Events). */
  flush(): this {
    this.done += this.tw.flush();
    return this;
  }

  toString(): string {
    return this.done + this.tw.flush();
  }
}

const MAX_ANNOTATION_LEN = 140;
const SKIP_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

export function labelsMultiline(
  w: PrefixWriter,
  title: string,
  labels: Record<string, string> | undefined,
  initialIndent = '',
  innerIndent = '\t',
): void {
  w.write(0, `${initialIndent}${title}:${innerIndent}`);
  const keys = Object.keys(labels ?? {}).sort();
  if (!keys.length) return void w.write(0, '<none>\n');
  keys.forEach((k, i) => {
    if (i) w.write(0, initialIndent + innerIndent);
    w.write(0, `${k}=${labels![k]}\n`);
  });
}

export function annotationsMultiline(
  w: PrefixWriter,
  title: string,
  annotations: Record<string, string> | undefined,
): void {
  w.write(0, `${title}:\t`);
  const keys = Object.keys(annotations ?? {})
    .filter((k) => !SKIP_ANNOTATIONS.has(k))
    .sort();
  if (!keys.length) return void w.write(0, '<none>\n');
  keys.forEach((k, i) => {
    if (i) w.write(0, '\t');
    const value = String(annotations![k]).replace(/\n$/, '');
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      w.write(0, `${k}:\n`);
      for (const s of value.split('\n'))
        w.write(0, `\t  ${s.length > MAX_ANNOTATION_LEN - 2 ? `${s.slice(0, MAX_ANNOTATION_LEN - 2)}...` : s}\n`);
    } else w.write(0, `${k}: ${value}\n`);
  });
}

export function tolerationsMultiline(
  w: PrefixWriter,
  title: string,
  tolerations: Obj[] | undefined,
  initialIndent = '',
): void {
  w.write(0, `${initialIndent}${title}:\t`);
  if (!(tolerations ?? []).length) return void w.write(0, '<none>\n');
  tolerations!.forEach((t, i) => {
    if (i) w.write(0, `${initialIndent}\t`);
    let s = t.key ?? '';
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.value) s += t.key || t.effect ? ' op=Exists' : 'op=Exists';
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
    w.write(0, `${s}\n`);
  });
}

const printBool = (b: unknown) => (b ? 'True' : 'False');
const stringOrNone = (s: string) => s || '<none>';

function describeState(w: PrefixWriter, name: string, state: Obj | undefined): void {
  if (state?.running) {
    w.write(2, `${name}:\tRunning\n`);
    w.write(3, `Started:\t${rfc1123z(state.running.startedAt)}\n`);
  } else if (state?.waiting) {
    w.write(2, `${name}:\tWaiting\n`);
    if (state.waiting.reason) w.write(3, `Reason:\t${state.waiting.reason}\n`);
  } else if (state?.terminated) {
    const t = state.terminated;
    w.write(2, `${name}:\tTerminated\n`);
    if (t.reason) w.write(3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(3, `Message:\t${t.message}\n`);
    w.write(3, `Exit Code:\t${t.exitCode ?? 0}\n`);
    if (t.signal > 0) w.write(3, `Signal:\t${t.signal}\n`);
    w.write(3, `Started:\t${rfc1123z(t.startedAt)}\n`);
    w.write(3, `Finished:\t${rfc1123z(t.finishedAt)}\n`);
  } else w.write(2, `${name}:\tWaiting\n`);
}

/** DescribeProbe, on the object as stored: `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function describeProbe(p: Obj): string {
  const attrs = `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 0}s period=${p.periodSeconds ?? 0}s #success=${p.successThreshold ?? 0} #failure=${p.failureThreshold ?? 0}`;
  if (p.exec) return `exec [${(p.exec.command ?? []).join(' ')}] ${attrs}`;
  if (p.httpGet) {
    const port = p.httpGet.port !== undefined ? String(p.httpGet.port) : '';
    const host = p.httpGet.host ?? '';
    const hostPort = port ? (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`) : host;
    const scheme = String(p.httpGet.scheme ?? '').toLowerCase();
    // Go's url.URL.String()
    return `http-get ${scheme ? `${scheme}:` : ''}${hostPort || p.httpGet.path ? '//' : ''}${hostPort}${p.httpGet.path ?? ''} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host ?? ''}:${p.tcpSocket.port} ${attrs}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

function ports(cPorts: Obj[] | undefined, field: 'containerPort' | 'hostPort'): string {
  return (cPorts ?? []).map((p) => `${p[field] ?? 0}/${p.protocol ?? ''}`).join(', ');
}

/** A fieldRef env var's value, resolved on the pod as kubectl does (the common paths). */
function fieldValue(pod: Obj | undefined, path: string): string {
  if (!pod) return '';
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return String(pod.metadata?.[m[1]]?.[m[2]] ?? '');
  let at: any = pod;
  for (const p of path.split('.')) at = at?.[p];
  return at === undefined || at === null || typeof at === 'object' ? '' : String(at);
}

export function describeContainers(
  w: PrefixWriter,
  label: string,
  containers: Obj[] | undefined,
  statuses: Obj[] | undefined,
  space = '',
  pod?: Obj,
): void {
  const byName = new Map((statuses ?? []).map((s) => [s.name, s]));
  w.write(0, `${space}${label}:${(containers ?? []).length ? '' : ' <none>'}\n`);
  for (const c of containers ?? []) {
    const st = byName.get(c.name);
    w.write(1, `${space ? ' ' : ''}${c.name}:\n`);
    if (st) w.write(2, `Container ID:\t${st.containerID ?? ''}\n`);
    w.write(2, `Image:\t${c.image ?? ''}\n`);
    if (st) w.write(2, `Image ID:\t${st.imageID ?? ''}\n`);
    const p = ports(c.ports, 'containerPort');
    w.write(2, p.includes(',') ? `Ports:\t${p}\n` : `Port:\t${stringOrNone(p)}\n`);
    const hp = ports(c.ports, 'hostPort');
    w.write(2, hp.includes(',') ? `Host Ports:\t${hp}\n` : `Host Port:\t${stringOrNone(hp)}\n`);
    for (const [title, list] of [
      ['Command', c.command],
      ['Args', c.args],
    ] as const) {
      if (!(list ?? []).length) continue;
      w.write(2, `${title}:\n`);
      for (const a of list as string[]) for (const s of String(a).split('\n')) w.write(3, `${s}\n`);
    }
    if (st) {
      describeState(w, 'State', st.state);
      if (st.lastState?.terminated) describeState(w, 'Last State', st.lastState);
      w.write(2, `Ready:\t${printBool(st.ready)}\n`);
      w.write(2, `Restart Count:\t${st.restartCount ?? 0}\n`);
    }
    for (const [kind, field] of [
      ['Limits', 'limits'],
      ['Requests', 'requests'],
    ] as const) {
      const res: Record<string, string> = c.resources?.[field] ?? {};
      if (!Object.keys(res).length) continue;
      w.write(2, `${kind}:\n`);
      for (const k of Object.keys(res).sort()) w.write(3, `${k}:\t${res[k]}\n`);
    }
    if (c.livenessProbe) w.write(2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
    if (c.readinessProbe) w.write(2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
    if (c.startupProbe) w.write(2, `Startup:\t${describeProbe(c.startupProbe)}\n`);
    const env: Obj[] = c.env ?? [];
    w.write(2, `Environment:${env.length ? '' : '\t<none>'}\n`);
    for (const e of env) {
      if (!e.valueFrom) {
        String(e.value ?? '')
          .split('\n')
          .forEach((s, i) => w.write(3, i === 0 ? `${e.name}:\t${s}\n` : `\t${s}\n`));
      } else if (e.valueFrom.fieldRef)
        w.write(
          3,
          `${e.name}:\t${fieldValue(pod, e.valueFrom.fieldRef.fieldPath)} (${e.valueFrom.fieldRef.apiVersion ?? 'v1'}:${e.valueFrom.fieldRef.fieldPath})\n`,
        );
      else if (e.valueFrom.secretKeyRef)
        w.write(
          3,
          `${e.name}:\t<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name}'>\tOptional: ${!!e.valueFrom.secretKeyRef.optional}\n`,
        );
      else if (e.valueFrom.configMapKeyRef)
        w.write(
          3,
          `${e.name}:\t<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name}'>\tOptional: ${!!e.valueFrom.configMapKeyRef.optional}\n`,
        );
    }
    const mounts: Obj[] = [...(c.volumeMounts ?? [])].sort((a, b) =>
      String(a.mountPath).localeCompare(String(b.mountPath)),
    );
    w.write(2, `Mounts:${mounts.length ? '' : '\t<none>'}\n`);
    for (const m of mounts)
      w.write(
        3,
        `${m.mountPath} from ${m.name} (${[m.readOnly ? 'ro' : 'rw', ...(m.subPath ? [`path=${JSON.stringify(m.subPath)}`] : [])].join(',')})\n`,
      );
  }
}

/** The Events table: oldest first (by lastTimestamp), "5m (x3 over 10m)" for repeats. */
export function describeEvents(w: PrefixWriter, events: Obj[] | null, nowMs: number): void {
  if (!events) return;
  if (!events.length) return void w.write(0, 'Events:\t<none>\n');
  w.flush();
  const at = (e: Obj) => Date.parse(e.lastTimestamp ?? '') || 0;
  const sorted = [...events].sort((a, b) => at(a) - at(b));
  w.write(0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n');
  w.write(1, '----\t------\t----\t----\t-------\n');
  for (const e of sorted) {
    const first = e.eventTime ? since(e.eventTime, nowMs) : since(e.firstTimestamp, nowMs);
    let interval = first;
    if (e.series) interval = `${since(e.series.lastObservedTime, nowMs)} (x${e.series.count} over ${first})`;
    else if ((e.count ?? 0) > 1) interval = `${since(e.lastTimestamp, nowMs)} (x${e.count} over ${first})`;
    const source = e.source?.component || e.reportingComponent || '';
    let message = String(e.message ?? '').trim();
    if (e.involvedObject?.fieldPath) message = `${e.involvedObject.fieldPath}: ${message}`;
    w.write(1, `${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${source}\t${message}\n`);
  }
}

/** kubectl's GenericDescriber: the object's fields, camelCase keys as "Title Words". */
export function smartLabel(field: string): string {
  if (/[^A-Za-z-]/.test(field)) return field;
  const parts = field.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[-]/g) ?? [field];
  return parts
    .map((p) =>
      ['API', 'URL', 'UID', 'OSB', 'GUID'].includes(p.toUpperCase())
        ? p.toUpperCase()
        : p[0].toUpperCase() + p.slice(1),
    )
    .join(' ');
}

export function unstructured(w: PrefixWriter, level: number, content: Obj, prefix: string, skip: string[]): void {
  for (const field of Object.keys(content).sort()) {
    const v = content[field];
    const path = `${prefix}.${field}`;
    if (skip.includes(path)) continue;
    if (Array.isArray(v)) {
      w.write(level, `${smartLabel(field)}:\n`);
      for (const child of v) {
        if (child && typeof child === 'object') unstructured(w, level + 1, child, path, skip);
        else w.write(level + 1, `${child}\n`);
      }
    } else if (v && typeof v === 'object') {
      w.write(level, `${smartLabel(field)}:\n`);
      unstructured(w, level + 1, v, path, skip);
    } else w.write(level, `${smartLabel(field)}:\t${v === null ? '<nil>' : v}\n`);
  }
}
