"""The PromQL of the dashboards and alerts (deploy/monitoring), and the metric names it uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
MONITORING = REPO / "deploy" / "monitoring"
DASHBOARDS = sorted((MONITORING / "grafana").glob("*.json"))

FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes",
    "clamp", "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "delta",
    "deriv", "exp", "floor", "group", "histogram_quantile", "holt_winters", "idelta",
    "increase", "irate", "label_join", "label_replace", "ln", "log2", "log10", "max",
    "max_over_time", "min", "min_over_time", "predict_linear", "quantile",
    "quantile_over_time", "rate", "resets", "round", "scalar", "sort", "sort_desc", "sqrt",
    "stddev", "stdvar", "sum", "sum_over_time", "time", "timestamp", "topk", "vector",
    "last_over_time", "present_over_time", "stddev_over_time", "stdvar_over_time",
}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "le"}
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def grafana_variables(expr: str) -> str:
    """The expression as Prometheus would get it from Grafana."""
    return expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")


def metric_names(expr: str) -> set[str]:
    """Every metric (series) name an expression selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', grafana_variables(expr))
    text = re.sub(r"\{[^}]*\}", "", text)      # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)     # ranges and subqueries
    text = GROUPING.sub("", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        name, call = match.group(1), match.group(2)
        if call and name in FUNCTIONS:
            continue
        if name.lower() in KEYWORDS or name in FUNCTIONS:
            continue
        names.add(name)
    return names


def dashboard_exprs() -> dict[str, list[str]]:
    """Per dashboard file name, the expression of every target."""
    found: dict[str, list[str]] = {}
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        found[path.name] = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return found


def alert_rules() -> list[dict[str, Any]]:
    resource = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    return [rule for group in resource["spec"]["groups"] for rule in group["rules"]]


def queried_metrics() -> dict[str, set[str]]:
    """Every metric name the dashboards and alerts query -> where."""
    where: dict[str, set[str]] = {}
    for board, exprs in dashboard_exprs().items():
        for expr in exprs:
            for name in metric_names(expr):
                where.setdefault(name, set()).add(board)
    for rule in alert_rules():
        for name in metric_names(rule["expr"]):
            where.setdefault(name, set()).add(f"alert {rule['alert']}")
    return where
