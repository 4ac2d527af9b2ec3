#!/usr/bin/env bash
# `make down`: stop the demo operator (if any) and the local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
state="${KUBATCH_CLUSTER_DIR:-$HOME/.cache/kubatch/cluster}"
if [ -f "$state/demo-operator.pid" ]; then
  kill "$(cat "$state/demo-operator.pid")" 2>/dev/null || true
  rm -f "$state/demo-operator.pid"
fi
source hack/venv.sh
python -m testkit.cluster down
