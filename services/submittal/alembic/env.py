from __future__ import annotations

from common.migrations import run_env
from services.submittal.adapters.tables import Base

run_env(Base.metadata)
