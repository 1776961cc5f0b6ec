"""Who may call the recognition endpoints: schemes, a volunteer's levels and awards, leaderboards."""

from __future__ import annotations

import itertools
from typing import Any

from apiworld import SIGNED_IN, ApiWorld, Rule

B = "/api/v1"
_n = itertools.count()
STAFF = frozenset({"coordinator", "administrator"})


def scheme_body(world: ApiWorld, region: str = "haizhou", **kw: Any) -> dict[str, Any]:
    """A local cumulative scheme with a fresh code (张家港-like thresholds)."""
    levels = [{"level": n, "name_zh": f"{n}级志愿者", "name_en": f"Level {n}", "hours": h}
              for n, h in enumerate((30, 60, 100, 200, 300), 1)]
    return {"region_id": world.ids[region], "code": f"LOCAL-{next(_n)}", "name_zh": "本地星级",
            "name_en": "Local stars", "kind": "cumulative", "levels": levels, **kw}


def _create_scheme(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/recognition/schemes", scheme_body(world)


def _volunteer(suffix: str, body: Any = None) -> Any:
    def sample(world: ApiWorld) -> tuple[str, Any]:
        return f"{B}/volunteers/{world.ids['volunteer']}{suffix}", body
    return sample


def _leaderboard(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/regions/{world.ids['community']}/leaderboard", None


AWARD = {"kind": "honour", "name": "最美志愿者", "granting_unit": "海州区民政局", "granted_on": "2026-10-01"}

RULES: list[Rule] = [
    Rule("GET", "/api/v1/recognition/schemes", SIGNED_IN),
    Rule("POST", "/api/v1/recognition/schemes", frozenset({"administrator"}), _create_scheme),
    Rule("GET", "/api/v1/volunteers/{volunteer_id}/recognition", STAFF | {"volunteer"}, _volunteer("/recognition")),
    Rule("POST", "/api/v1/volunteers/{volunteer_id}/recognition/evaluate", STAFF | {"volunteer"},
         _volunteer("/recognition/evaluate")),
    Rule("POST", "/api/v1/volunteers/{volunteer_id}/awards", frozenset({"administrator"}),
         _volunteer("/awards", AWARD)),
    Rule("PUT", "/api/v1/volunteers/{volunteer_id}/leaderboard", frozenset({"volunteer"}),
         _volunteer("/leaderboard", {"on": False})),
    Rule("GET", "/api/v1/regions/{region_id}/leaderboard", SIGNED_IN, _leaderboard),
]
