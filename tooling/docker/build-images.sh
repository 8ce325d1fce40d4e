#!/usr/bin/env bash
# `pnpm images`: builds the container image of every collector from tooling/docker/Dockerfile with podman
# (no Docker daemon needed), then runs each image once against its simulator and a real TLS syslog receiver
# (every event must land, tag by tag) and the first one as a daemon (health check, SIGTERM -> exit 0).
#
#   pnpm images                      # all five, then the smoke run
#   pnpm images --only lark,darktrace
#   pnpm images --no-smoke
#   BASE_IMAGE=docker.io/library/node:24-trixie-slim pnpm images    # a registry image instead of the local stand-in
#
# Without a reachable container registry (the case on the build machines) it first builds a local stand-in
# for node:24-trixie-slim (make-base-image.sh: debootstrap + Node 24). Images are tagged
# localhost/devo-collector-<app>:<version> and :latest.
#
# Host workarounds (see docs/environment.md section 7 in the shared docs): podman's default rlimits need
# CAP_SYS_RESOURCE and crun refuses a hybrid cgroup v1+v2 host, so unless CONTAINERS_CONF is already set
# this script uses its own containers.conf (runc, cgroupfs, explicit ulimits). To run the images by hand
# afterwards, export the CONTAINERS_CONF line it prints.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

# Every app under apps/ (tooling/repo-checks/test/vendors.test.ts holds that folder equal to the registry).
mapfile -t ALL_APPS < <(ls apps)
apps=("${ALL_APPS[@]}")
smoke=1
while [ $# -gt 0 ]; do
  case "$1" in
    --only) IFS=, read -r -a apps <<<"${2:?--only needs a comma-separated list}"; shift 2 ;;
    --only=*) IFS=, read -r -a apps <<<"${1#--only=}"; shift ;;
    --no-smoke) smoke=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { printf '\n== %s\n' "$*"; }

# ---- tools ----------------------------------------------------------------------------------------------
need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v runc >/dev/null 2>&1 || need+=(runc)
if [ -z "${BASE_IMAGE:-}" ]; then command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap); fi
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} (apt)"
  [ "$(id -u)" = 0 ] || { echo "need root to apt-get install ${need[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" uidmap catatonit >/dev/null
fi

if [ -z "${CONTAINERS_CONF:-}" ]; then
  conf_dir="$repo/.tmp/containers"
  mkdir -p "$conf_dir"
  cat >"$conf_dir/containers.conf" <<'EOF'
[containers]
# sandboxes without CAP_SYS_RESOURCE cannot raise podman's default rlimits (nofile/nproc 1048576)
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
# crun 1.8 refuses a hybrid cgroup v1+v2 layout; runc 1.1 works
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  export CONTAINERS_CONF="$conf_dir/containers.conf"
fi

# ---- base image -----------------------------------------------------------------------------------------
if [ -n "${BASE_IMAGE:-}" ]; then
  base="$BASE_IMAGE"
else
  base="localhost/node:24-trixie-slim"
  log "local stand-in base image $base"
  bash "$here/make-base-image.sh" "$base"
fi

# ---- images ---------------------------------------------------------------------------------------------
# A working tree whose lockfile is behind its package.json files (work in progress) still builds.
install_flags="--frozen-lockfile --offline"
if ! pnpm install --frozen-lockfile --offline --lockfile-only >/dev/null 2>&1; then
  install_flags="--no-frozen-lockfile --prefer-offline"
  echo "note: pnpm-lock.yaml is not up to date with the package.json files; building with $install_flags"
fi

built=()
failed=()
for app in "${apps[@]}"; do
  if [ ! -f "apps/$app/package.json" ]; then
    echo "apps/$app does not exist (yet)" >&2
    failed+=("$app")
    continue
  fi
  version="$(node -p "require('./apps/$app/package.json').version")"
  image="localhost/devo-collector-$app"
  log "building $image:$version"
  start=$(date +%s)
  if podman build --format docker --layers \
      -f tooling/docker/Dockerfile --ignorefile tooling/docker/Dockerfile.dockerignore \
      --build-arg BASE_IMAGE="$base" --build-arg APP="$app" --build-arg PNPM_INSTALL_FLAGS="$install_flags" \
      -t "$image:$version" -t "$image:latest" . >"$repo/.tmp/containers/build-$app.log" 2>&1; then
    size="$(podman image inspect "$image:$version" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
    echo "built $image:$version in $(( $(date +%s) - start )) s ($size); log: .tmp/containers/build-$app.log"
    built+=("$app")
  else
    echo "FAILED to build $image (last lines of .tmp/containers/build-$app.log):" >&2
    tail -15 "$repo/.tmp/containers/build-$app.log" >&2
    failed+=("$app")
  fi
done

# ---- smoke run ------------------------------------------------------------------------------------------
smoke_status=0
if [ "$smoke" = 1 ] && [ ${#built[@]} -gt 0 ]; then
  log "smoke run against a TLS syslog receiver"
  # `pnpm images` builds the workspace first; build here only what is missing (a rebuild while tests run
  # next to this would rewrite dist/ files under their feet).
  if [ ! -f tooling/demo/dist/index.js ] || [ ! -f tooling/simulators/dist/index.js ] || [ ! -f tooling/testkit/dist/index.js ]; then
    pnpm -s --filter @collector/demo... run build >/dev/null
  fi
  node "$here/smoke.mjs" "${built[@]}" || smoke_status=$?
fi

log "summary"
echo "built: ${built[*]:-none}"
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "run them with: export CONTAINERS_CONF=$CONTAINERS_CONF"
[ ${#failed[@]} -eq 0 ] && [ "$smoke_status" = 0 ]
