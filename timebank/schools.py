"""Schools (学生社区志愿服务计学分): students linked with consent, each school's credit rule and terms, reports."""

from __future__ import annotations
