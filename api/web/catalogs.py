"""The translation catalogs: each area keeps its Chinese messages in a file of its own
(api/translations/<locale>/LC_MESSAGES/<area>.po); `compile_all` merges them into the one
messages.mo per locale that Flask-Babel reads. Run by `make` after installing:

    python -m api.web.catalogs          # compile; exits 1 naming any conflict or untranslated message
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent / "translations"
COMPILED = "messages.mo"


def sources(locale_dir: Path) -> list[Path]:
    return sorted((locale_dir / "LC_MESSAGES").glob("*.po"))


def merged(locale_dir: Path) -> tuple[Catalog, list[str]]:
    """Every area's messages for one locale, and the problems found: a message translated
    differently in two files, an empty or fuzzy translation."""
    catalog = Catalog(locale=locale_dir.name)
    problems: list[str] = []
    for path in sources(locale_dir):
        with path.open("rb") as source:
            area = read_po(source, locale=locale_dir.name)
        for message in area:
            if not message.id:
                continue
            where = f"{path.name}: {message.id!r}"
            if not message.string or (isinstance(message.string, tuple) and not all(message.string)):
                problems.append(f"{where} has no translation")
                continue
            if message.fuzzy:
                problems.append(f"{where} is marked fuzzy")
            known = catalog.get(message.id)
            if known is not None and known.string != message.string:
                problems.append(f"{where} is translated differently elsewhere")
                continue
            catalog[message.id] = message
    return catalog, problems


def compile_all(root: Path = ROOT) -> list[str]:
    """Write messages.mo for every locale under `root`; the problems found (none: all written)."""
    problems: list[str] = []
    for locale_dir in sorted(p for p in root.iterdir() if (p / "LC_MESSAGES").is_dir()):
        catalog, found = merged(locale_dir)
        problems += [f"{locale_dir.name}/{p}" for p in found]
        with (locale_dir / "LC_MESSAGES" / COMPILED).open("wb") as out:
            write_mo(out, catalog)
    return problems


def main() -> int:
    problems = compile_all()
    for problem in problems:
        print(f"translation: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
