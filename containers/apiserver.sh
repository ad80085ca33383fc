#!/bin/sh
# The control plane: podwire's API server with its controllers (node IPAM
# and lifecycle, scheduler, Deployment, StatefulSet, endpoints) in one
# process, as `podwire lab up` runs it in <lab>-cp. First the cluster's PKI
# (`podwire pki`, as kubeadm's certs and kubeconfig phases): the API server
# serves HTTPS only, with client certificates, ServiceAccount tokens and RBAC.
#
# Environment:
#   PODWIRE_STORE               where objects live: a directory (the embedded
#                               durable store) or etcd://host:port. Unset: etcd://
#                               $PODWIRE_ETCD_HOST:2379 when that host resolves
#                               (compose's `etcd` profile adds it), else
#                               /var/lib/podwire/store (a volume in compose.yaml;
#                               the API server creates the directory)
#   PODWIRE_ETCD_HOST           the etcd host looked for (default: etcd)
#   PODWIRE_APISERVER_HOST      address to listen on (default: 0.0.0.0)
#   PODWIRE_APISERVER_PORT      TCP port (default: 6443)
#   PODWIRE_ADVERTISE_ADDRESS   the address the `kubernetes` Service (10.96.0.1)
#                               sends pods to — CoreDNS reaches the API through
#                               it (default: eth0's address)
#   PODWIRE_NODE_GRACE_SECONDS  seconds without a heartbeat before a node is
#                               NotReady (default: 10)
#   PODWIRE_EVICTION_SECONDS    how long pods tolerate a NotReady or unreachable
#                               node before they are evicted and replaced: the
#                               API server's --default-not-ready-toleration-seconds
#                               and --default-unreachable-toleration-seconds
#                               (default: 300, as Kubernetes; 30 for a workshop)
#   PODWIRE_NODES               the nodes to make a certificate and a kubeconfig
#                               for (default: node1 node2 node3)
#   PODWIRE_PKI_DIR             the cluster's PKI and kubeconfigs, made here and
#                               kept across restarts (default: /etc/podwire/pki:
#                               compose's `pki` volume, read-only elsewhere)
#   PODWIRE_BIN                 the podwire command (see common.sh)
set -eu
ROLE=apiserver
. "$(dirname "$0")/common.sh"

etcd_host=${PODWIRE_ETCD_HOST:-etcd}
if [ -n "${PODWIRE_STORE:-}" ]; then
  store=$PODWIRE_STORE
elif getent hosts "$etcd_host" >/dev/null 2>&1; then
  # compose --profile etcd: the etcd service is on the network (and healthy:
  # the apiserver depends on it), so the store is a real etcd
  store="etcd://$etcd_host:2379"
else
  store=/var/lib/podwire/store
fi
advertise=${PODWIRE_ADVERTISE_ADDRESS:-$(ipv4_of eth0 | cut -d/ -f1)}
port=${PODWIRE_APISERVER_PORT:-6443}
pki=$PODWIRE_PKI_DIR
server_ip=${advertise:-127.0.0.1}
set --
for n in ${PODWIRE_NODES:-node1 node2 node3}; do set -- "$@" --node "$n"; done
"$PODWIRE_BIN" pki --dir "$pki" --apiserver-url "https://$server_ip:$port" --apiserver-ip "$server_ip" --apiserver-name apiserver "$@"
say "store $store${advertise:+, advertised at $advertise}"
exec "$PODWIRE_BIN" apiserver \
  --store "$store" \
  --host "${PODWIRE_APISERVER_HOST:-0.0.0.0}" \
  ${advertise:+--advertise-address "$advertise"} \
  --port "$port" \
  --node-monitor-grace-period "${PODWIRE_NODE_GRACE_SECONDS:-10}" \
  --default-not-ready-toleration-seconds "${PODWIRE_EVICTION_SECONDS:-300}" \
  --default-unreachable-toleration-seconds "${PODWIRE_EVICTION_SECONDS:-300}" \
  --tls-cert-file "$pki/apiserver.crt" \
  --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
  --kubelet-client-key "$pki/apiserver-kubelet-client.key"
