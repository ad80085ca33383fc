import type { PemPair } from './types.js';

/** A kubernetes.io/tls Secret holding a certificate and key (what `kubectl create secret tls` makes). */
export function tlsSecretObject(name: string, namespace: string, pair: PemPair): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
  };
}
