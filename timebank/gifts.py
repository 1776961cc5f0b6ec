"""Gifts of credit to relatives, and what happens to a person's credit on death."""

from __future__ import annotations
