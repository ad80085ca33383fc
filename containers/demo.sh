#!/bin/sh
# One shot: once the nodes are registered and Ready, apply the cluster DNS
# add-on (podwire dns-addon), the ingress add-on (podwire ingress-addon
# --apply: ingress-nginx controller pods, IngressClass nginx, GatewayClass
# cilium) and the demo app
# (examples/demo/three-tier.yaml: seed 003's three tiers and a client pod on
# node1), wait until its workloads are Ready, print the pods, and exit 0.
#
# Environment:
#   PODWIRE_SERVER        the API server, https://host:port (required; the
#                         podwire CLI reads it too, with PODWIRE_KUBECONFIG's
#                         credentials: the admin kubeconfig)
#   PODWIRE_DEMO_NODES    how many nodes to wait for (default: 3)
#   PODWIRE_DEMO_MANIFEST what to apply (default: examples/demo/three-tier.yaml of this image/checkout)
#   PODWIRE_DEMO_TIMEOUT  seconds for each wait (default: 300)
#   PODWIRE_DEMO_INGRESS  1 (default): apply the ingress add-on; 0: leave it out
#   PODWIRE_BIN           the podwire command (see common.sh)
set -eu
ROLE=demo
. "$(dirname "$0")/common.sh"

: "${PODWIRE_SERVER:?PODWIRE_SERVER must name the API server, e.g. https://172.28.0.2:6443}"
export PODWIRE_SERVER
# the admin kubeconfig apiserver.sh wrote (compose sets it too, for `docker compose exec … podwire`)
export PODWIRE_KUBECONFIG="${PODWIRE_KUBECONFIG:-$PODWIRE_PKI_DIR/admin.kubeconfig}"
want=${PODWIRE_DEMO_NODES:-3}
manifest=${PODWIRE_DEMO_MANIFEST:-$PODWIRE_ROOT/examples/demo/three-tier.yaml}
timeout=${PODWIRE_DEMO_TIMEOUT:-300}
pw() { "$PODWIRE_BIN" "$@"; }

wait_for_apiserver "$PODWIRE_SERVER" "$timeout"

# 1. Nodes: `wait --all` needs them to exist first, so count them, then wait for Ready.
say "waiting for $want nodes to register"
deadline=$(($(date +%s) + timeout))
until [ "$(pw get nodes -o name 2>/dev/null | grep -c '^node/')" -ge "$want" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || die "fewer than $want nodes registered within $timeout s"
  sleep 1
done
pw wait --for=condition=Ready nodes --all --timeout="${timeout}s"

# 2. The cluster DNS add-on (CoreDNS behind kube-dns 10.96.0.10), as
#    `podwire lab up` applies it: created where missing, then Available.
say "applying the cluster DNS add-on"
pw dns-addon
pw wait --for=condition=Available deployment/coredns -n kube-system --timeout="${timeout}s"

# 3. The ingress add-on, as `podwire lab up` applies it: 2 controller
#    replicas with 3 nodes or more, else 1; then Available.
if [ "${PODWIRE_DEMO_INGRESS:-1}" = 1 ]; then
  say "applying the ingress add-on"
  replicas=1
  [ "$want" -ge 3 ] && replicas=2
  pw ingress-addon --apply --replicas "$replicas"
  pw wait --for=condition=Available deployment/ingress-nginx-controller -n ingress-nginx --timeout="${timeout}s"
fi

# 4. The app: all or nothing, then its workloads. Deployments are Available
#    with all their replicas; a StatefulSet makes its pods one after another,
#    so wait on its ready count; last, every pod (the bare ones too).
say "applying $manifest"
pw apply -f "$manifest"
if [ -n "$(pw get deployments -o name)" ]; then
  pw wait --for=condition=Available deployments --all --timeout="${timeout}s"
fi
for sts in $(pw get statefulsets -o name); do
  replicas=$(pw get "$sts" -o json | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).spec.replicas ?? 1))')
  [ "$replicas" -gt 0 ] || continue
  pw wait --for="jsonpath={.status.readyReplicas}=$replicas" "$sts" --timeout="${timeout}s"
done
pw wait --for=condition=Ready pods --all --timeout="${timeout}s"
pw get pods -o wide
say "demo app ready: try  docker compose exec node1 podwire get pods -o wide"
