"""Every message the pages show has a Chinese translation, and the compiled catalog is current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo

from api.web import catalogs

API = Path(__file__).resolve().parents[2] / "api"
METHODS = [("web/**.py", "python"), ("pages.py", "python"), ("certificate_page.py", "python"),
           ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2),
            "lazy_ngettext": (1, 2)}


def _extracted() -> dict[str, str]:
    """msgid → where it was found, for every message in the web code and templates."""
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(API), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"trimmed": "true"}}):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, filename)
    return found


def test_every_message_has_a_chinese_translation() -> None:
    catalog, problems = catalogs.merged(catalogs.ROOT / "zh_Hans_CN")
    assert not problems
    missing = {msgid: where for msgid, where in _extracted().items() if catalog.get(msgid) is None}
    assert not missing, "untranslated (add them to api/translations/zh_Hans_CN/LC_MESSAGES/<area>.po):\n" + "\n".join(
        f"{where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]))


def test_placeholders_agree_between_source_and_translation() -> None:
    catalog, _ = catalogs.merged(catalogs.ROOT / "zh_Hans_CN")
    for message in catalog:
        if message.id and message.python_format:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            names = {part for text in ids for part in _names(text)}
            for text in strings:
                assert _names(text) <= names, f"{message.id!r}: {text!r} uses a placeholder the source lacks"


def _names(text: str) -> set[str]:
    import re
    return set(re.findall(r"%\((\w+)\)[sd]", text))


def test_the_compiled_catalog_is_current() -> None:
    """`make` compiles the catalogs; this fails when a .po changed after (run python -m api.web.catalogs)."""
    compiled = catalogs.ROOT / "zh_Hans_CN" / "LC_MESSAGES" / catalogs.COMPILED
    assert compiled.exists(), "run: python -m api.web.catalogs"
    with compiled.open("rb") as source:
        have = read_mo(source)
    catalog, _ = catalogs.merged(catalogs.ROOT / "zh_Hans_CN")
    assert {m.id: m.string for m in have if m.id} == {m.id: m.string for m in catalog if m.id}
