"""The printable certificate (志愿服务证明): an A4 PDF in Chinese or English with a QR code to its verification page."""

from __future__ import annotations

import io
import re
from typing import Any

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from .certificates import hours_text

TOKENS = re.compile(r"[\x21-\x7e]+ *|.")  # a Latin word with its spaces, or one character
FONT = "STSong-Light"  # a CID font every PDF reader has: no font file shipped, Chinese and Latin text

LABELS = {
    "zh": {"title": "志愿服务证明", "number": "证明编号", "name": "志愿者", "hours": "服务时长",
           "hours_value": "{hours} 小时（{minutes} 分钟）", "period": "服务期间", "content": "服务内容",
           "content_line": "{name}：{hours} 小时，{records} 次", "unit": "记录单位",
           "issued": "出具日期", "recognition": "表彰", "award_line": "{name}（{unit}，{on}）",
           "body": "兹证明{name}在{start}至{end}期间参加养老志愿服务，经核实累计服务时长{hours}小时。",
           "verify": "扫描二维码或访问下列网址核验本证明：",
           "footer": "本证明免费出具，依据时间银行公开账本中的服务记录。"},
    "en": {"title": "Certificate of Volunteer Service", "number": "Certificate number", "name": "Volunteer",
           "hours": "Hours of service", "hours_value": "{hours} hours ({minutes} minutes)", "period": "Period",
           "content": "Service content", "content_line": "{name}: {hours} h, {records} times",
           "unit": "Recording unit", "issued": "Date of issue", "recognition": "Recognition",
           "award_line": "{name} ({unit}, {on})",
           "body": "This certifies that {name} served older people as a volunteer from {start} to {end}, "
                   "{hours} hours in all, as verified.",
           "verify": "Scan the QR code or visit this address to verify the certificate:",
           "footer": "Issued free of charge from the service records in the time bank's public ledger."},
}


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Break `text` into lines no wider than `width`: between Latin words, or between any two Chinese
    characters (Chinese has no spaces)."""
    lines, line = [], ""
    for token in TOKENS.findall(text):
        if pdfmetrics.stringWidth(line + token.rstrip(), FONT, size) > width and line:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return lines + ([line] if line else [])


def _qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """Draw `url`'s QR code as filled squares, bottom-left at (x, y), `size` points wide."""
    code = segno.make(url, error="m")
    rows = list(code.matrix)
    cell = size / len(rows)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)


def render(facts: dict[str, Any], lang: str = "zh") -> bytes:
    """The certificate as PDF bytes. `facts`: number, name, hours, minutes, start, end, content
    ([{name_zh, name_en, minutes, records}]), unit_zh, unit_en, issued_on and url (the verification page)."""
    lang = lang if lang in LABELS else "zh"
    t = LABELS[lang]
    font = _font()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{t['title']} {facts['number']}")
    canvas.setAuthor(facts[f"unit_{lang}"])
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    canvas.setFont(font, 26)
    canvas.drawCentredString(width / 2, height - 40 * mm, t["title"])
    canvas.setFont(font, 11)
    canvas.drawRightString(right, height - 52 * mm, f"{t['number']}: {facts['number']}")
    y = height - 70 * mm
    canvas.setFont(font, 13)
    body = t["body"].format(name=facts["name"], start=facts["start"], end=facts["end"], hours=facts["hours"])
    for line in _wrap(body, right - left, 13):
        canvas.drawString(left, y, line)
        y -= 8 * mm
    y -= 4 * mm
    hours = t["hours_value"].format(hours=facts["hours"], minutes=facts["minutes"])
    rows = [(t["name"], facts["name"]), (t["hours"], hours), (t["period"], f"{facts['start']} – {facts['end']}")]
    for label, value in rows:
        canvas.drawString(left, y, f"{label}:")
        canvas.drawString(left + 40 * mm, y, value)
        y -= 8 * mm
    canvas.drawString(left, y, f"{t['content']}:")
    for item in facts["content"]:
        minutes = item["minutes"]
        line = t["content_line"].format(name=item[f"name_{lang}"], hours=hours_text(minutes), records=item["records"])
        for part in _wrap(line, right - left - 40 * mm, 13):
            canvas.drawString(left + 40 * mm, y, part)
            y -= 7 * mm
    y -= 3 * mm
    if facts.get("recognition"):
        canvas.drawString(left, y, f"{t['recognition']}:")
        for item in facts["recognition"]:
            line = item[f"name_{lang}"] if item["kind"] == "level" else t["award_line"].format(
                name=item[f"name_{lang}"], unit=item["unit"], on=item["granted_on"])
            for part in _wrap(line, right - left - 40 * mm, 13):
                canvas.drawString(left + 40 * mm, y, part)
                y -= 7 * mm
        y -= 3 * mm
    canvas.drawString(left, y, f"{t['unit']}:")
    canvas.drawString(left + 40 * mm, y, facts[f"unit_{lang}"])
    y -= 8 * mm
    canvas.drawString(left, y, f"{t['issued']}:")
    canvas.drawString(left + 40 * mm, y, facts["issued_on"])
    qr_size = 40 * mm
    _qr(canvas, facts["url"], left, 35 * mm, qr_size)
    canvas.setFont(font, 10)
    text_x = left + qr_size + 8 * mm
    for i, part in enumerate(_wrap(t["verify"], right - text_x, 10) + _wrap(facts["url"], right - text_x, 10)):
        canvas.drawString(text_x, 35 * mm + qr_size - (6 + 6 * i) * mm, part)
    canvas.setFont(font, 9)
    canvas.drawCentredString(width / 2, 20 * mm, t["footer"])
    canvas.showPage()
    canvas.save()
    return out.getvalue()
