from __future__ import annotations

from common.migrations import run_env
from services.identity.adapters.tables import Base

run_env(Base.metadata)
