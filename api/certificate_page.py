"""The public verification page of a certificate (志愿服务证明), `/certificates/<number>`: what its QR code opens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, make_response, render_template

from timebank.certificates import verify_certificate
from timebank.errors import NotFound

from .db import get_session
from .pages import CSP, current_language

bp = Blueprint("certificate_page", __name__)

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "志愿服务证明核验", "number": "证明编号", "name": "志愿者", "hours": "服务时长",
        "hours_value": "{hours} 小时", "period": "服务期间", "content": "服务内容", "unit": "记录单位",
        "issued": "出具日期", "records": "服务记录", "valid": "有效", "superseded": "已被取代",
        "invalid": "核验失败",
        "valid_note": "本证明的内容与公开账本中的签名记录一致，其所依据的服务记录均有效。",
        "superseded_note": "本证明出具后，以下服务记录已被撤销，证明已不再完整有效：",
        "invalid_note": "本证明存储的内容与公开账本中的摘要不符，请勿采信。",
        "proofs": "账本证据",
        "proofs_note": "证明条目及每条服务记录的入账条目，均附有指向银行最新签名检查点的包含证明。",
        "entry": "证明条目", "deposit": "入账条目", "log": "账本", "index": "序号", "tree": "检查点大小",
        "vkey": "验证公钥", "how": "如何自行核验",
        "how_1": "下载机器可读的签名版本：", "how_2": "用上面的验证公钥核对签名（C2SP 签名便笺，Ed25519）。",
        "how_3": "用包含证明与签名检查点核对每个条目确在账本中：", "times": "{n} 次", "recognition": "表彰",
        "not_found": "找不到该证明", "not_found_note": "请核对证明编号，编号形如 TB-2026-000123。",
    },
    "en": {
        "title": "Certificate verification", "number": "Certificate number", "name": "Volunteer",
        "hours": "Hours of service", "hours_value": "{hours} hours", "period": "Period", "content": "Service content",
        "unit": "Recording unit", "issued": "Date of issue", "records": "Service records", "valid": "Valid",
        "superseded": "Superseded", "invalid": "Failed verification",
        "valid_note": "The certificate matches its signed entry in the public ledger, and every record behind it "
                      "stands.",
        "superseded_note": "Since the certificate was issued, these service records were reversed, so it no "
                           "longer stands in full:",
        "invalid_note": "The stored certificate does not match the digest in the public ledger: do not rely on it.",
        "proofs": "Ledger evidence", "proofs_note": "The certificate's entry and each record's deposit entry, each "
                                                    "with an inclusion proof against the bank's latest signed "
                                                    "checkpoint.",
        "entry": "Certificate entry", "deposit": "Deposit entry", "log": "Log", "index": "Index",
        "tree": "Checkpoint size", "vkey": "Verifier key", "how": "How to check it yourself",
        "how_1": "Download the machine-readable signed version:",
        "how_2": "Check its signature with the verifier key above (a C2SP signed note, Ed25519).",
        "how_3": "Check each entry is in the ledger with its inclusion proof and the signed checkpoint:",
        "times": "{n} times", "recognition": "Recognition", "not_found": "No such certificate",
        "not_found_note": "Check the certificate number; it looks like TB-2026-000123.",
    },
}


def _page(template: str, status: int, **context: Any) -> Response:
    lang = current_language()
    text = TEXT.get(lang, TEXT["zh-CN"])
    response = make_response(render_template(template, c=text, **context), status)
    response.headers["Content-Language"] = lang
    response.headers["Content-Security-Policy"] = CSP
    response.vary.add("Accept-Language")
    return response


@bp.get("/certificates/<number>")
def certificate(number: str) -> Response:
    """志愿服务证明核验: the facts (name masked), valid or superseded, the proofs summarised, the keys."""
    try:
        result = verify_certificate(get_session(), current_app.extensions["timebank.sealer"], number=number)
    except NotFound:
        return _page("certificate_missing.html", 404, number=number)
    return _page("certificate_page.html", 200, v=result, number=number)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
