# Shared by the entrypoints in this folder (sourced, not run). POSIX sh.
#
# Every entrypoint runs unchanged in three places: a container of
# compose.yaml (the image puts `podwire` on PATH, the repo at /opt/podwire),
# a netns "container" in test/integration/containers.test.ts, and a plain
# Linux host running a checkout (then `podwire` is bin/podwire.js).
#
# Environment read here:
#   PODWIRE_BIN      the podwire command (default: `podwire` on PATH, else this
#                    checkout's bin/podwire.js)
#   PODWIRE_PKI_DIR  the cluster's PKI and kubeconfigs (default: /etc/podwire/pki,
#                    compose's `pki` volume; apiserver.sh makes them)

# the repository (or /opt/podwire in the image): one level above this folder
PODWIRE_ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${PODWIRE_BIN:-}" ]; then
  if command -v podwire >/dev/null 2>&1; then PODWIRE_BIN=podwire; else PODWIRE_BIN="$PODWIRE_ROOT/bin/podwire.js"; fi
fi

PODWIRE_PKI_DIR=${PODWIRE_PKI_DIR:-/etc/podwire/pki}

# say MSG: one line on stdout, tagged with the role (docker compose logs shows it too)
say() { printf '%s: %s\n' "$ROLE" "$*"; }

# die MSG: an error on stderr, kubectl-style, and exit 1
die() {
  printf 'error: %s: %s\n' "$ROLE" "$*" >&2
  exit 1
}

# ipv4_of IF: the first IPv4 address/prefix of interface IF, or nothing
ipv4_of() { ip -4 -o addr show dev "$1" 2>/dev/null | sed -n 's/.* inet \([0-9.]*\/[0-9]*\).*/\1/p' | head -n 1; }

# require_ipv4 IF: the address of IF, or die. In a container Docker has
# configured eth0 before the entrypoint starts; in the netns lab the test has.
require_ipv4() {
  _addr=$(ipv4_of "$1")
  [ -n "$_addr" ] || die "no IPv4 address on $1 (a node needs its underlay link: Docker's eth0)"
  printf '%s\n' "$_addr"
}

# api_curl ARGS…: curl that trusts the cluster CA once there is one (the API server is HTTPS)
api_curl() {
  if [ -f "$PODWIRE_PKI_DIR/ca.crt" ]; then curl --cacert "$PODWIRE_PKI_DIR/ca.crt" "$@"; else curl "$@"; fi
}

# wait_for_apiserver URL SECONDS: until URL/livez answers (anonymous: health
# is open to all, as kube-apiserver's), or die after SECONDS
wait_for_apiserver() {
  _deadline=$(($(date +%s) + $2))
  until api_curl -fsS --max-time 2 -o /dev/null "$1/livez" 2>/dev/null; do
    [ "$(date +%s)" -lt "$_deadline" ] || die "the API server at $1 did not answer within $2 s"
    sleep 1
  done
}
