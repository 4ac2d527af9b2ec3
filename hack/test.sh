#!/usr/bin/env bash
# The whole test suite: layering check, unit tests, and e2e tests on a real control plane.
#
# Uses $KUBECONFIG when set (kind, a cloud cluster); otherwise builds (once, cached) and
# starts the local etcd + kube-apiserver + controller-manager + scheduler + kwok cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/venv.sh
if [ -z "${KUBECONFIG:-}" ] && [ -z "${KUBATCH_BIN_DIR:-}" ]; then
  KUBATCH_BIN_DIR=$(bash hack/cluster/build.sh)
  export KUBATCH_BIN_DIR
fi
echo ">> import layering (lint-imports)" >&2
lint-imports
echo ">> pytest" >&2
exec python -m pytest -p no:cacheprovider -rfE "$@" tests
