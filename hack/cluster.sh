#!/usr/bin/env bash
# hack/cluster.sh up|down|status [--pool NAME=COUNTxCPUxMEM_GI ...]: the local test cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/venv.sh
exec python -m testkit.cluster "$@"
