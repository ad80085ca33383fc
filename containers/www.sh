#!/bin/sh
# "The internet" of the workshop: a server outside the cluster that answers
# HTTP on :80, HTTPS on :443 (a self-signed certificate made at start by
# openssl, for this machine's addresses) and UDP echo on :7, with a page
# naming the address the request came from — from a pod going out through its
# node, the node's — and DNS on :53 (UDP and TCP) for the lab's external names
# (api.example.com, database.example.com, google.com …: this machine's address;
# NXDOMAIN for the rest), which the nodes' resolver file names: CoreDNS
# forwards there. The same server `podwire lab up` runs in <lab>-www.
#
#   docker compose exec client curl -s http://172.28.0.200/
#   docker compose exec client curl -sk https://172.28.0.200/ip
#   docker compose exec client dig api.example.com
#
# Environment:
#   PODWIRE_WWW_NAME     what the page calls this server (default: www)
#   PODWIRE_WWW_TLS_DIR  where www.crt and www.key are (made when missing;
#                        default: /run/podwire/www)
#   PODWIRE_BIN          the podwire command (see common.sh)
set -eu
ROLE=www
. "$(dirname "$0")/common.sh"

ip=$(require_ipv4 eth0)
dir=${PODWIRE_WWW_TLS_DIR:-/run/podwire/www}
say "$ip, outside the cluster: http :80, https :443 (certificate in $dir), udp echo :7, dns :53"
exec "$PODWIRE_BIN" www --name "${PODWIRE_WWW_NAME:-www}" --tls-dir "$dir"
