"""Browser tests of the portal: the real system (as `make run` starts it) driven in chromium."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.natsserver import NatsServerProcess
from tests.e2e.system import ROOT, RunningSystem, eventually

WEB = ROOT / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("WEB_ARTIFACTS", ROOT / "test-artifacts" / "web"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Rules axe reports as serious or critical fail the test; minor ones are left to review.
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    have_node = shutil.which("npm") is not None and shutil.which("node") is not None
    have_chromium = Path(CHROMIUM).exists()
    for item in items:
        if item.get_closest_marker("needs_node") and not have_node:
            item.add_marker(pytest.mark.skip(reason="needs Node.js and npm (.ci/run has them)"))
        if item.get_closest_marker("needs_chromium") and not have_chromium:
            item.add_marker(pytest.mark.skip(reason=f"needs chromium at {CHROMIUM}"))


@pytest.fixture(scope="session")
def portal_dist() -> Path:
    """Builds web/dist the way `make run` does (npm ci when node_modules is missing)."""
    if not (WEB / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    built = WEB / "dist" / "404.html"
    inputs = [*WEB.joinpath("src").rglob("*"), WEB / "package-lock.json", WEB / "index.html",
              ROOT / "gateway" / "supergraph.graphql"]
    if not built.exists() or max(p.stat().st_mtime for p in inputs) > built.stat().st_mtime:
        result = subprocess.run(["npm", "run", "build"], cwd=WEB, capture_output=True, text=True)
        assert result.returncode == 0, f"npm run build failed:\n{result.stdout}\n{result.stderr}"
    return WEB / "dist"


@pytest.fixture(scope="session")
def system(portal_dist: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningSystem]:
    # A nats-server of the system's own: systems sharing one would share its durable
    # consumers, and one system's services would take events meant for another's.
    folder = tmp_path_factory.mktemp("portal")
    nats = NatsServerProcess(folder / "nats")
    nats.start()
    try:
        yield from _running_system(RunningSystem(folder / "var", nats.url))
    finally:
        nats.stop()


def _running_system(running: RunningSystem) -> Iterator[RunningSystem]:
    if os.environ.get("WEB_TEST_RUNNING"):
        # Developers may point the tests at a `make run` of their own: "<base url> <DATA_DIR>".
        base_url, data_dir = os.environ["WEB_TEST_RUNNING"].split()
        running.base_url, running.data_dir = base_url, Path(data_dir)
        yield running
        return
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def browser(system: RunningSystem) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Portal:
    """One browser context (one person) on the portal, with screenshot and axe helpers."""

    def __init__(self, browser: Any, system: RunningSystem, width: int = 1280) -> None:
        self.system = system
        self.context = browser.new_context(
            base_url=system.base_url, viewport={"width": width, "height": 900}
        )
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.page.on("dialog", lambda dialog: dialog.accept())

    def open(self, path: str) -> Any:
        self.page.goto(path)
        return self.page

    def sign_in(self, username: str, password: str, portal: str = "business") -> None:
        page = self.page
        page.goto("/")
        page.get_by_role("button", name=f"Sign in to the {portal.title()} Portal").click()
        page.get_by_label("User name").fill(username)
        page.get_by_role("button", name="Next").click()
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Next").click()
        page.wait_for_url(re.compile(r"/(businesses|review|jurisdictions)"))

    def check_accessibility(self, screen: str) -> None:
        page = self.page
        page.add_script_tag(path=str(WEB / "node_modules" / "axe-core" / "axe.min.js"))
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"accessibility problems on {screen}: {blocking}"

    def screenshot(self, name: str, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)

    def screen(self, name: str) -> None:
        """A main screen: it passes the accessibility check and its screenshot is kept."""
        self.page.wait_for_load_state("networkidle")
        self.check_accessibility(name)
        self.screenshot(name)

    def close(self) -> None:
        self.context.close()


def mail_link(system: RunningSystem, to: str, path: str) -> str:
    """The newest emailed link to `path` (e.g. /account/activate) sent to `to`."""

    def find() -> str | None:
        found = None
        drops = (system.data_dir / "mail").glob("*.eml")
        for eml in sorted(drops, key=lambda p: p.stat().st_mtime):
            message = email.message_from_bytes(eml.read_bytes())
            if to not in str(message.get("To", "")):
                continue
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    payload = part.get_payload(decode=True)
                    text = payload.decode() if isinstance(payload, bytes) else str(payload)
                    match = re.search(re.escape(path) + r"\?token=[\w\-.~%]+", text)
                    if match:
                        found = match.group(0)
        return found

    return eventually(find, timeout=20)
