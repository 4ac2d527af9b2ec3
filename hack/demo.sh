#!/usr/bin/env bash
# `make demo`: build what is missing, start the local cluster and the operator, run the
# quick-start job and show its progress until it finishes.
#
# With KUBECONFIG set, the demo uses that cluster instead of starting one (the CRDs are
# applied to it). `make down` stops the demo operator and the local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/venv.sh
state="${KUBATCH_CLUSTER_DIR:-$HOME/.cache/kubatch/cluster}"
mkdir -p "$state"

if [ -z "${KUBECONFIG:-}" ]; then
  bin_dir=$(bash hack/cluster/build.sh)
  export PATH="$bin_dir:$PATH"
  echo ">> starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok)"
  KUBECONFIG=$(python -m testkit.cluster up --bin-dir "$bin_dir")
  export KUBECONFIG
fi
echo ">> cluster: $KUBECONFIG"

kubectl apply --server-side --force-conflicts -f crds/ >/dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null

pid_file="$state/demo-operator.pid"
if ! { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }; then
  echo ">> starting the operator (log: $state/demo-operator.log)"
  nohup kubatch operator --metrics-port 0 --health-port 0 >"$state/demo-operator.log" 2>&1 &
  echo $! >"$pid_file"
fi

job=hello-$(date +%s)
echo ">> submitting examples/quickstart as job $job"
for manifest in examples/quickstart/*.yaml; do
  case "$manifest" in
    *job*.yaml) sed "s/^  name: .*/  name: $job/" "$manifest" | kubectl apply -n default -f - ;;
    *) kubectl apply -n default -f "$manifest" ;;
  esac
done

last=""
for _ in $(seq 1 120); do
  line=$(kubectl get batchjob "$job" -n default \
    -o jsonpath='{.status.status}{"  "}{.status.statusReason}{"  "}{.status.statusMessage}' 2>/dev/null || true)
  if [ -n "$line" ] && [ "$line" != "$last" ]; then
    echo "   $(date +%T)  $line"
    last=$line
  fi
  case "$line" in SUCCEEDED*|FAILED*) break ;; esac
  sleep 0.5
done
echo
kubectl get batchjob "$job" -n default
kubectl get pods -n default -l "kubatch.io/job-name=$job" -o wide
echo
echo "Explore with kubectl (export KUBECONFIG=$KUBECONFIG), e.g. 'kubectl get bj,ce,jq -A'; stop with 'make down'."
case "$last" in SUCCEEDED*) exit 0 ;; *) exit 1 ;; esac
