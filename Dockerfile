# podwire: one image for every role of compose.yaml (API server, etcd, nodes,
# the external client, the demo applier). Debian with Node 20, the tools a
# learner uses inside nodes and pods, the native addon and the workload
# binary built in the image, `podwire` on PATH.
#
#   docker compose up          (builds it as podwire:local)
#   docker build -t podwire .
FROM node:20-bookworm-slim

# The system tools .ci/run installs (the same ones the tests use), plus dig:
#   nodes and pods: iproute2 (ip, bridge, tc), util-linux (nsenter, unshare,
#     setpriv), bubblewrap (bwrap: containers' sandboxes, src/host/sandbox.ts),
#     procps, iputils-ping, traceroute, ethtool, iperf3, tcpdump, tshark,
#     curl, bind9-dnsutils (dig), busybox (the applets of busybox-based images)
#   debug images' tools (src/kubelet/image-tools.ts): wget, net-tools, nmap,
#     netcat-openbsd, jq
#   the etcd profile: etcd-server (so nothing else has to be pulled)
#   the cluster's PKI (src/host/pki.ts, `podwire pki` in apiserver.sh): openssl
#     (ca-certificates depends on it; named so that it stays)
#   node-gyp (npm ci builds the AF_PACKET addon and podwire-workload): python3 make g++
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      iproute2 util-linux procps iputils-ping traceroute ethtool \
      iperf3 tcpdump tshark etcd-server \
      python3 make g++ ca-certificates openssl curl busybox \
      bind9-dnsutils wget net-tools nmap netcat-openbsd jq bubblewrap \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/podwire
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# What `npm ci` needs (its install script runs node-gyp on binding.gyp and
# src/native, its prepare script compiles src/ and bundles the CLI), then the rest of the runtime:
# bin/ (the CLI), containers/ (the entrypoints), examples/ (the demo app).
COPY package.json package-lock.json binding.gyp tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY scripts/bundle.mjs ./scripts/bundle.mjs
COPY containers ./containers
COPY examples ./examples

# The same steps CI runs: npm ci (addon, workload binary, TypeScript), then
# the build. node-gyp builds against the Node headers the base image ships in
# /usr/local/include/node when they are there, rather than downloading them.
# The dev dependencies (compiler, test runner) go afterwards.
RUN if [ -f /usr/local/include/node/common.gypi ]; then export npm_config_nodedir=/usr/local; fi \
 && npm ci \
 && npm run build \
 && test -x build/Release/podwire-workload \
 && test -f build/Release/podwire_native.node \
 && npm prune --omit=dev --ignore-scripts \
 && npm cache clean --force \
 && ln -s /opt/podwire/bin/podwire.js /usr/local/bin/podwire \
 && podwire --help >/dev/null

# compose.yaml gives every service its role's entrypoint (containers/*.sh);
# alone, the image answers with the CLI's help.
CMD ["podwire", "--help"]
