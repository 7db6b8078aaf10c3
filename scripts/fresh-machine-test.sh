#!/usr/bin/env bash
# Runs CI's command (.ci/run: npm ci, npm test, npm run test:compose) on a fresh clone inside a clean
# Debian 12 container that has only what a new machine of this project's kind has: Debian minbase,
# ca-certificates git python3 procps iproute2 curl, and this host's Node 20 + npm, kubectl (with its
# built-in kustomize, which these machines carry and Debian does not package) and CA bundle.
# A Debian package missing from scripts/install-system-deps.sh shows up here and nowhere else.
#   scripts/fresh-machine-test.sh [REF] [COMMAND]   REF default main; COMMAND default 'bash .ci/run'
# Needs root and podman (scripts/install-system-deps.sh installs it). Prints the time it took.
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
ref=${1:-main}
command=${2:-bash .ci/run}
image=localhost/registry-ldap-auth/fresh-machine:bookworm-kubectl
started=$(date +%s)

work=$(mktemp -d /var/tmp/fresh-machine.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

bash "$repo/compose/local/base-images.sh" debian
if ! podman image exists "$image"; then
  echo "fresh-machine: building $image" >&2
  mkdir "$work/context"
  cp /usr/bin/node "$work/context/node"
  cp "$(readlink -f "$(command -v kubectl)")" "$work/context/kubectl"
  cp -r /usr/lib/node_modules/npm "$work/context/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$work/context/"
  cat > "$work/context/Dockerfile" <<'DOCKERFILE'
FROM localhost/registry-ldap-auth/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates git python3 procps iproute2 curl \
 && rm -rf /var/lib/apt/lists/*
COPY node /usr/bin/node
COPY kubectl /usr/bin/kubectl
COPY npm /usr/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/bin/npx
DOCKERFILE
  podman build --quiet --network host -t "$image" "$work/context" >/dev/null
fi

git clone --quiet --branch "$ref" "$repo" "$work/clone"
echo "fresh-machine: $(git -C "$work/clone" log --oneline -1) in $image: $command" >&2
# --privileged: the tests make network namespaces, and test:compose runs podman inside. --network host:
# the registries' DNS (the tests' servers share the host's loopback: nothing else may use their ports).
# The inner podman keeps its images on a host directory: overlay on the container's own overlay fails.
mkdir -p "$work/containers"
status=0
podman run --rm --privileged --network host -e CI=true \
  -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  -v "$work/clone:/w" -v "$work/containers:/var/lib/containers" -w /w \
  "$image" bash -c "$command" || status=$?
echo "fresh-machine: exit $status after $(($(date +%s) - started)) s" >&2
exit $status
