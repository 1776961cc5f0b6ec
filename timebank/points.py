"""Points (积分): earned from verified hours by policy, spent on goods (党员超市/爱心超市, 微心愿), never on care."""

from __future__ import annotations
