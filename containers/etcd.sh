#!/bin/sh
# etcd for compose's `etcd` profile: Debian's etcd-server, already in the
# podwire image, as a single member. The API server finds it by name
# (apiserver.sh) and keeps every object in it instead of its embedded store.
#
# Environment:
#   PODWIRE_ETCD_DATA_DIR  etcd's data directory (default: /var/lib/etcd, a volume in compose.yaml)
#   PODWIRE_ETCD_HOST      the name clients use for it (default: etcd)
# (etcd reads ETCD_* variables itself, so none are set here: a variable and
# the flag of the same setting would conflict.)
set -eu
ROLE=etcd
. "$(dirname "$0")/common.sh"

data=${PODWIRE_ETCD_DATA_DIR:-/var/lib/etcd}
mkdir -p "$data"
chmod 700 "$data"
# etcd 3.4 runs on arm64 (Docker Desktop on Apple silicon) only when told to
case $(uname -m) in
  aarch64 | arm64) export ETCD_UNSUPPORTED_ARCH=arm64 ;;
esac

say "data in $data, clients on :2379"
exec etcd \
  --name etcd \
  --data-dir "$data" \
  --listen-client-urls http://0.0.0.0:2379 \
  --advertise-client-urls "http://${PODWIRE_ETCD_HOST:-etcd}:2379"
