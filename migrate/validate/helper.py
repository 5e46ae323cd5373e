"""The helper image check: the tools the volume copies and digests run, probed in the plan's image on the engine."""
from __future__ import annotations

from migrate.helpertools import REQUIRED_TOOLS, ProbeError, missing_tools
from migrate.plan.model import Plan
from migrate.validate.result import Problem


def helper_problems(plan: Plan, probe_output: str | None, not_checked: str) -> list[Problem]:
    """Tools the plan's helper image lacks (fail); not probed (warn, with why). Nothing when no volume is copied."""
    if not any(v.strategy == "copy" for v in plan.volumes):
        return []
    subject = f"helper image {plan.helper_image}"
    if probe_output is None:
        return [Problem("resources", "warn", subject, f"not checked ({not_checked}): preflight/helper-tools probes "
                        "it on the day, before any backup")]
    try:
        missing = missing_tools(probe_output)
    except ProbeError as exc:
        return [Problem("resources", "fail", subject, f"{exc}: pick another [plan] helper_image")]
    if not missing:
        return []
    uses = {t.name: t.used_by for t in REQUIRED_TOOLS}
    listed = ", ".join(f"{m} ({uses.get(m, 'copy')})" for m in missing)
    return [Problem("resources", "fail", subject, f"lacks {listed}: the volume copies would fail; pick an image "
                    "with them (busybox, alpine, debian) as [plan] helper_image")]
