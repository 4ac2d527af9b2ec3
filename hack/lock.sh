#!/usr/bin/env bash
# Regenerate requirements.lock: resolve pyproject.toml's dependencies (runtime and test)
# afresh in a throwaway virtualenv and record the exact versions.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
{
  echo "# Exact versions of every dependency (runtime and .[test]), used as pip constraints by"
  echo "# hack/venv.sh and the Dockerfile so tests, CI and the image resolve the same versions."
  echo "# Regenerate after changing pyproject.toml: bash hack/lock.sh"
  "$scratch/venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check | sort -f
} > requirements.lock
echo "wrote requirements.lock" >&2
