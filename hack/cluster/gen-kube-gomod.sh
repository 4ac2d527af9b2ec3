#!/usr/bin/env bash
# Writes hack/cluster/kube/go.mod for the pinned Kubernetes release.
#
# Why: k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, ...)
# at v0.0.0, so a module that builds its commands needs one replace per staging module,
# pointing at the matching published v0.<minor>.<patch>. The list is read from the
# release's own go.mod rather than typed by hand, so a pin change stays a one-line edit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
staging_version="v0.${KUBE_VERSION#v1.}"

upstream_gomod=$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')

cd "$here/kube"
rm -f go.mod go.sum
go mod init kubatch.local/hack/kube >/dev/null 2>&1
go mod edit -go=1.25.0
# Staging modules are the k8s.io requirements pinned at v0.0.0 in the release's go.mod.
grep -E '^\s*k8s\.io/[a-z0-9-]+ v0\.0\.0\s*$' "$upstream_gomod" | awk '{print $1}' | sort -u |
  while read -r staging; do
    go mod edit -replace "${staging}=${staging}@${staging_version}"
  done
go mod edit -require "k8s.io/kubernetes@${KUBE_VERSION}"
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  go get -tool "k8s.io/kubernetes/cmd/${cmd}@${KUBE_VERSION}"
done
go mod tidy
echo "wrote $here/kube/go.mod for ${KUBE_VERSION} (staging ${staging_version})"
