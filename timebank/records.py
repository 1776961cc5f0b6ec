"""Service records (志愿服务记录): submitted, confirmed, verified and posted as credit; disputed, rejected, reversed."""

from __future__ import annotations
