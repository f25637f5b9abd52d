from __future__ import annotations

from common.migrations import run_env
from services.submittal.adapters import search_tables  # noqa: F401 - its tables join Base
from services.submittal.adapters.tables import Base

run_env(Base.metadata)
