"""The alerting rules (deploy/monitoring/alerts.yaml): well formed, each with a runbook section
in docs/operations.md, and each unit-tested with promtool, firing and quiet."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import REPO

MONITORING = REPO / "deploy" / "monitoring"
RULES = MONITORING / "alerts.yaml"
FIXTURES = MONITORING / "tests" / "alerts.test.yaml"
RUNBOOKS = REPO / "docs" / "operations.md"
PROMTOOL = shutil.which("promtool")


def rule_resource() -> dict[str, Any]:
    resource: dict[str, Any] = yaml.safe_load(RULES.read_text())
    return resource


def alerts() -> list[dict[str, Any]]:
    return [rule for group in rule_resource()["spec"]["groups"] for rule in group["rules"]
            if "alert" in rule]


def anchors(markdown: str) -> dict[str, str]:
    """GitHub's heading anchors -> the section under each heading."""
    sections: dict[str, str] = {}
    parts = re.split(r"^(#{1,6} .+)$", markdown, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        title = heading.lstrip("#").strip().lower()
        anchor = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        sections[anchor] = body
    return sections


def test_the_rule_resource_is_a_prometheus_rule_with_complete_alerts() -> None:
    resource = rule_resource()
    assert resource["apiVersion"] == "monitoring.coreos.com/v1"
    assert resource["kind"] == "PrometheusRule"
    assert set(resource) == {"apiVersion", "kind", "metadata", "spec"}
    names = [a["alert"] for a in alerts()]
    assert len(names) == len(set(names))
    for alert in alerts():
        assert set(alert) <= {"alert", "expr", "for", "labels", "annotations"}, alert["alert"]
        assert alert["labels"]["severity"] in ("critical", "warning"), alert["alert"]
        assert set(alert["annotations"]) == {"summary", "description", "runbook_url"}


def test_the_alerts_cover_what_an_operator_must_hear_about() -> None:
    exprs = " ".join(a["expr"] for a in alerts())
    for metric in ("gateway_operation_requests_total", "gateway_operation_duration_seconds",
                   "events_consumer_lag_seconds", "events_read_model_max_lag_seconds",
                   "events_dead_letters_total", "events_consumer_stuck_aggregates",
                   "events_outbox_unsent", "events_nats_connected",
                   "identity_signing_key_expiry_timestamp_seconds"):
        assert metric in exprs, metric


def test_every_alert_links_a_runbook_section_that_says_how_to_check_and_fix() -> None:
    sections = anchors(RUNBOOKS.read_text())
    for alert in alerts():
        path, _, anchor = alert["annotations"]["runbook_url"].partition("#")
        assert path == "docs/operations.md", alert["alert"]
        assert anchor == alert["alert"].lower(), alert["alert"]
        assert anchor in sections, f"docs/operations.md has no section {alert['alert']}"
        section = sections[anchor]
        for part in ("**What it means.**", "**How to check.**", "**How to fix.**"):
            assert part in section, f"{alert['alert']}: runbook lacks {part}"


def test_every_alert_has_a_firing_and_a_quiet_promtool_case() -> None:
    fixtures = yaml.safe_load(FIXTURES.read_text())
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in fixtures["tests"]:
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {a["alert"] for a in alerts()}
    assert names - firing == set(), "alerts never shown firing"
    assert names - quiet == set(), "alerts never shown quiet"


def write_rules(folder: Path) -> Path:
    rules = folder / "alerts.rules.yaml"
    rules.write_text(yaml.safe_dump(rule_resource()["spec"], sort_keys=False))
    shutil.copy(FIXTURES, folder / FIXTURES.name)
    return rules


@pytest.mark.needs_promtool
@pytest.mark.skipif(PROMTOOL is None, reason="needs promtool (apt-get install prometheus)")
def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    rules = write_rules(tmp_path)
    result = subprocess.run([str(PROMTOOL), "check", "rules", str(rules)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


@pytest.mark.needs_promtool
@pytest.mark.skipif(PROMTOOL is None, reason="needs promtool (apt-get install prometheus)")
def test_promtool_unit_tests_of_every_alert_pass(tmp_path: Path) -> None:
    write_rules(tmp_path)
    result = subprocess.run([str(PROMTOOL), "test", "rules", FIXTURES.name], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
