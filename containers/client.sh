#!/bin/sh
# The learner's external machine: on the underlay network beside the nodes,
# but no node itself (no agent, no pods, no route into the pod network). What
# it can reach is what a machine outside a real cluster can: node IPs (later
# NodePorts), the API server. `docker compose exec client sh` to work in it.
#
# Environment:
#   PODWIRE_SERVER  the API server, https://host:port (required); the podwire
#                   CLI here uses PODWIRE_KUBECONFIG (the admin kubeconfig)
#   PODWIRE_BIN     the podwire command (see common.sh)
set -eu
ROLE=client
. "$(dirname "$0")/common.sh"

: "${PODWIRE_SERVER:?PODWIRE_SERVER must name the API server, e.g. https://172.28.0.2:6443}"
ip=$(require_ipv4 eth0)
wait_for_apiserver "$PODWIRE_SERVER" "${PODWIRE_APISERVER_WAIT_SECONDS:-120}"
say "$ip, outside the cluster: the API server at $PODWIRE_SERVER answers"
# nothing else to run: stay up for `docker compose exec client …`
exec sleep infinity
