#!/usr/bin/env bash
# Builds the local test control plane from the Go module proxy, once per pin.
#
# Why: this machine has no Docker and no downloads beyond package registries, so the
# real kube-apiserver, controller-manager, scheduler, kubectl, kubelet (for the optional
# real node), etcd and kwok are compiled here. The output lives outside the clone (CI clones afresh) in a directory named after
# the pins, so a warm cache is reused and a pin change rebuilds.
#
# Prints the bin directory on stdout; everything else goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
pin_hash=$(cat "$here/versions.env" "$here/kube/go.mod" "$here/etcd/go.mod" | sha256sum | cut -c1-12)
cache_root=${KUBATCH_CACHE_DIR:-$HOME/.cache/kubatch}
bin_dir="$cache_root/cluster-$KUBE_VERSION-$pin_hash/bin"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet etcd kwok)

missing() {
  local b
  for b in "$@"; do [ -x "$bin_dir.partial/$b" ] || return 0; done
  return 1
}

if [ -d "$bin_dir" ]; then
  all=1
  for b in "${binaries[@]}"; do [ -x "$bin_dir/$b" ] || all=0; done
  if [ "$all" = 1 ]; then
    echo "$bin_dir"
    exit 0
  fi
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
# start from what an older cache already holds: only the missing commands are built
rm -rf "$bin_dir.partial" && mkdir -p "$bin_dir.partial"
if [ -d "$bin_dir" ]; then cp -a "$bin_dir/." "$bin_dir.partial/"; fi
started=$(date +%s)
# -p 2 bounds memory on a two-core machine; the build cache makes re-runs incremental.
build=(go build -p 2 -trimpath)

minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
version_pkg=k8s.io/component-base/version
kube_ldflags="-s -w -X $version_pkg.gitVersion=$KUBE_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean -X $version_pkg.buildDate=1970-01-01T00:00:00Z"
kube_commands=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)
if missing "${kube_commands[@]}"; then
  echo ">> building Kubernetes $KUBE_VERSION (one go build for all five commands)" >&2
  (cd "$here/kube" && "${build[@]}" -ldflags "$kube_ldflags" -o "$bin_dir.partial/" \
    "${kube_commands[@]/#/k8s.io/kubernetes/cmd/}") >&2
fi

if missing etcd; then
  echo ">> building etcd $ETCD_VERSION" >&2
  (cd "$here/etcd" && "${build[@]}" -ldflags "-s -w" -o "$bin_dir.partial/etcd" .) >&2
fi

if missing kwok; then
  echo ">> building kwok $KWOK_VERSION" >&2
  GOBIN="$bin_dir.partial" go install -p 2 -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
fi

rm -rf "$bin_dir" && mv "$bin_dir.partial" "$bin_dir"
echo ">> built in $(( $(date +%s) - started ))s into $bin_dir" >&2
echo "$bin_dir"
