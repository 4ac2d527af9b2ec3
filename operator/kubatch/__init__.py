"""kubatch: AWS Batch's model (queues, compute environments, jobs) as a Kubernetes operator.

Layers, checked by import-linter (see pyproject.toml):
  api/         pydantic models of the five kinds, the single source of the CRDs
  core/        pure decisions (scheduling, life cycle, retries, pod manifests); no I/O, no clock
  kube/        the only code that talks to the API server
  controller/  kopf handlers and the one scheduler loop that wires core to kube
  cli/         the `kubatch` command
"""
