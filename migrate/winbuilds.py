"""Which Windows a move to Docker Desktop's WSL 2 backend needs: build, update revision and edition, in one place for
the rules (derived facts) and the planner (the runbook's check-host)."""
from __future__ import annotations

WSL2_MIN_BUILD = 18362
"""Windows 10 1903: the first build with WSL 2 (learn.microsoft.com/windows/wsl/install-manual)."""
UBR_FLOORS: dict[int, int] = {18362: 1049, 18363: 1049}
"""1903 and 1909 run WSL 2 only from update revision 1049 (the 2020 backport, KB4566116)."""
HOME_PRO_MIN_BUILD = 19041
"""Windows 10 2004: what Docker Desktop's WSL 2 backend needed on Home and Pro (docker/for-win#7482)."""

_FAMILIES = (
    ("server", ("server",)),
    ("pro", ("professional", "pro")),
    ("education", ("education",)),
    ("enterprise", ("enterprise", "iot")),
    ("home", ("core", "home")),
)
"""EditionID prefixes (ServerStandard, EnterpriseS, ProfessionalWorkstation, CoreSingleLanguage...) and caption words
(Windows 10 Pro, Windows 11 Home), checked in this order: Pro Education (ProfessionalEducation) counts as Pro."""


def edition_family(edition_id: str, caption: str = "") -> str:
    """home, pro, enterprise, education, server, or '' when neither the EditionID nor the caption says."""
    eid = edition_id.strip().lower()
    for family, prefixes in _FAMILIES:
        if eid and eid.startswith(prefixes):
            return family
    words = caption.lower().replace("-", " ").split()
    for family, prefixes in _FAMILIES:
        if any(w in prefixes for w in words):
            return family
    return ""


def desktop_wsl2_floor(family: str) -> tuple[int, int]:
    """(build, update revision) Docker Desktop's WSL 2 backend needs on this edition family: 1909 with the backport on
    Enterprise and Education, 2004 on Home and Pro and when the edition is unknown (the safe side)."""
    if family in ("enterprise", "education", "server"):
        return WSL2_MIN_BUILD, UBR_FLOORS[WSL2_MIN_BUILD]
    return HOME_PRO_MIN_BUILD, 0


def ubr_floors(min_build: int) -> tuple[tuple[int, int], ...]:
    """The (build, update revision) floors of UBR_FLOORS that apply to a machine at min_build or later."""
    return tuple((b, u) for b, u in sorted(UBR_FLOORS.items()) if b >= min_build)
