"""Access keys: who may call the HTTP API, with which secret, in which namespace.

A credentials file (YAML or JSON, typically a Kubernetes Secret mounted as a file)::

    accessKeys:
      - accessKeyId: AKIATEAMA0000000001
        secretAccessKey: <40 random characters>
        namespace: team-a
      - accessKeyId: AKIAPLATFORM000001
        secretAccessKey: <…>
        namespace: platform
        admin: true

Each key works in exactly one namespace: its jobs and job definitions are that
namespace's, and a job of another namespace is "not found" to it. Compute
environments, job queues and scheduling policies are cluster-scoped and shared, so
only ``admin`` keys may create, update or delete them (everyone may describe them).

The file is read again when it changes (a Secret's keys can be rotated without a
restart); a change that does not parse is logged and the keys read before stay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kubatch.service.errors import field_path

log = logging.getLogger(__name__)

NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
RECHECK_SECONDS = 1.0


class AccessKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accessKeyId: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{4,128}$")]
    secretAccessKey: Annotated[str, Field(min_length=16, max_length=512)]
    namespace: Annotated[str, Field(max_length=63, pattern=NAMESPACE)]
    admin: bool = False


class CredentialsDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accessKeys: list[AccessKey] = Field(min_length=1)


class CredentialsError(ValueError):
    """The credentials file cannot be used; the message says why, naming the field."""


def parse_credentials(text: str, *, source: str) -> dict[str, AccessKey]:
    """The keys of a credentials document, by access key id."""
    try:
        document = CredentialsDocument.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise CredentialsError(f"{source}: not YAML or JSON: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        raise CredentialsError(f"{source}: {field_path(first['loc']) or 'document'}: {first['msg']}") from None
    keys: dict[str, AccessKey] = {}
    for key in document.accessKeys:
        if key.accessKeyId in keys:
            raise CredentialsError(f"{source}: access key {key.accessKeyId} is listed twice")
        keys[key.accessKeyId] = key
    return keys


@dataclass(frozen=True)
class _Stamp:
    mtime_ns: int
    size: int


class KeyFile:
    """The keys of a credentials file, read again when the file changes (checked at most once a second)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._stamp = self._current_stamp()
        self._keys = parse_credentials(path.read_text(), source=str(path))
        self._checked = clock()

    def _current_stamp(self) -> _Stamp:
        stat = self.path.stat()
        return _Stamp(stat.st_mtime_ns, stat.st_size)

    def _refresh(self) -> None:
        now = self._clock()
        if now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        try:
            stamp = self._current_stamp()
            if stamp == self._stamp:
                return
            self._stamp = stamp  # a broken version is reported once, not on every request
            self._keys = parse_credentials(self.path.read_text(), source=str(self.path))
            log.info("credentials reloaded from %s: %d access key(s)", self.path, len(self._keys))
        except (OSError, CredentialsError) as error:
            log.error("credentials file %s not reloaded, keeping the keys read before: %s", self.path, error)

    def lookup(self, access_key_id: str) -> AccessKey | None:
        self._refresh()
        return self._keys.get(access_key_id)

    def __len__(self) -> int:
        return len(self._keys)
