#!/usr/bin/env bash
# The two base images the compose stack builds from where no image registry can be reached (podman):
#   localhost/registry-ldap-auth/debian:bookworm  Debian 12 minbase from mmdebstrap (as debian:bookworm-slim)
#   localhost/registry-ldap-auth/node:24          that + Node 24 (the npm registry's `node` package) + npm
# Usage: base-images.sh [--force] [debian|node]...  (default both; each built only when missing, or again
# with --force). Needs root, podman and mmdebstrap; the node image also needs `npm ci` done.
set -euo pipefail
cd "$(dirname "$0")/../.."
debian=localhost/registry-ldap-auth/debian:bookworm
node=localhost/registry-ldap-auth/node:24
force=
wanted=()
for arg in "$@"; do
  if [ "$arg" = --force ]; then force=--force; else wanted+=("$arg"); fi
done
[ ${#wanted[@]} -gt 0 ] || wanted=(debian node)

have() { [ "$force" != --force ] && podman image exists "$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ " ${wanted[*]} " == *" debian "* ]] && ! have "$debian"; then
  echo "base-images: $debian (mmdebstrap, about a minute)" >&2
  mmdebstrap --quiet --variant=minbase --mode=root bookworm "$work/rootfs.tar"
  podman import --quiet --change 'CMD ["bash"]' "$work/rootfs.tar" "$debian" >/dev/null
  rm -f "$work/rootfs.tar"
fi

if [[ " ${wanted[*]} " == *" node "* ]] && ! have "$node"; then
  echo "base-images: $node" >&2
  # Node 24 as the workspace pins it (the root devDependency `node`, installed by npm ci).
  binary=node_modules/node/bin/node
  [ -x "$binary" ] && [[ $("$binary" --version) == v24.* ]] || {
    echo "base-images: $binary is not Node 24: run npm ci first" >&2
    exit 1
  }
  cp "$binary" "$work/node"
  npm_version=$(sed -n 's/.*"packageManager": "npm@\([^"]*\)".*/\1/p' package.json)
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null && mv npm-*.tgz npm.tgz)
  cp /etc/ssl/certs/ca-certificates.crt "$work/"
  cp compose/local/node/Dockerfile "$work/"
  podman build --quiet --network host --build-arg "BASE_IMAGE=$debian" -t "$node" "$work" >/dev/null
fi
