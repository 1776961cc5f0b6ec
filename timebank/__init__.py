"""The time-bank domain: regions, people, the catalogue of care services, service records, credits.

Glossary (Chinese term → name in this code):
- 养老服务时间银行 → time bank (a region node that runs its own ledger log)
- 志愿者 → volunteer; 老人 → elder; 网格员 / 社区工作者 → coordinator
- 志愿服务记录 → service record; 服务清单 → catalogue (never "service")
- 时间币 → credit (stored as integer minutes)
- 通存通兑 → redeem anywhere (credits earned in one bank spent in another)
- 星级志愿者 → star level; 学分 → school credit
- 政府兜底 → government backstop

Never imports Flask or marshmallow; use cases take the session first and never commit.
"""
