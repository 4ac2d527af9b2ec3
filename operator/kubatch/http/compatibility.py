"""The AWS compatibility page: which operations and request fields kubatch supports, asked of the code itself.

Why probed rather than written down: a table typed by hand drifts from the code. Each
field of botocore's model is sent to the service layer in a request of its own (with
dummy values for the required fields) on a stand-in cluster that is never reached
for writes, and the service's answer classifies it:

- **supported**: accepted (other errors, such as a dummy value being invalid, do not count);
- **ignored**: removed with a warning (``<field> is ignored: <why>``), the AWS-only settings;
- **refused**: ``<field>: not supported by kubatch (<why>)``;
- **unknown**: ``<field>: is not a known field``: AWS has it, kubatch does not model it.

A structure is opened field by field only when it refuses a field name nobody has
(the API models check it); otherwise its inner fields are passed on as given (for
instance Kubernetes container objects, which the API server validates) and it is one
row. ``python -m kubatch.http.generate`` writes the result between the markers of
``docs/aws-compatibility.md``; a unit test fails when the page is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubatch.http.model import ROUTES
from kubatch.service import OPERATIONS, BatchError, Context, invoke
from kubatch.service.port import Obj

BEGIN = "<!-- BEGIN GENERATED: python -m kubatch.http.generate -->"
END = "<!-- END GENERATED -->"
BOGUS = "kubatchProbeNoSuchField"
UNCHECKED = "inner fields not probed: this structure does not refuse unknown fields"

ServiceModel = dict[str, Any]
FieldPath = tuple[str | int, ...]


class _Offline:
    """A cluster where every name exists with an empty spec and nothing can be written: probes stop there."""

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Obj:
        return {"kind": kind, "metadata": {"name": name, "namespace": namespace, "generation": 1,
                                           "uid": "00000000-0000-0000-0000-000000000000"}, "spec": {}}

    async def list(self, kind: str, *, namespace: str | None = None, label_selector: str = "") -> list[Obj]:
        return []

    async def create(self, kind: str, body: Obj, *, namespace: str | None = None) -> Obj:
        raise ConnectionRefusedError("probe")

    async def patch(self, kind: str, name: str, patch: Obj, *, namespace: str | None = None,
                    status: bool = False) -> Obj:
        raise ConnectionRefusedError("probe")

    async def delete(self, kind: str, name: str, *, namespace: str | None = None) -> None:
        raise ConnectionRefusedError("probe")

    async def list_pods(self, *, label_selector: str, namespace: str | None = None) -> list[Obj]:
        return []

    async def read_pod_log(self, namespace: str, name: str, *, container: str = "main") -> str:
        raise ConnectionRefusedError("probe")


@dataclass(frozen=True)
class Row:
    path: str
    required: bool
    support: str
    note: str = ""


def _text(path: FieldPath) -> str:
    """A path as the service's messages write it: ``a.b[0].c``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _shown(path: FieldPath) -> str:
    return _text(path).replace("[0]", "[]")


class Prober:
    """Classifies the request fields of one operation by asking the service layer."""

    def __init__(self, model: ServiceModel, operation: str) -> None:
        self.shapes = model["shapes"]
        self.operation = operation
        self.input = model["operations"][operation]["input"]["shape"]

    def dummy(self, shape_name: str) -> Any:
        """A value of the shape: a structure with its required members, a list or map of one."""
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            return {name: self.dummy(shape["members"][name]["shape"]) for name in shape.get("required", [])}
        if kind == "list":
            return [self.dummy(shape["member"]["shape"])]
        if kind == "map":
            return {"probe": self.dummy(shape["value"]["shape"])}
        values = {"string": shape.get("enum", ["probe"])[0], "boolean": True, "timestamp": 0}
        return values.get(kind, 1)

    def request(self, path: FieldPath, value: Any) -> dict[str, Any]:
        """The required fields with dummy values, and ``value`` at ``path``."""
        request = self.dummy(self.input)
        node: Any = request
        shape = self.shapes[self.input]
        for step, part in enumerate(path[:-1]):
            if isinstance(part, int):
                shape = self.shapes[shape["member"]["shape"]]
                node = node[0]
            else:
                shape = self.shapes[shape["members"][part]["shape"]]
                if part not in node or (isinstance(path[step + 1], int) and not node[part]):
                    node[part] = self.dummy_container(shape)
                node = node[part]
        if isinstance(path[-1], int):
            node[0] = value
        else:
            node[path[-1]] = value
        return request

    def dummy_container(self, shape: dict[str, Any]) -> Any:
        if shape["type"] == "list":
            return [self.dummy(shape["member"]["shape"])]
        return {name: self.dummy(shape["members"][name]["shape"]) for name in shape.get("required", [])}

    async def answer(self, request: dict[str, Any]) -> tuple[str, list[str]]:
        """The service's error message (empty when none) and warnings; fields kubatch requires beyond AWS are added."""
        members = self.shapes[self.input]["members"]
        while True:
            warnings: list[str] = []
            try:
                await invoke(Context(kube=_Offline(), namespace="probe", warn=warnings.append), self.operation,
                             request)
            except BatchError as error:
                name = error.message.removesuffix(": is required")
                if name != error.message and name in members and name not in request:
                    request[name] = self.dummy(members[name]["shape"])
                    continue
                return error.message, warnings
            return "", warnings

    async def classify(self, path: FieldPath, shape_name: str) -> tuple[str, str]:
        message, warnings = await self.answer(self.request(path, self.dummy(shape_name)))
        text = _text(path)
        for warning in warnings:
            if warning.startswith(f"{text} is ignored: "):
                return "ignored", warning.removeprefix(f"{text} is ignored: ")
        if message.startswith(f"{text}: not supported by kubatch ("):
            return "refused", message.removeprefix(f"{text}: not supported by kubatch (").removesuffix(")")
        if any(part.startswith(f"{text}: is not a known field") for part in message.split("; ")):
            return "unknown", ""
        return "supported", ""

    async def checks_fields(self, path: FieldPath) -> bool:
        """Whether the structure at ``path`` refuses a field name nobody has (so its fields are checked)."""
        message, _ = await self.answer(self.request((*path, BOGUS), 1))
        return any(part.startswith(f"{_text((*path, BOGUS))}: is not a known field") for part in message.split("; "))

    async def rows(self, path: FieldPath, shape_name: str, *, seen: dict[str, tuple[str, list[Row]]]) -> list[Row]:
        """Rows for the members of the structure ``shape_name`` at ``path`` (and, where supported, theirs)."""
        shape = self.shapes[shape_name]
        rows: list[Row] = []
        for name, member in shape["members"].items():
            member_path = (*path, name)
            member_shape = member["shape"]
            support, note = await self.classify(member_path, member_shape)
            inner_path, inner = self._structure(member_path, member_shape)
            row = Row(_shown(member_path), name in shape.get("required", []), support, note)
            if support != "supported" or inner is None:
                rows.append(row)
                continue
            if not await self.checks_fields(inner_path):
                rows.append(Row(row.path, row.required, support, UNCHECKED))
                continue
            prefix = _shown(inner_path)
            whole = [Row(child.path.removeprefix(prefix), child.required, child.support, child.note)
                     for child in await self.rows(inner_path, inner, seen={})]
            if inner in seen and seen[inner][1] == whole:
                rows.append(Row(row.path, row.required, support, f"same fields and support as `{seen[inner][0]}`"))
                continue
            seen.setdefault(inner, (row.path, whole))
            rows.append(row)
            rows.extend(await self.rows(inner_path, inner, seen=seen))
        return rows

    def _structure(self, path: FieldPath, shape_name: str) -> tuple[FieldPath, str | None]:
        """The path and shape of the structure a member holds (itself, or a list's items), if any."""
        shape = self.shapes[shape_name]
        if shape["type"] == "list":
            return self._structure((*path, 0), shape["member"]["shape"])
        return path, shape_name if shape["type"] == "structure" else None


SUPPORT_TEXT = {
    "supported": "✅ supported",
    "ignored": "⚠️ ignored, with a warning",
    "refused": "❌ refused",
    "unknown": "❌ unknown to kubatch (refused)",
}


def _operation_rows(model: ServiceModel) -> list[str]:
    lines = ["| operation | HTTP | kubatch |", "|---|---|---|"]
    for name in sorted(model["operations"]):
        route = ROUTES[name]
        status = "✅ implemented" if name in OPERATIONS else "❌ not implemented: `ClientException` naming it"
        lines.append(f"| {name} | `{route.method} {route.uri}` | {status} |")
    return lines


def _field_line(row: Row) -> str:
    note = row.note.replace("|", "\\|")
    return f"| `{row.path}`{' *' if row.required else ''} | {SUPPORT_TEXT[row.support]} | {note} |"


async def render_tables(model: ServiceModel) -> str:
    """The generated part of the page: the operation table, then one field table per implemented operation."""
    implemented = sorted(name for name in model["operations"] if name in OPERATIONS)
    lines = [f"kubatch implements **{len(implemented)} of the {len(model['operations'])}** operations of botocore's "
             "Batch model.", "", "### Operations", "", *_operation_rows(model), "", "### Request fields", "",
             "`*` marks the fields AWS requires. A field under a list is written `list[].field`.", ""]
    for name in implemented:
        prober = Prober(model, name)
        rows = await prober.rows((), prober.input, seen={})
        counts = {level: sum(row.support == level for row in rows) for level in SUPPORT_TEXT}
        summary = ", ".join(f"{count} {level}" for level, count in counts.items() if count)
        lines += [f"<details><summary><b>{name}</b>: {summary}</summary>", "", "| field | kubatch | note |",
                  "|---|---|---|"]
        lines += [_field_line(row) for row in rows]
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


async def render(model: ServiceModel, page: str) -> str:
    """``page`` with its generated part (between BEGIN and END) replaced by fresh tables."""
    if BEGIN not in page or END not in page:
        raise ValueError(f"the page has no {BEGIN} … {END} markers")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{await render_tables(model)}\n{END}{tail}"
