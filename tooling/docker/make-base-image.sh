#!/usr/bin/env bash
# Builds a local stand-in for the official `node:24-trixie-slim` image, for machines that cannot reach a
# container registry: a minimal Debian trixie made with debootstrap from the host's apt mirror, plus a Node 24
# binary (the host's when it is Node 24, else the one .ci/setup installs from the npm registry) and the host's
# npm in the same places the official image has them (/usr/local/bin/node, /usr/local/lib/node_modules/npm)
# and the same non-root user `node` (uid/gid 1000).
#
# Usage: make-base-image.sh IMAGE_NAME   (skips the work when IMAGE_NAME already exists)
# Needs: podman, debootstrap, root. Honours CONTAINERS_CONF / CONTAINERS_STORAGE_CONF (see build-images.sh).
set -euo pipefail
image="${1:?usage: make-base-image.sh IMAGE_NAME}"

if podman image exists "$image"; then
  echo "base image $image exists; reusing it"
  exit 0
fi

# Node 24, as in the official image: the host's, or the one .ci/setup installs (no root needed for that).
repo="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "$(node -p 'process.versions.node.split(".")[0]')" != 24 ]; then
  env_line="$(bash "$repo/.ci/setup" --node-min 24)" && eval "$env_line"
fi
node_bin="$(readlink -f "$(command -v node)")"
[ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" = 24 ] || { echo "need Node 24 for the stand-in base image, found $("$node_bin" --version)" >&2; exit 1; }
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"   # .../node_modules/npm
[ -f "$npm_dir/package.json" ] || { echo "cannot find npm next to $(command -v npm)" >&2; exit 1; }

# The Debian mirror the host's apt already uses (deb822 or one-line sources), else the default one.
mirror="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
[ -n "$mirror" ] || mirror="$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
[ -n "$mirror" ] || mirror="http://deb.debian.org/debian"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "debootstrap trixie from $mirror (about 30 s)"
debootstrap --variant=minbase --include=ca-certificates trixie "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

# Node and npm where node:24-trixie-slim has them.
install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# The host's trust store: where egress goes through a TLS-inspecting proxy, its CA (installed on the host
# under /usr/local/share/ca-certificates) must be trusted inside the build too, or npm cannot fetch.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" /usr/sbin/update-ca-certificates >/dev/null 2>&1
fi
# The official image's unprivileged user.
chroot "$rootfs" /usr/sbin/groupadd --gid 1000 node
chroot "$rootfs" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# Smaller image: apt lists, docs and caches are not needed at run time.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

node_version="$("$node_bin" --version)"
tar -C "$rootfs" -c . | podman import --quiet \
  --change 'CMD ["node"]' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  - "$image" >/dev/null
echo "built base image $image (Debian trixie minbase + node $node_version)"
