from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from common.natsserver import nats_server_binary
from tests.deploy.manifests import find, rendered


@pytest.mark.parametrize("name", ["base", "dev", "prod"])
def test_the_nats_configuration_is_accepted_by_nats_server(name: str, tmp_path: Path) -> None:
    conf = tmp_path / "nats.conf"
    conf.write_text(find(rendered(name), "ConfigMap", "nats-config")["data"]["nats.conf"])
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(conf)],
        env={**os.environ, "POD_NAME": "nats-0"}, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_nats_server_rejects_a_broken_configuration(tmp_path: Path) -> None:
    # Guards the test above: -t really parses the file.
    conf = tmp_path / "nats.conf"
    conf.write_text("jetstream {\n  store_dir: /data\n  max_memory_store: lots\n}\n")
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0


def test_each_node_is_named_after_its_pod_and_enters_lame_duck_mode_through_its_pid_file() -> None:
    statefulset = find(rendered("prod"), "StatefulSet", "nats")
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    conf = find(rendered("prod"), "ConfigMap", "nats-config")["data"]["nats.conf"]
    assert "server_name: $POD_NAME" in conf
    pid_file = container["lifecycle"]["preStop"]["exec"]["command"][-1].removeprefix("ldm=")
    assert f"pid_file: {pid_file}" in conf
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert str(Path(pid_file).parent) in mounts
