import { createHash } from 'node:crypto';
import { HostError } from './errors.js';

/**
 * Every namespace, link and process podwire makes carries a prefix, and every
 * name is computable from its owner (Mininet style), so cleanup can find
 * exactly what was made and nothing else.
 */
export const IFNAMSIZ_MAX = 15;
const PREFIX_RE = /^pw[a-z0-9]{0,10}$/;
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function checkPrefix(prefix: string): string {
  if (!PREFIX_RE.test(prefix)) {
    throw new HostError('ERR_BAD_NAME', `prefix must match ${PREFIX_RE} (got "${prefix}")`, []);
  }
  return prefix;
}

/** RFC 1123 label, as Kubernetes requires for pod and node names. */
export function checkName(kind: string, name: string): string {
  if (name.length > 63 || !NAME_RE.test(name)) {
    throw new HostError(
      'ERR_BAD_NAME',
      `${kind} name "${name}" must be a lowercase RFC 1123 label (a-z, 0-9, '-')`,
      [],
    );
  }
  return name;
}

export const names = {
  underlayNs: (prefix: string) => `${prefix}-underlay`,
  nodeNs: (prefix: string, node: string) => `${prefix}-${node}`,
  podNs: (prefix: string, pod: string) => `${prefix}-pod-${pod}`,
  /** The underlay bridge inside the lab's underlay namespace. */
  underlayBridge: () => 'pwul0',
  /** Underlay-side end of a node's eth0 (lives in the underlay namespace). */
  underlayPort: (node: string) => shortName('pwu', node),
  /** Node-side end of a pod's veth (lives in the node namespace). */
  podHostVeth: (pod: string) => shortName('pwv', pod),
};

/** prefix + 8 hex digits of a hash: always fits IFNAMSIZ and is stable for an owner. */
export function shortName(prefix: string, owner: string): string {
  const h = createHash('sha1').update(owner).digest('hex').slice(0, 8);
  const name = `${prefix}${h}`;
  if (name.length > IFNAMSIZ_MAX) throw new HostError('ERR_BAD_NAME', `interface name ${name} too long`, []);
  return name;
}
