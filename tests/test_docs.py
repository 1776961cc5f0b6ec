"""The documentation keeps up with the code: every policy knob is explained with its real default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from timebank.policy import KNOBS

DOMAIN_DOC = Path(__file__).resolve().parent.parent / "docs" / "domain.md"


@pytest.mark.parametrize("name", sorted(KNOBS))
def test_every_policy_knob_is_in_the_domain_doc_with_its_default(name: str) -> None:
    default = json.dumps(KNOBS[name].default, ensure_ascii=False)
    assert f"| `{name}` | `{default}` |" in DOMAIN_DOC.read_text(encoding="utf-8")
