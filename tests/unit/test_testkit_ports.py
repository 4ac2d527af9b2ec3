"""The local test cluster: never on ports another process holds; a killed component counts as gone."""

from __future__ import annotations

import socket

import pytest

from testkit import cluster


def test_free_port_base_skips_a_block_with_any_port_taken() -> None:
    base = cluster.free_port_base(start=21000)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", cluster.Ports(base=base).apiserver))
        squatter.listen()
        assert cluster.free_port_base(start=base) > base


def test_start_refuses_a_port_held_by_a_stranger(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(cluster, "STATE_DIR", tmp_path)
    base = cluster.free_port_base(start=22000)
    monkeypatch.setattr(cluster, "PORTS", cluster.Ports(base=base))
    (tmp_path / "run").mkdir()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", cluster.PORTS.scheduler))
        squatter.listen()
        with pytest.raises(RuntimeError, match=rf"kube-scheduler cannot start: loopback port {base + 5}"):
            cluster._start("kube-scheduler", ["sleep", "60"])


def test_a_killed_component_is_gone_even_while_its_starter_has_not_reaped_it() -> None:
    import os
    import signal
    import subprocess
    import time

    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    assert cluster._alive(child.pid)
    os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while cluster._alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not cluster._alive(child.pid)  # a zombie until reaped: it must not count as running
