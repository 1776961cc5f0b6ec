"""The domain API under /api/v1: one blueprint per feature, each described in the OpenAPI document."""

from __future__ import annotations

from flask_smorest import Api

from . import auth, care, certificates, credits, network, people, recognition, records, schools
from . import people_elders  # noqa: F401 (its routes join the people blueprint)

BLUEPRINTS = (auth.blp, network.blp, people.blp, records.blp, credits.blp, care.blp, schools.blp, certificates.blp,
              recognition.blp)


def register(api: Api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
