"""The web pages' two languages, Chinese (zh-CN) first and English: which one a request gets, and the words."""

from __future__ import annotations

from datetime import datetime, timezone

from werkzeug.datastructures import LanguageAccept

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
# The name of each language in itself, for the switch link.
NATIVE_NAMES = {"zh-CN": "中文", "en": "English"}

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "site_name": "养老服务时间银行",
        "skip_to_content": "跳到正文",
        "switch_language": "切换语言",
        "footer": "本页只公开账本摘要，不显示任何个人信息。",
        "ledger_title": "公开账本",
        "ledger_intro": "每个时间银行都有一本只能追加、不能修改的公开账本。"
        "这里列出每本账的摘要，任何人都可以自己核验记录没有被改动。本页不显示任何个人信息。",
        "log_label": "账本",
        "origin": "来源标识（origin）",
        "state": "状态",
        "state_ok": "正常",
        "state_ok_note": "账本核验通过，正常记账。",
        "state_refused": "已停止写入",
        "state_refused_note": "启动核验时发现账本与已签名的检查点不一致，系统已停止向这本账写入。请联系管理员。",
        "technical_details": "技术详情",
        "entries": "条目数",
        "entries_value": "{n} 条",
        "signed_at": "最新检查点签名时间",
        "unknown": "无法读取",
        "vkey": "核验公钥",
        "vkey_note": "用这把公钥核对检查点的签名。请与其他渠道（如公告）公布的公钥对比，应完全相同。",
        "copy": "复制公钥",
        "copied": "已复制",
        "copy_failed": "请手动选中复制",
        "raw_data": "原始数据（给核验程序用）",
        "raw_checkpoint": "最新检查点",
        "raw_vkey": "核验公钥",
        "growth": "账本增长",
        "growth_summary": "最近 {n} 个已签名检查点",
        "chart_title": "账本 {id} 的条目数随时间增长",
        "chart_desc": "从 {start} 的 {first} 条增长到 {end} 的 {last} 条，图中共 {n} 个已签名检查点。",
        "chart_point": "{size} 条，签名于 {at}",
        "axis_entries": "条目数",
        "axis_time": "签名时间（UTC）",
        "empty_title": "还没有账本",
        "empty_text": "这个系统里还没有任何时间银行的账本。管理员可以在服务器上运行下面的命令创建一本：",
        "empty_demo": "或者载入演示数据：",
        "howto_title": "如何核验",
        "howto_intro": "不必相信我们，也不必相信这个程序：按下面几步，您或您信任的技术人员就能自己核验。",
        "howto_step1": "取得最新检查点。它写明账本里有多少条记录，以及全部记录的“指纹”（根哈希）：",
        "howto_step2": "用公布的核验公钥核对检查点的签名（Ed25519，C2SP 签名格式）。签名不对，就说明数据不可信：",
        "howto_step3": "取得证明：包含证明说明某一条记录确实在账本里；一致性证明说明旧的记录一条也没有被改动：",
        "howto_step4": "持有数据库副本的审计人员，可以用命令一次核验全部记录和检查点：",
        "id_placeholder": "编号",
    },
    "en": {
        "site_name": "Elder-care time bank",
        "skip_to_content": "Skip to content",
        "switch_language": "Change language",
        "footer": "This page shows only ledger summaries, never personal data.",
        "ledger_title": "Public ledger",
        "ledger_intro": "Each time bank keeps a public ledger that can only grow, never change. "
        "Here is a summary of each one, so that anyone can check for themselves that no record was altered. "
        "No personal data is shown on this page.",
        "log_label": "Ledger",
        "origin": "Origin",
        "state": "State",
        "state_ok": "OK",
        "state_ok_note": "The ledger verified at start-up and accepts new entries.",
        "state_refused": "Refused writes",
        "state_refused_note": "At start-up the ledger did not match its signed checkpoint, so no more entries "
        "are written to it. Please contact the administrator.",
        "technical_details": "Technical details",
        "entries": "Entries",
        "entries_value": "{n}",
        "signed_at": "Latest checkpoint signed",
        "unknown": "cannot be read",
        "vkey": "Verifier key",
        "vkey_note": "Check checkpoint signatures with this key. Compare it with the key published elsewhere "
        "(for example in a public notice): they must be identical.",
        "copy": "Copy key",
        "copied": "Copied",
        "copy_failed": "Please select and copy by hand",
        "raw_data": "Raw data (for verifier programs)",
        "raw_checkpoint": "Latest checkpoint",
        "raw_vkey": "Verifier key",
        "growth": "Growth of the ledger",
        "growth_summary": "The last {n} signed checkpoints",
        "chart_title": "Entries in ledger {id} over time",
        "chart_desc": "Grew from {first} entries on {start} to {last} entries on {end}, "
        "over {n} signed checkpoints shown.",
        "chart_point": "{size} entries, signed {at}",
        "axis_entries": "Entries",
        "axis_time": "Time signed (UTC)",
        "empty_title": "No ledgers yet",
        "empty_text": "This deployment has no time bank ledger yet. "
        "An administrator can create one by running this command on the server:",
        "empty_demo": "Or load the demo data:",
        "howto_title": "How to verify",
        "howto_intro": "You need not trust us or this program: with these steps you, "
        "or a technical person you trust, can check for yourself.",
        "howto_step1": "Fetch the latest checkpoint. It states how many entries the ledger holds "
        "and a fingerprint of all of them (the root hash):",
        "howto_step2": "Check the checkpoint's signature with the published verifier key "
        "(Ed25519, C2SP signed note). A bad signature means the data cannot be trusted:",
        "howto_step3": "Fetch proofs: an inclusion proof shows that one entry is in the ledger; "
        "a consistency proof shows that no earlier entry was changed:",
        "howto_step4": "Auditors with a copy of the database can check every entry and checkpoint at once:",
        "id_placeholder": "id",
    },
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def normalize(tag: str | None) -> str | None:
    """The supported language a tag such as `en-GB`, `zh`, `zh-cn` stands for, or None."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return {"zh": "zh-CN", "en": "en"}.get(primary)


def choose(requested: str | None, accept: LanguageAccept) -> str:
    """The language of a response: `?lang=` when it names a supported one, else the first supported
    language of Accept-Language by preference, else Chinese."""
    chosen = normalize(requested)
    if chosen:
        return chosen
    for tag, _quality in accept:  # sorted by quality, best first
        chosen = normalize(tag)
        if chosen:
            return chosen
    return DEFAULT


def translate(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang`, with `values` filled in. KeyError for an unknown key."""
    text = MESSAGES[lang][key]
    return text.format(**values) if values else text


def format_time(lang: str, at: datetime) -> str:
    """A UTC time as people read it: `2026年11月25日 09:30（UTC）` or `25 Nov 2026, 09:30 UTC`."""
    at = at.astimezone(timezone.utc)
    if lang == "en":
        return f"{at.day} {_MONTHS_EN[at.month - 1]} {at.year}, {at:%H:%M} UTC"
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}（UTC）"


def format_day(lang: str, at: datetime, *, with_year: bool = False) -> str:
    """A short UTC date for chart ticks: `11月25日` / `25 Nov` (with the year when asked)."""
    at = at.astimezone(timezone.utc)
    if lang == "en":
        return f"{at.day} {_MONTHS_EN[at.month - 1]}" + (f" {at.year}" if with_year else "")
    return (f"{at.year}年" if with_year else "") + f"{at.month}月{at.day}日"


def format_count(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"
