"""Care agreements (关爱服务协议) with key elders, their contact log and the compliance list."""

from __future__ import annotations
