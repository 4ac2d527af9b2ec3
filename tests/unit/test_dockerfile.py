"""The container image's Dockerfile, read as text: no Docker engine is needed.

What is checked is what the chart and users rely on: the image runs `kubatch operator`
as the same non-root uid the chart sets, and the runtime stage installs only the wheels
built from pyproject.toml (no source tree, no build tools).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as (INSTRUCTION, arguments) per stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    result: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            result.append([])
        if result:
            result[-1].append((instruction.upper(), args.strip()))
    return result


def test_runtime_stage_runs_the_operator_as_the_charts_user() -> None:
    *_, runtime = stages()
    last = {instruction: args for instruction, args in runtime}
    assert json.loads(last["ENTRYPOINT"]) == ["kubatch"]
    assert json.loads(last["CMD"]) == ["operator"]
    # The console script the ENTRYPOINT names is the one pyproject.toml declares.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "kubatch" in project["scripts"]
    values = yaml.safe_load((ROOT / "charts/kubatch/values.yaml").read_text())
    uid = values["podSecurityContext"]["runAsUser"]
    assert last["USER"] == f"{uid}:{values['podSecurityContext']['runAsGroup']}" and uid != 0


def test_runtime_stage_installs_built_wheels_only() -> None:
    build, runtime = stages()
    assert build[0][1].startswith("${PYTHON_IMAGE}") and "pip wheel" in " ".join(a for _, a in build)
    runtime_text = " ".join(args for _, args in runtime)
    assert "COPY" not in {instruction for instruction, _ in runtime}
    assert "--no-index" in runtime_text and "from=build" in runtime_text
    for tool in ("apt-get", "gcc", "build-essential"):
        assert tool not in runtime_text
    assert "org.opencontainers.image.version" in runtime_text


def test_build_context_is_an_allow_list() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!operator/"} <= set(lines)


def test_every_dependency_is_locked_to_a_version_pyproject_allows() -> None:
    from packaging.requirements import Requirement

    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[name.lower().replace("_", "-")] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        requirement = Requirement(text)
        version = locked.get(requirement.name.lower().replace("_", "-"))
        assert version is not None, f"{requirement.name} is not in requirements.lock: run bash hack/lock.sh"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version} breaks {requirement}"
    build, _ = stages()
    assert "--constraint requirements.lock" in " ".join(args for _, args in build)
    assert "!requirements.lock" in (ROOT / ".dockerignore").read_text().splitlines()
    assert "-c requirements.lock" in (ROOT / "hack" / "venv.sh").read_text()
