#!/bin/sh
# The cloud load balancer (GCP passthrough style), as `podwire lab up` runs it
# in <lab>-clb: it gives each Service of type LoadBalancer an EXTERNAL-IP from
# its pool (written to the Service's status), health-checks every node for
# it every 2 s, answers ARP for those addresses on eth0 and forwards each
# frame to a healthy node with only the destination MAC changed. The node
# answers the client directly (direct server return).
#
#   docker compose exec cloudlb curl -s --unix-socket /run/podwire/cloudlb.sock http://cloudlb/status
#
# Needs: privileged (a packet socket on eth0, and kernel forwarding off on
# eth0: frames for the EXTERNAL-IPs are passed on by the load balancer, not
# routed by this container's kernel).
#
# Environment:
#   PODWIRE_SERVER          the API server, https://host:port (required), with
#                           PODWIRE_KUBECONFIG's credentials (the admin kubeconfig)
#   PODWIRE_LB_POOL         EXTERNAL-IPs to hand out (default: 172.28.0.240-172.28.0.254)
#   PODWIRE_CLOUDLB_SOCKET  GET /status here (default: /run/podwire/cloudlb.sock)
#   PODWIRE_BIN             the podwire command (see common.sh)
set -eu
ROLE=cloudlb
. "$(dirname "$0")/common.sh"

: "${PODWIRE_SERVER:?PODWIRE_SERVER must name the API server, e.g. https://172.28.0.2:6443}"
# the admin kubeconfig apiserver.sh wrote (compose sets it too, for `docker compose exec … podwire`)
export PODWIRE_KUBECONFIG="${PODWIRE_KUBECONFIG:-$PODWIRE_PKI_DIR/admin.kubeconfig}"
ip=$(require_ipv4 eth0)
pool=${PODWIRE_LB_POOL:-172.28.0.240-172.28.0.254}
socket=${PODWIRE_CLOUDLB_SOCKET:-/run/podwire/cloudlb.sock}
mkdir -p "$(dirname "$socket")"
wait_for_apiserver "$PODWIRE_SERVER" "${PODWIRE_APISERVER_WAIT_SECONDS:-120}"
say "$ip, EXTERNAL-IPs $pool, API server $PODWIRE_SERVER"
exec "$PODWIRE_BIN" cloudlb --apiserver "$PODWIRE_SERVER" --pool "$pool" --interface eth0 --socket "$socket"
