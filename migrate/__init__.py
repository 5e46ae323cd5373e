"""wsl2-migrate: move Docker Desktop for Windows from the Hyper-V VM or LCOW backend to WSL2, losing nothing."""
from __future__ import annotations

__version__ = "0.1.0"
