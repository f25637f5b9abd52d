"""The Grafana dashboards (deploy/monitoring/grafana): well formed, valid PromQL for promtool.
tests/e2e/test_observability.py checks every metric they query against the running processes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.monitoring import DASHBOARDS, dashboard_exprs, grafana_variables, metric_names

PROMTOOL = shutil.which("promtool")


def test_there_is_a_dashboard_for_the_gateway_each_service_and_the_event_flow() -> None:
    assert {p.stem for p in DASHBOARDS} == {"gateway", "identity", "facility", "submittal",
                                            "events"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_each_dashboard_is_importable_grafana_json(path: Path) -> None:
    board = json.loads(path.read_text())
    assert board["uid"] == f"cers-{path.stem}" and board["title"].startswith("CERS / ")
    [variable] = board["templating"]["list"]
    assert variable == {**variable, "name": "datasource", "type": "datasource",
                        "query": "prometheus"}
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert metric_names(target["expr"]), (panel["title"], target["expr"])


def test_latency_panels_show_exemplars() -> None:
    for path in DASHBOARDS:
        board, name = json.loads(path.read_text()), path.name
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if "histogram_quantile" in target["expr"] and "_seconds_bucket" in target["expr"]:
                    assert target.get("exemplar") is True, (name, panel["title"])


def test_metric_names_are_read_out_of_promql() -> None:
    expr = ('histogram_quantile(0.95, sum by (le, service) (rate(events_relay_lag_seconds_bucket'
            '{service="x", le!="+Inf"}[$__rate_interval]))) / on (service) group_left () '
            'max by (service) (events_read_model_max_lag_seconds) - time() > 14 * 86400')
    assert metric_names(expr) == {"events_relay_lag_seconds_bucket",
                                  "events_read_model_max_lag_seconds"}


@pytest.mark.needs_promtool
@pytest.mark.skipif(PROMTOOL is None, reason="needs promtool (apt-get install prometheus)")
def test_every_dashboard_query_is_promql_prometheus_accepts(tmp_path: Path) -> None:
    rules = [{"record": f"dashboard:{board.removesuffix('.json')}:{i}",
              "expr": grafana_variables(expr)}
             for board, exprs in dashboard_exprs().items() for i, expr in enumerate(exprs)]
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([str(PROMTOOL), "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
