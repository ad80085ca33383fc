import type { Doc } from './apply.js';

/**
 * What two documents of one apply cannot both have, found before anything
 * is written (each document alone passes the server's dry run, which sees
 * the cluster as it is, not as the earlier documents would leave it):
 * two Services asking for one cluster IP, or for one node port. Worded as
 * the server would refuse the later one. The same object in two documents
 * is no conflict: the later one wins, as with kubectl.
 */
export function conflictsBetween(docs: Doc[]): string[] {
  const problems: string[] = [];
  const ips = new Map<string, Doc>();
  const ports = new Map<number, Doc>();
  const id = (d: Doc) => `${d.namespace ?? ''}/${d.obj.metadata?.name ?? ''}`;
  const where = (d: Doc) => `${d.source}: document ${d.index} (service/${d.obj.metadata?.name})`;
  for (const d of docs) {
    if (d.r.kind !== 'Service' || !d.obj.metadata?.name) continue;
    const spec = d.obj.spec ?? {};
    const asked = new Set<string>(
      [spec.clusterIP, ...(Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [])].filter(
        (ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None',
      ),
    );
    for (const ip of asked) {
      const other = ips.get(ip);
      if (other && id(other) !== id(d))
        problems.push(
          `${where(d)}: spec.clusterIPs: Invalid value: ["${ip}"]: failed to allocate IP ${ip}: provided IP is already allocated (asked for by ${where(other)})`,
        );
      else ips.set(ip, d);
    }
    const own = new Set<number>();
    (Array.isArray(spec.ports) ? spec.ports : []).forEach((p: { nodePort?: unknown }, i: number) => {
      const n = p?.nodePort;
      if (typeof n !== 'number' || n === 0 || own.has(n)) return;
      own.add(n);
      const other = ports.get(n);
      if (other && id(other) !== id(d))
        problems.push(
          `${where(d)}: spec.ports[${i}].nodePort: Invalid value: ${n}: provided port is already allocated (asked for by ${where(other)})`,
        );
      else ports.set(n, d);
    });
  }
  return problems;
}
