"""The container image's Dockerfile, read as text: no Docker engine is needed.

What is checked is what the chart and users rely on: the image runs `kubatch operator`
as the same non-root uid the chart sets, and the runtime stage installs only the wheels
built from pyproject.toml (no source tree, no build tools, no test kit).
"""

from __future__ import annotations

import fnmatch
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


def _in_build_context(path: str) -> bool:
    """Whether Docker sends ``path`` (relative, with /) to the build: .dockerignore's last matching
    rule wins, and a rule that matches a directory matches everything under it."""
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    sent = True
    for rule in rules:
        pattern = rule.removeprefix("!").rstrip("/")
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            sent = rule.startswith("!")
    return sent


def test_the_test_kit_is_neither_in_the_wheel_nor_in_the_build_context() -> None:
    """The image installs the wheel built from the build context: the test kit (local cluster, real
    node) must reach neither, so the image carries none of it (issue 17)."""
    from setuptools import find_packages

    assert (ROOT / "testkit" / "cluster.py").is_file()
    assert _in_build_context("operator/kubatch/cli/main.py") and _in_build_context("pyproject.toml")
    assert not _in_build_context("testkit/cluster.py") and not _in_build_context("tests/e2e/conftest.py")
    assert not _in_build_context("operator/kubatch/__pycache__/x.pyc")

    where = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["where"]
    packaged = {package for folder in where for package in find_packages(where=str(ROOT / folder))}
    assert "kubatch.controller" in packaged
    assert all(package.split(".")[0] == "kubatch" for package in packaged), packaged
    assert not any("testkit" in package or package == "kubatch.testing" for package in packaged), packaged
    assert not any((ROOT / folder / "testkit").exists() or (ROOT / folder / "kubatch" / "testing").exists()
                   for folder in where)
