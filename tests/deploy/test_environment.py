from __future__ import annotations

import functools
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from common.settings import ENV_VARS
from tests.deploy.manifests import (
    APPS,
    REPO,
    SERVICES,
    EnvValue,
    app_deployment,
    container_env,
    find,
    rendered,
)

DOC = REPO / "README.md"  # its "## Configuration" section holds the one table
ROLE_ROOTS = {"gateway": ["gateway"], **{s: [f"services/{s}"] for s in SERVICES}}
READ_PATTERN = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|getenv|os\.environ\[|_env|_flag"""
    r"""|env\.(?:text|number|integer|port|flag|choice))\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
)
# Variables of the platform, not of this system.
EVENT_WORKER = {
    "READ_MODEL_MAX_LAG_SECONDS", "OUTBOX_POLL_SECONDS", "MAX_DELIVERIES", "EVENT_ACK_WAIT_SECONDS",
    "EVENT_STUCK_AFTER_SECONDS",
}
NOT_OURS = {"PATH", "HOME", "TMPDIR", "TZ", "PYTHONPATH"}


@functools.cache
def names_read_under(root: Path) -> set[str]:
    names: set[str] = set()
    for path in root.rglob("*.py"):
        if "node_modules" not in path.parts:
            names |= set(READ_PATTERN.findall(path.read_text(encoding="utf-8")))
    return names - NOT_OURS


@functools.cache
def registry(role: str) -> dict[str, str]:
    """A role's own variables and defaults: the ``*ENV_VARS`` dicts of its config module."""
    module_name = "gateway.config" if role == "gateway" else f"services.{role}.config"
    if importlib.util.find_spec(module_name) is None:
        return {}
    module = importlib.import_module(module_name)
    found: dict[str, str] = {}
    for attribute, value in vars(module).items():
        if attribute.endswith("ENV_VARS") and isinstance(value, dict):
            for name, entry in value.items():
                found[name] = entry if isinstance(entry, str) else entry[0]
    return found


def variables_read_by(role: str) -> set[str]:
    """Every process loads all settings, plus its own config and whatever its code reads."""
    names = set(ENV_VARS) | set(registry(role)) | names_read_under(REPO / "common")
    for root in ROLE_ROOTS[role]:
        names |= names_read_under(REPO / root)
    return names


def documented_defaults() -> dict[str, str]:
    defaults = {name: default for name, (default, _) in ENV_VARS.items()}
    for role in APPS:
        defaults.update(registry(role))
    return defaults


def safe_to_leave_unset(role: str, name: str) -> str | None:
    """Why the embedded default is right for ``role`` in a cluster, or None if it is not."""
    if name.endswith("_DATABASE_URL") and name != f"{role.upper()}_DATABASE_URL":
        return "another service's database: never opened by this role"
    if role == "gateway" and name in EVENT_WORKER:
        return "the gateway runs no event worker"
    if name in ("SMTP_USERNAME", "SMTP_PASSWORD"):
        return "unset means an unauthenticated relay; set from the optional cers-smtp Secret"
    return None


def test_the_source_scan_finds_the_variables_settings_reads() -> None:
    # Guards the scan itself: it must see settings' reads and identity's key-file variables.
    common = names_read_under(REPO / "common")
    assert {"DATA_DIR", "NATS_URL", "LOG_FORMAT"} <= common


@pytest.mark.parametrize("overlay", ["base", "dev", "prod"])
@pytest.mark.parametrize("role", list(APPS))
def test_every_variable_a_role_reads_is_set_or_safely_defaulted(overlay: str, role: str) -> None:
    resources = rendered(overlay)
    _, container = app_deployment(resources, role)
    env = container_env(resources, container)
    rows = doc_table()
    missing = sorted(
        name for name in variables_read_by(role)
        if name not in env and safe_to_leave_unset(role, name) is None
        and not rows.get(name, ("", "", ""))[2].startswith(("default", "unset"))
    )
    assert not missing, (
        f"{role} reads {missing} but deploy/k8s does not set them: add them to cers-config "
        f"or {role}-config (deploy/k8s/base), or say in the README's configuration table that the "
        "embedded default is right in production (production cell: default ...)"
    )


@pytest.mark.parametrize("overlay", ["dev", "prod"])
@pytest.mark.parametrize("service", SERVICES)
def test_each_migration_job_sets_everything_its_service_needs_to_migrate(
    overlay: str, service: str
) -> None:
    resources = rendered(overlay)
    job = find(resources, "Job", f"{service}-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = container_env(resources, container)
    for name in ("DATA_DIR", "ENVIRONMENT", "LOG_FORMAT", f"{service.upper()}_DATABASE_URL"):
        assert name in env, name
    assert env["AUTO_MIGRATE"].value == "0" and env["DEMO"].value == "0"


def test_production_never_seeds_demo_data_or_migrates_at_start_up() -> None:
    for role in APPS:
        _, container = app_deployment(rendered("prod"), role)
        env = container_env(rendered("prod"), container)
        assert env["ENVIRONMENT"].value == "production"
        assert env["DEMO"].value == "0"
        assert env["AUTO_MIGRATE"].value == "0"
        assert env["BIND_HOST"].value == "0.0.0.0"


def configuration_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("\n## Configuration\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def doc_table() -> dict[str, tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}
    tables = 0
    in_table = False
    for line in configuration_section().splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        if not in_table:
            tables += 1
            in_table = True
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(cells[0]) <= {"-", " "}:
            continue
        name = cells[0].strip("`")
        assert name not in rows, f"{name} is listed twice in the README's configuration table"
        rows[name] = (cells[1], cells[2], cells[3])
    assert tables == 1, "the README's configuration table must hold exactly one table"
    return rows


def test_the_configuration_table_lists_every_variable_once_with_its_embedded_default() -> None:
    rows = doc_table()
    every = set().union(*(variables_read_by(role) for role in APPS))
    assert sorted(every - set(rows)) == [], "variables missing from the README's table"
    patterns = {name for name in rows if "<" in name}  # a family such as GATEWAY_TIMEOUT_<NAME>
    for name in patterns:
        prefix = name.partition("<")[0]
        assert any(prefix in p.read_text() for p in (REPO / "gateway").glob("*.py")) or any(
            prefix in p.read_text() for p in (REPO / "services").rglob("*.py")
        ), f"nobody reads {name}"
    assert sorted(set(rows) - every - patterns) == [], "docs list variables nobody reads"
    for name, default in documented_defaults().items():
        if default.startswith("/"):
            continue  # a path inside the installed code, different on every machine
        documented = rows[name][1]
        expected = f"`{default}`" if default else "unset"
        # The cell may explain itself after the value: "unset (on, except ...)".
        assert documented.partition(" (")[0] == expected, (
            f"{name}: docs say {documented}, the code says {expected}"
        )


def prod_values(name: str) -> set[EnvValue]:
    values = set()
    for role in APPS:
        _, container = app_deployment(rendered("prod"), role)
        env = container_env(rendered("prod"), container)
        if name in env:
            values.add(env[name])
    return values


def test_the_documented_production_values_are_what_the_prod_overlay_sets() -> None:
    for name, (_, _, production) in doc_table().items():
        values = prod_values(name)
        literal = re.match(r"^`([^`]*)`", production)
        secret = re.search(r"Secret `([^`]+)`", production)
        if literal:
            assert values == {EnvValue(value=literal.group(1))}, (name, values)
        elif secret:
            assert values and all(v.secret for v in values), name
            assert secret.group(1) in {v.secret for v in values}, name
        elif production.startswith(("default", "unset")):
            assert not values, f"{name}: docs say {production!r}, but prod sets {values}"
        else:
            pytest.fail(f"{name}: production cell must start with a `literal`, name a Secret, "
                        "or start with default or unset")
