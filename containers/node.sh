#!/bin/sh
# A node: the podwire agent, acting only inside this container's network
# namespace (the same agent `podwire lab up` starts in a netns node). It
# builds cbr0 and the pods' namespaces and veths, registers the Node (the API
# server allocates its pod CIDR), takes its peers from the other Nodes and
# runs the pods bound to it as processes. VXLAN to the other nodes leaves
# through eth0: `tcpdump -ni eth0 udp port 4789` here shows it.
#
# Needs: privileged (CAP_NET_ADMIN for links and packet sockets,
# CAP_SYS_ADMIN for the namespace mounts below), eth0 with an IPv4 address.
#
# Environment:
#   NODE_NAME            this node's name (default: the hostname)
#   PODWIRE_SERVER       the API server, https://host:port (required)
#   PODWIRE_PKI_DIR      where node-<name>.kubeconfig is: this node's identity,
#                        system:node:<name> (default: /etc/podwire/pki)
#   PODWIRE_PREFIX       prefix of every namespace the agent makes: pod
#                        namespaces are <prefix>-pod-<name> (default: pw)
#   PODWIRE_STATE_DIR    IPAM and pod records (default: /run/podwire/<node>;
#                        compose.yaml puts a tmpfs on /run/podwire)
#   PODWIRE_POD_CIDR     ask for this pod CIDR (default: the API server allocates one)
#   PODWIRE_UNDERLAY_IF  the underlay link (default: eth0)
#   PODWIRE_UPSTREAM_DNS the node's resolver, written to <state>/resolv.conf
#                        and given to the agent as --resolv-conf: what
#                        dnsPolicy Default pods (CoreDNS) forward to
#                        (default: 172.28.0.200, the www service's DNS;
#                        nothing leaves the lab)
#   PODWIRE_BIN          the podwire command (see common.sh)
set -eu
ROLE=node
. "$(dirname "$0")/common.sh"

node=${NODE_NAME:-$(hostname)}
ROLE=$node
: "${PODWIRE_SERVER:?PODWIRE_SERVER must name the API server, e.g. https://172.28.0.2:6443}"
prefix=${PODWIRE_PREFIX:-pw}
state=${PODWIRE_STATE_DIR:-/run/podwire/$node}
underlay=${PODWIRE_UNDERLAY_IF:-eth0}

# 1. The node IP is eth0's address: Docker configured it before we started.
ip=$(require_ipv4 "$underlay")

# 2. Pod namespaces are named files under /run/netns that `ip netns add`
#    bind-mounts a namespace onto. In a container that needs two things:
#    - /run/netns must be a mount point ip can make shared: ip does it itself
#      (it bind-mounts /run/netns onto itself and marks it shared), which
#      takes CAP_SYS_ADMIN, hence privileged. compose.yaml mounts a tmpfs
#      there, so the names are also fresh after a restart: a file left on
#      the container's disk by a namespace that died with the container would
#      otherwise look like a pod namespace and fail with "Invalid argument".
#    - everyone who wants to see a pod namespace must share the container's
#      mount namespace: `docker compose exec node1 ip netns exec <pod> …` does.
#    A probe now says so clearly, instead of the first pod failing later.
mkdir -p /run/netns "$state"
probe="$prefix-probe-$$"
if ! err=$(ip netns add "$probe" 2>&1); then
  die "cannot create network namespaces ($err): run the node privileged (compose.yaml: privileged: true)"
fi
ip netns del "$probe"

# 3. Wait for the API server (compose starts nodes once it is healthy; a
#    node started by hand may be early), then become the agent.
wait_for_apiserver "$PODWIRE_SERVER" "${PODWIRE_APISERVER_WAIT_SECONDS:-120}"
say "node IP $ip on $underlay, API server $PODWIRE_SERVER, namespaces $prefix-*, state in $state"
# 4. The node's resolver: the outside's DNS, not Docker's (which would forward out of the lab).
printf 'nameserver %s\n' "${PODWIRE_UPSTREAM_DNS:-172.28.0.200}" > "$state/resolv.conf"
# 5. Its identity: the node's own certificate (system:node:<name>), as a kubelet's kubeconfig
kubeconfig="$PODWIRE_PKI_DIR/node-$node.kubeconfig"
[ -f "$kubeconfig" ] || die "no $kubeconfig: add $node to the apiserver's PODWIRE_NODES"
# its :10250 over TLS with the node certificate: only the API server's kubelet client gets in
set -- agent --node "$node" --apiserver "$PODWIRE_SERVER" --kubeconfig "$kubeconfig" --prefix "$prefix" --state-dir "$state" --underlay-if "$underlay" --resolv-conf "$state/resolv.conf" \
  --tls-cert-file "$PODWIRE_PKI_DIR/node-$node.crt" --tls-private-key-file "$PODWIRE_PKI_DIR/node-$node.key" --client-ca-file "$PODWIRE_PKI_DIR/ca.crt"
if [ -n "${PODWIRE_POD_CIDR:-}" ]; then set -- "$@" --pod-cidr "$PODWIRE_POD_CIDR"; fi
exec "$PODWIRE_BIN" "$@"
