"""What a submitted job runs: definition references, overrides, Ref:: parameters, sizes.

AWS semantics under test (SubmitJob / RegisterJobDefinition):
- ``jobDefinition`` is ``name`` (latest active revision) or ``name:revision``.
- ``containerOverrides`` replace ``command``/``vcpus``/``memory`` and merge
  ``environment`` by name and ``resourceRequirements`` by type.
- Job-level ``parameters``/``tags`` merge over the definition's; ``retryStrategy``,
  ``timeout`` and ``schedulingPriorityOverride`` replace the definition's.
- ``Ref::name`` in ``command`` is replaced from parameters; unknown names stay.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubatch.core.definition import (
    DefinitionRef,
    InvalidJobError,
    container_gpus,
    container_memory_mib,
    container_vcpus,
    parse_definition_ref,
    requirement,
    resolve_job,
    substitute_parameters,
)

from .builders import container, definition_spec

NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}", fullmatch=True)


# -- parse_definition_ref -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("def", DefinitionRef("def", None)),
        ("def:3", DefinitionRef("def", 3)),
        ("my_def-2:12", DefinitionRef("my_def-2", 12)),
        ("A" * 128, DefinitionRef("A" * 128, None)),
        ("x:1", DefinitionRef("x", 1)),
    ],
)
def test_definition_reference_is_a_name_and_an_optional_revision(ref: str, expected: DefinitionRef) -> None:
    assert parse_definition_ref(ref) == expected


@pytest.mark.parametrize(
    "ref",
    [
        "", None, "def:", ":3", "def:0", "def:03", "def:x", "def:1:2", "-def", "_def", "de f", "def.v2",
        "A" * 129, "arn:aws:batch:us-east-1:123456789012:job-definition/def:1",
    ],
)
def test_malformed_definition_reference_is_invalid_and_names_the_field(ref: str | None) -> None:
    with pytest.raises(InvalidJobError, match="spec.jobDefinition"):
        parse_definition_ref(ref)  # type: ignore[arg-type]


@given(name=NAMES, revision=st.none() | st.integers(min_value=1, max_value=10**6))
def test_definition_reference_round_trips(name: str, revision: int | None) -> None:
    text = name if revision is None else f"{name}:{revision}"
    assert parse_definition_ref(text) == DefinitionRef(name, revision)


# -- resolve_job: defaults and precedence ---------------------------------------------------


def test_job_without_overrides_runs_the_definition_with_aws_defaults() -> None:
    definition = definition_spec()
    resolved = resolve_job(job_spec={}, definition_spec=definition, revision=4)
    assert resolved == {
        "revision": 4,
        "type": "container",
        "parameters": {},
        "retryStrategy": {"attempts": 1},
        "timeout": {},
        "tags": {},
        "propagateTags": False,
        "schedulingPriority": 0,
        "platformCapabilities": ["EC2"],
        "containerProperties": definition["containerProperties"],
    }


@pytest.mark.parametrize(
    ("job_flag", "definition_flag", "propagated"),
    [(None, True, True), (None, False, False), (None, None, False), (False, True, False), (True, False, True)],
)
def test_the_jobs_propagate_tags_wins_over_the_definitions(job_flag, definition_flag, propagated) -> None:
    job = {} if job_flag is None else {"propagateTags": job_flag}
    definition = definition_spec() | ({} if definition_flag is None else {"propagateTags": definition_flag})
    assert resolve_job(job_spec=job, definition_spec=definition, revision=1)["propagateTags"] is propagated


def _tags(count: int, prefix: str) -> dict[str, str]:
    return {f"{prefix}{n}": "v" for n in range(count)}


def test_more_than_50_propagated_tags_fail_the_job_as_on_aws() -> None:
    definition = definition_spec(tags=_tags(30, "d"), propagateTags=True)
    assert len(resolve_job(job_spec={"tags": _tags(20, "j")}, definition_spec=definition, revision=1)["tags"]) == 50
    with pytest.raises(InvalidJobError, match=r"spec.tags: 51 tags of the job and its definition together"):
        resolve_job(job_spec={"tags": _tags(21, "j")}, definition_spec=definition, revision=1)
    not_propagated = resolve_job(job_spec={"tags": _tags(21, "j"), "propagateTags": False},
                                 definition_spec=definition, revision=1)
    assert len(not_propagated["tags"]) == 51


JOB_WINS = {"attempts": 3}
DEFINITION_RETRY = {"attempts": 2, "evaluateOnExit": [{"action": "EXIT", "onExitCode": "1"}]}


@pytest.mark.parametrize(
    ("field", "job_value", "definition_value", "resolved_field", "expected"),
    [
        ("retryStrategy", JOB_WINS, DEFINITION_RETRY, "retryStrategy", JOB_WINS),
        ("retryStrategy", None, DEFINITION_RETRY, "retryStrategy", DEFINITION_RETRY),
        ("retryStrategy", None, None, "retryStrategy", {"attempts": 1}),
        ("timeout", {"attemptDurationSeconds": 60}, {"attemptDurationSeconds": 600}, "timeout",
         {"attemptDurationSeconds": 60}),
        ("timeout", None, {"attemptDurationSeconds": 600}, "timeout", {"attemptDurationSeconds": 600}),
        ("timeout", None, None, "timeout", {}),
        ("parameters", {"b": "job", "c": "3"}, {"a": "1", "b": "def"}, "parameters", {"a": "1", "b": "job", "c": "3"}),
        ("parameters", None, {"a": "1"}, "parameters", {"a": "1"}),
        ("tags", {"team": "job", "run": "7"}, {"team": "def", "app": "x"}, "tags",
         {"team": "job", "app": "x", "run": "7"}),
        ("schedulingPriorityOverride", 7, 50, "schedulingPriority", 7),
        ("schedulingPriorityOverride", 0, 50, "schedulingPriority", 0),
        ("schedulingPriorityOverride", None, 50, "schedulingPriority", 50),
    ],
)
def test_job_level_fields_take_precedence_over_the_definition(
    field: str, job_value: object, definition_value: object, resolved_field: str, expected: object
) -> None:
    definition_field = "schedulingPriority" if field == "schedulingPriorityOverride" else field
    job_spec = {} if job_value is None else {field: job_value}
    definition = definition_spec(**{definition_field: definition_value})
    assert resolve_job(job_spec=job_spec, definition_spec=definition, revision=1)[resolved_field] == expected


def test_platform_capabilities_come_from_the_definition() -> None:
    definition = definition_spec(platformCapabilities=["FARGATE"])
    assert resolve_job(job_spec={}, definition_spec=definition, revision=1)["platformCapabilities"] == ["FARGATE"]


# -- resolve_job: containerOverrides ---------------------------------------------------------


def _resolved_container(definition_container: dict, overrides: dict | None) -> dict:
    job_spec = {} if overrides is None else {"containerOverrides": overrides}
    resolved = resolve_job(job_spec=job_spec, definition_spec=definition_spec(containerProperties=definition_container),
                           revision=1)
    return resolved["containerProperties"]


def _env(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _rr(**amounts: str) -> list[dict[str, str]]:
    return [{"type": kind, "value": value} for kind, value in amounts.items()]


@pytest.mark.parametrize(
    ("definition_container", "overrides", "expected_subset"),
    [
        pytest.param(container(command=["echo", "def"]), {"command": ["echo", "job"]},
                     {"command": ["echo", "job"]}, id="command replaced"),
        pytest.param(container(command=["echo", "def"]), {"command": None},
                     {"command": ["echo", "def"]}, id="command kept when override is null"),
        pytest.param(container(vcpus=1, memory=2048), {"vcpus": 4, "memory": 8192},
                     {"vcpus": 4, "memory": 8192}, id="legacy vcpus and memory replaced"),
        pytest.param(container(environment=_env(("A", "1"), ("B", "2"))),
                     {"environment": _env(("B", "3"), ("C", "4"))},
                     {"environment": _env(("A", "1"), ("B", "3"), ("C", "4"))},
                     id="environment merged by name"),
        pytest.param(container(environment=_env(("A", "1"))), {"environment": []},
                     {"environment": _env(("A", "1"))}, id="empty environment override keeps definition's"),
        pytest.param(container(), {"environment": _env(("C", "4"))},
                     {"environment": _env(("C", "4"))}, id="environment added to a definition without one"),
        pytest.param(container(vcpus=None, memory=None, resourceRequirements=_rr(VCPU="2", MEMORY="4096")),
                     {"resourceRequirements": _rr(MEMORY="8192", GPU="1")},
                     {"resourceRequirements": _rr(VCPU="2", MEMORY="8192", GPU="1")},
                     id="resourceRequirements merged by type"),
        pytest.param(container(), {"resourceRequirements": _rr(VCPU="0.5")},
                     {"resourceRequirements": _rr(VCPU="0.5")}, id="resourceRequirements added"),
        pytest.param(container(image="busybox:1.36"), {}, {"image": "busybox:1.36"}, id="no overrides"),
    ],
)
def test_container_overrides_apply_field_by_field(
    definition_container: dict, overrides: dict, expected_subset: dict
) -> None:
    resolved = _resolved_container(definition_container, overrides)
    assert {key: resolved.get(key) for key in expected_subset} == expected_subset
    untouched = {key for key in definition_container if key not in expected_subset}
    assert {key: resolved[key] for key in untouched} == {key: definition_container[key] for key in untouched}


def test_resolving_never_changes_the_definition_and_shares_nothing_with_it() -> None:
    definition = definition_spec(
        parameters={"a": "1"}, tags={"t": "1"}, retryStrategy={"attempts": 2}, timeout={"attemptDurationSeconds": 90},
        containerProperties=container(environment=_env(("A", "1")), command=["echo", "Ref::a"]),
    )
    before = copy.deepcopy(definition)
    job_spec = {"containerOverrides": {"environment": _env(("B", "2"))}, "parameters": {"a": "2"}}
    resolved = resolve_job(job_spec=job_spec, definition_spec=definition, revision=1)

    resolved["containerProperties"]["environment"].append({"name": "X", "value": "x"})
    resolved["containerProperties"]["command"].append("more")
    resolved["retryStrategy"]["attempts"] = 9
    resolved["timeout"]["attemptDurationSeconds"] = 1
    resolved["parameters"]["a"] = "changed"
    resolved["tags"]["t"] = "changed"
    assert definition == before


@pytest.mark.parametrize(
    ("definition_fields", "job_spec", "expected_keys"),
    [
        ({"type": "container", "containerProperties": None,
          "eksProperties": {"podProperties": {"containers": [{"name": "main", "image": "busybox"}]}}},
         {"eksPropertiesOverride": {"podProperties": {"containers": [{"name": "main", "command": ["true"]}]}}},
         {"eksProperties", "eksPropertiesOverride"}),
        ({"type": "container", "containerProperties": None,
          "eksProperties": {"podProperties": {"containers": [{"name": "main", "image": "busybox"}]}}},
         {}, {"eksProperties"}),
        ({"type": "multinode", "containerProperties": None,
          "nodeProperties": {"numNodes": 2, "mainNode": 0, "nodeRangeProperties": []}},
         {"nodeOverrides": {"numNodes": 3}}, {"nodeProperties", "nodeOverrides"}),
    ],
)
def test_eks_and_node_properties_are_frozen_with_their_overrides(
    definition_fields: dict, job_spec: dict, expected_keys: set[str]
) -> None:
    definition = definition_spec(**definition_fields)
    resolved = resolve_job(job_spec=job_spec, definition_spec=definition, revision=1)
    assert expected_keys <= resolved.keys()
    assert "containerProperties" not in resolved
    for key in expected_keys:
        source = definition.get(key, job_spec.get(key))
        assert resolved[key] == source and resolved[key] is not source


def test_an_eks_override_without_a_name_changes_the_pods_only_container() -> None:
    pod = {"podProperties": {"containers": [{"name": "app", "image": "busybox"}]}}
    definition = definition_spec(type="container", containerProperties=None, eksProperties=pod)
    override = {"eksPropertiesOverride": {"podProperties": {"containers": [{"command": ["true"]}]}}}
    resolved = resolve_job(job_spec=override, definition_spec=definition, revision=1)
    assert resolved["eksPropertiesOverride"]["podProperties"]["containers"] == [{"name": "app", "command": ["true"]}]
    assert "name" not in override["eksPropertiesOverride"]["podProperties"]["containers"][0]
    two = copy.deepcopy(definition)
    two["eksProperties"]["podProperties"]["containers"].append({"name": "side", "image": "busybox"})
    with pytest.raises(InvalidJobError, match=r"eksPropertiesOverride.podProperties.containers\[0\].name: required, "
                                              r"as the definition's pod has 2 containers \(app, side\)"):
        resolve_job(job_spec=override, definition_spec=two, revision=1)


def test_definition_without_any_properties_is_invalid() -> None:
    with pytest.raises(InvalidJobError, match="containerProperties, eksProperties, nodeProperties"):
        resolve_job(job_spec={}, definition_spec={"type": "container"}, revision=1)


# -- Ref:: substitution ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "parameters", "expected"),
    [
        (["ffmpeg", "-i", "Ref::inputfile", "-c", "Ref::codec"], {"inputfile": "a.mov", "codec": "mp4"},
         ["ffmpeg", "-i", "a.mov", "-c", "mp4"]),
        (["echo", "Ref::missing"], {"other": "x"}, ["echo", "Ref::missing"]),
        (["echo", "Ref::missing"], {}, ["echo", "Ref::missing"]),
        (["run", "--in=Ref::input"], {"input": "s3://b/k"}, ["run", "--in=s3://b/k"]),
        (["cp", "Ref::src:Ref::dst"], {"src": "a", "dst": "b"}, ["cp", "a:b"]),
        (["echo", "Ref::my.param-1_x"], {"my.param-1_x": "v"}, ["echo", "v"]),
        (["echo", "Ref::a"], {"a": "Ref::b", "b": "nested"}, ["echo", "Ref::b"]),
        (["echo", "Ref::a"], {"a": ""}, ["echo", ""]),
        (["echo", "plain"], {"plain": "no"}, ["echo", "plain"]),
        ([], {"a": "1"}, []),
    ],
    ids=["whole arguments", "unknown stays", "no parameters", "inside an argument", "two in one argument",
         "name alphabet", "values are not expanded again", "empty value", "no placeholder", "empty command"],
)
def test_ref_placeholders_are_replaced_from_parameters(command: list[str], parameters: dict,
                                                       expected: list[str]) -> None:
    assert substitute_parameters(command, parameters) == expected


def test_job_parameters_override_definition_defaults_in_the_command() -> None:
    definition = definition_spec(parameters={"codec": "mp4", "out": "default.mp4"},
                                 containerProperties=container(command=["ffmpeg", "-c", "Ref::codec", "Ref::out"]))
    resolved = resolve_job(job_spec={"parameters": {"codec": "h265"}}, definition_spec=definition, revision=1)
    command = substitute_parameters(resolved["containerProperties"]["command"], resolved["parameters"])
    assert command == ["ffmpeg", "-c", "h265", "default.mp4"]


ARGS = st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=20), max_size=6)
PARAMS = st.dictionaries(st.from_regex(r"[A-Za-z0-9_.-]{1,8}", fullmatch=True), st.text(max_size=10), max_size=4)


@given(command=ARGS, parameters=PARAMS)
def test_arguments_without_a_placeholder_are_untouched(command: list[str], parameters: dict[str, str]) -> None:
    plain = [arg.replace("Ref::", "") for arg in command]
    assert substitute_parameters(plain, parameters) == plain


@given(command=ARGS)
def test_without_parameters_the_command_is_unchanged(command: list[str]) -> None:
    assert substitute_parameters(command, {}) == command


# -- sizes: legacy fields vs resourceRequirements ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "vcpus", "memory", "gpus"),
    [
        ({}, 1.0, 2048, 0),
        ({"vcpus": 2, "memory": 4096}, 2.0, 4096, 0),
        ({"resourceRequirements": _rr(VCPU="0.25", MEMORY="512")}, 0.25, 512, 0),
        ({"resourceRequirements": _rr(GPU="2")}, 1.0, 2048, 2),
        ({"vcpus": 8, "memory": 1024, "resourceRequirements": _rr(VCPU="2", MEMORY="4096")}, 2.0, 4096, 0),
        ({"vcpus": 8, "resourceRequirements": _rr(MEMORY="4096")}, 8.0, 4096, 0),
        ({"memory": 1024, "resourceRequirements": _rr(VCPU="4")}, 4.0, 1024, 0),
    ],
    ids=["defaults", "legacy", "requirements", "gpu", "requirements win", "mixed vcpus", "mixed memory"],
)
def test_container_size_prefers_resource_requirements_over_legacy_fields(
    fields: dict, vcpus: float, memory: int, gpus: int
) -> None:
    sized = {"image": "busybox", **fields}
    assert (container_vcpus(sized), container_memory_mib(sized), container_gpus(sized)) == (vcpus, memory, gpus)


def test_legacy_vcpus_override_does_not_beat_the_definitions_vcpu_requirement() -> None:
    """AWS: containerOverrides.vcpus "doesn't override any vCPU requirement specified in
    the resourceRequirements structure in the job definition"."""
    resolved = _resolved_container(container(vcpus=None, resourceRequirements=_rr(VCPU="2")), {"vcpus": 8})
    assert container_vcpus(resolved) == 2.0


def test_requirement_reads_one_type_as_a_string() -> None:
    sized = {"resourceRequirements": [{"type": "GPU", "value": 1}, {"type": "MEMORY", "value": "64"}]}
    assert (requirement(sized, "GPU"), requirement(sized, "MEMORY"), requirement(sized, "VCPU")) == ("1", "64", None)
