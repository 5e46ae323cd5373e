"""Kept for migrate/plan/build.py, which takes the digest script from here until it imports it from
migrate.volumedigest (the neutral home of the digest's pure part; the engine side is in migrate.inventory.engine)."""
from __future__ import annotations

from migrate.volumedigest import digest_script

__all__ = ["digest_script"]
