"""The domain API under /api/v1: one blueprint per feature, each described in the OpenAPI document."""

from __future__ import annotations

from flask_smorest import Api

from . import auth, care, credits, network, people, people_elders, records  # noqa: F401 (elders' routes join people's)

BLUEPRINTS = (auth.blp, network.blp, people.blp, records.blp, credits.blp, care.blp)


def register(api: Api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
