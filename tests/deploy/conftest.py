from __future__ import annotations

import functools
from collections.abc import Iterator

import kubernetes_validate.utils
import pytest


@pytest.fixture(scope="session", autouse=True)
def cached_kubernetes_schemas() -> Iterator[None]:
    """kubernetes-validate re-reads its JSON schemas on every call; read each file once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            kubernetes_validate.utils, "schema_contents",
            functools.cache(kubernetes_validate.utils.schema_contents),
        )
        yield
