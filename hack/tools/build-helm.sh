#!/usr/bin/env bash
# Builds helm from the Go module proxy, once per pin, into a cache outside the clone.
#
# Why build it: this machine (and CI) can reach the Go module proxy but not helm's
# release downloads, and a pinned source build gives every run the same helm. The pin is
# hack/tools/go.mod (`tool helm.sh/helm/v3/cmd/helm`; bump with
# `go get -tool helm.sh/helm/v3/cmd/helm@vX.Y.Z && go mod tidy` in this folder). The
# cache directory is named after the helm version and a hash of go.mod, go.sum and this
# script, so a warm cache is reused across clones and any change of pin or flags rebuilds.
#
# Prints the bin directory on stdout; everything else goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# Read the pins from go.mod rather than asking `go list`: a warm cache then needs no Go
# invocation at all.
mod_version() { awk -v m="$1" '$1 == m { print $2; exit }' "$here/go.mod"; }
helm_version=$(mod_version helm.sh/helm/v3)
client_go=$(mod_version k8s.io/client-go)
if [ -z "$helm_version" ] || [ -z "$client_go" ]; then
  echo "build-helm.sh: helm.sh/helm/v3 or k8s.io/client-go missing from $here/go.mod" >&2
  exit 1
fi

pin_hash=$(cat "$here/go.mod" "$here/go.sum" "$here/build-helm.sh" | sha256sum | cut -c1-12)
cache_root=${KUBATCH_CACHE_DIR:-$HOME/.cache/kubatch}
bin_dir="$cache_root/tools-$helm_version-$pin_hash/bin"

if [ -x "$bin_dir/helm" ]; then
  echo "$bin_dir"
  exit 0
fi

# The Kubernetes version helm assumes when it has no cluster to ask (`helm template`,
# `helm lint`'s deprecation checks): helm's own Makefile derives it from the client-go
# it is built with (v0.N.x -> 1.N), and without these flags it would claim 1.20.
kube_minor=$(echo "$client_go" | cut -d. -f2)
version_pkg=helm.sh/helm/v3/internal/version
ldflags="-s -w"
ldflags+=" -X $version_pkg.version=$helm_version -X $version_pkg.metadata= -X $version_pkg.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kube_minor"
done

export GOTOOLCHAIN=local CGO_ENABLED=0
# A per-process partial directory, renamed into place at the end: two concurrent first
# runs (parallel test sessions) both build, and whichever finishes second simply loses.
mkdir -p "$cache_root"
partial=$(mktemp -d "$cache_root/.tools-build.XXXXXX")
trap 'rm -rf "$partial"' EXIT
started=$(date +%s)
echo ">> building helm $helm_version (assumes Kubernetes 1.$kube_minor)" >&2
# -p 2 bounds memory on a two-core machine; the Go build cache makes re-runs incremental.
(cd "$here" && go build -p 2 -trimpath -ldflags "$ldflags" -o "$partial/helm" helm.sh/helm/v3/cmd/helm) >&2
mkdir -p "$(dirname "$bin_dir")"
if ! mv -T "$partial" "$bin_dir" 2>/dev/null; then
  [ -x "$bin_dir/helm" ] || { echo "build-helm.sh: could not install into $bin_dir" >&2; exit 1; }
fi
echo ">> built helm in $(( $(date +%s) - started ))s into $bin_dir" >&2
echo "$bin_dir"
