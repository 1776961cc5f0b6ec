"""The tamper-evident log: canonical-JSON leaves, an RFC 6962 tree and C2SP signed checkpoints.

Knows nothing of Flask or the time-bank domain. The pure modules (`canonical`, `merkle`, `note`,
`keys`) need no database; `store` keeps logs in SQL through SQLAlchemy and `audit` verifies them.
"""
