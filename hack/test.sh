#!/usr/bin/env bash
# The whole test suite: layering check, unit tests, and e2e tests on a real control plane.
#
# Uses $KUBECONFIG when set (kind, a cloud cluster); otherwise builds (once, cached) and
# starts the local etcd + kube-apiserver + controller-manager + scheduler + kwok cluster.
# That cluster is private to this run (its own directory and free loopback ports) unless
# KUBATCH_CLUSTER_DIR names one to reuse, so a developer's or a benchmark's cluster is never
# touched, and it is stopped when the run ends. Where the machine allows it (root,
# containerd, runc, CNI plugins, busybox-static) it also gets one real node for
# tests/e2e/test_real_node.py; KUBATCH_REAL_NODE=0 or 1 overrides the check.
# KUBATCH_REQUIRE_REAL_NODE=1 (set by .ci/run as root) makes a machine that cannot run the
# real node an error here, and a skipped real-node test a failure (testkit.tiers).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/venv.sh
if [ -z "${KUBECONFIG:-}" ] && [ -z "${KUBATCH_BIN_DIR:-}" ]; then
  KUBATCH_BIN_DIR=$(bash hack/cluster/build.sh)
  export KUBATCH_BIN_DIR
fi
if [ -z "${KUBECONFIG:-}" ] && [ -z "${KUBATCH_CLUSTER_DIR:-}" ]; then
  KUBATCH_CLUSTER_DIR=$(mktemp -d -t kubatch-test-cluster.XXXXXX)
  KUBATCH_PORT_BASE=$(python -m testkit.cluster free-port-base)
  export KUBATCH_CLUSTER_DIR KUBATCH_PORT_BASE
  trap 'python -m testkit.cluster down >/dev/null 2>&1 || true; rm -rf "$KUBATCH_CLUSTER_DIR"' EXIT
  echo ">> private test cluster in $KUBATCH_CLUSTER_DIR, ports from $KUBATCH_PORT_BASE" >&2
fi
if [ -z "${KUBECONFIG:-}" ] && [ "${KUBATCH_REQUIRE_REAL_NODE:-}" = 1 ]; then
  # CI as root: every tier runs, so a machine that cannot run the real node fails now
  if ! why=$(python -m testkit.realnode check); then
    echo ">> KUBATCH_REQUIRE_REAL_NODE=1 but the real node cannot run here: $why" >&2
    exit 1
  fi
  if [ "${KUBATCH_REAL_NODE:-1}" != 1 ]; then
    echo ">> KUBATCH_REQUIRE_REAL_NODE=1 contradicts KUBATCH_REAL_NODE=$KUBATCH_REAL_NODE" >&2
    exit 1
  fi
fi
if [ -z "${KUBECONFIG:-}" ] && [ -z "${KUBATCH_REAL_NODE:-}" ]; then
  # the real-node tests run wherever this machine allows it, and say why they are skipped elsewhere
  if why=$(python -m testkit.realnode check); then
    export KUBATCH_REAL_NODE=1
  else
    export KUBATCH_REAL_NODE=0 KUBATCH_REAL_NODE_UNAVAILABLE="$why"
    echo ">> the real-node tests will be skipped: $why" >&2
  fi
fi
echo ">> import layering (lint-imports)" >&2
lint-imports
echo ">> pytest" >&2
python -m pytest -p no:cacheprovider -rfEs "$@" tests
