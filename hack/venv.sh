# Sourced by the hack/ scripts: a virtualenv outside the clone with kubatch installed.
#
# Why outside: CI and newcomers start from a fresh clone; a venv under ~/.cache is reused
# across clones, and `pip install -e` keeps it pointing at this checkout.
kubatch_cache=${KUBATCH_CACHE_DIR:-$HOME/.cache/kubatch}
venv="$kubatch_cache/venv"
if [ ! -x "$venv/bin/python" ]; then
  echo ">> creating $venv" >&2
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -c requirements.lock -e ".[test]" >&2
export PATH="$venv/bin:$PATH"
