"""The credentials file: access key → (secret, namespace, admin), read again when it changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kubatch.http.credentials import CredentialsError, KeyFile, parse_credentials

SECRET = "s3cr3t-s3cr3t-s3cr3t-s3cr3t"
YAML = f"""
accessKeys:
  - accessKeyId: AKIATEAMA
    secretAccessKey: {SECRET}
    namespace: team-a
  - accessKeyId: AKIAADMIN
    secretAccessKey: {SECRET}-admin
    namespace: platform
    admin: true
"""


def test_yaml_and_json_files() -> None:
    keys = parse_credentials(YAML, source="keys.yaml")
    assert keys["AKIATEAMA"].namespace == "team-a" and not keys["AKIATEAMA"].admin
    assert keys["AKIAADMIN"].admin
    as_json = json.dumps({"accessKeys": [{"accessKeyId": "AKIAJSON", "secretAccessKey": SECRET, "namespace": "x"}]})
    assert parse_credentials(as_json, source="keys.json")["AKIAJSON"].secretAccessKey == SECRET


@pytest.mark.parametrize(("text", "message"), [
    ("accessKeys: [", "keys.yaml: not YAML or JSON"),
    ("[]", "keys.yaml: document: Input should be a valid dictionary"),
    ("accessKeys: []", "keys.yaml: accessKeys: List should have at least 1 item"),
    (f"accessKeys: [{{accessKeyId: AKIA1, secretAccessKey: {SECRET}, namespace: Team_A}}]",
     "keys.yaml: accessKeys[0].namespace: String should match pattern"),
    ("accessKeys: [{accessKeyId: AKIA1, secretAccessKey: short, namespace: a}]",
     "keys.yaml: accessKeys[0].secretAccessKey: String should have at least 16 characters"),
    (f"accessKeys: [{{accessKeyId: AKIA1, secretAccessKey: {SECRET}, namespace: a, role: x}}]",
     "keys.yaml: accessKeys[0].role: Extra inputs are not permitted"),
    (f"accessKeys: [{{accessKeyId: AKIA1, secretAccessKey: {SECRET}, namespace: a}}, "
     f"{{accessKeyId: AKIA1, secretAccessKey: {SECRET}, namespace: b}}]",
     "keys.yaml: access key AKIA1 is listed twice"),
])
def test_bad_files_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(CredentialsError) as raised:
        parse_credentials(text, source="keys.yaml")
    assert str(raised.value).startswith(message)


def test_the_file_is_read_again_when_it_changes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(YAML)
    clock = [0.0]
    keys = KeyFile(path, clock=lambda: clock[0])
    assert keys.lookup("AKIATEAMA").namespace == "team-a"

    path.write_text(YAML.replace("team-a", "team-b"))
    os.utime(path, ns=(1, 10**18))
    assert keys.lookup("AKIATEAMA").namespace == "team-a"  # checked at most once a second
    clock[0] = 2.0
    assert keys.lookup("AKIATEAMA").namespace == "team-b"

    path.write_text("accessKeys: [")
    os.utime(path, ns=(1, 2 * 10**18))
    clock[0] = 4.0
    assert keys.lookup("AKIATEAMA").namespace == "team-b"  # a broken file keeps the keys read before
    assert "not reloaded" in caplog.text
    assert keys.lookup("AKIANOBODY") is None
