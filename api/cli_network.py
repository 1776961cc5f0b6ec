"""Administrator commands for the network: regions, banks, staff, the catalogue and policy."""

from __future__ import annotations

import json
from typing import Any

import click
import sqlalchemy as sa

from ledger.errors import LedgerError
from timebank import catalogue, people, policy, regions
from timebank.banks import open_bank
from timebank.errors import DomainError
from timebank.regions import Region

from .cli_base import CliContext, now, pass_ctx, refused


@click.group("region")
def region_group() -> None:
    """The region tree (省/市/县区/乡镇街道/村社区/网格)."""


@region_group.command("add")
@click.option("--level", type=click.Choice(regions.LEVELS), required=True)
@click.option("--name-zh", required=True, help="Chinese name, e.g. 海州区.")
@click.option("--name-en", required=True, help="English name, e.g. Haizhou.")
@click.option("--parent", "parent_id", help="The parent region's id (none for a root).")
@click.option("--code", help="An administrative code, unique.")
@pass_ctx
def region_add(
    ctx: CliContext, level: str, name_zh: str, name_en: str, parent_id: str | None, code: str | None
) -> None:
    """Add a region and print its id."""
    with ctx.session() as session:
        try:
            region = regions.create_region(session, level=level, name_zh=name_zh, name_en=name_en, parent_id=parent_id,
                                           code=code, at=now())
        except DomainError as exc:
            raise refused(exc) from exc
        session.commit()
        click.echo(region.id)


@region_group.command("tree")
@pass_ctx
def region_tree(ctx: CliContext) -> None:
    """Print the region tree, banks marked with their log."""
    with ctx.session() as session:
        for region in session.scalars(sa.select(Region).order_by(Region.path)):
            indent = "  " * (len(region.ancestor_ids) - 1)
            bank = f"  [bank, log {region.log_id}]" if region.is_bank else ""
            click.echo(f"{indent}{region.name_zh} {region.name_en} ({regions.LEVEL_NAMES[region.level]}) "
                       f"{region.id}{bank}")


@click.group("bank")
def bank_group() -> None:
    """Time banks: a region with its own ledger log."""


@bank_group.command("open")
@click.argument("region_id")
@click.option("--log", "log_id", required=True, help="The new log's id: lowercase letters, digits and '-'.")
@click.option("--origin", help="The log's origin (default: TIMEBANK_ORIGIN_HOST/LOG).")
@pass_ctx
def bank_open(ctx: CliContext, region_id: str, log_id: str, origin: str | None) -> None:
    """Make REGION_ID a bank with its own log and signing key."""
    with ctx.session() as session:
        try:
            open_bank(session, ctx.writer(), region_id=region_id, log_id=log_id,
                      origin=origin or f"{ctx.settings.origin_host}/{log_id}", at=now())
        except (DomainError, LedgerError) as exc:
            raise click.ClickException(getattr(exc, "message", str(exc))) from exc
        session.commit()
    click.echo(f"bank opened: log {log_id}")


@click.group("staff")
def staff_group() -> None:
    """Coordinators and administrators."""


@staff_group.command("add")
@click.option("--region", "region_id", required=True)
@click.option("--role", type=click.Choice(people.STAFF_ROLES), required=True)
@click.option("--name", required=True)
@pass_ctx
def staff_add(ctx: CliContext, region_id: str, role: str, name: str) -> None:
    """Add a staff member scoped to a region subtree; prints the id."""
    with ctx.session() as session:
        try:
            staff = people.register_staff(session, ctx.sealer(), region_id=region_id, role=role, name=name, at=now())
        except DomainError as exc:
            raise refused(exc) from exc
        session.commit()
        click.echo(staff.id)


@click.group("catalogue")
def catalogue_group() -> None:
    """The care-service catalogue (服务清单)."""


@catalogue_group.command("list")
@click.option("--region", "region_id", help="Show what this region sees, with its policy's weights.")
@pass_ctx
def catalogue_list(ctx: CliContext, region_id: str | None) -> None:
    """List catalogue items: code, names, category, weight, who may give it."""
    with ctx.session() as session:
        try:
            region = regions.get_region(session, region_id) if region_id else None
        except DomainError as exc:
            raise refused(exc) from exc
        pol = policy.effective(session, region) if region else None
        items = catalogue.items_for(session, region) if region else session.scalars(
            sa.select(catalogue.CatalogueItem).order_by(catalogue.CatalogueItem.code)).all()
        for item in items:
            weight = pol.weight(item.code, item.weight_pct) if pol else item.weight_pct
            flags = ("" if item.volunteer_eligible else " staff-only") + (" training" if item.training_required else "")
            price = f" price {item.price_minutes} min" if item.price_minutes else ""
            click.echo(f"{item.code:<10} {item.name_zh}\t{item.name_en}\t{item.category}\t{weight}%{price}{flags}")


@catalogue_group.command("add")
@click.option("--region", "region_id", required=True)
@click.option("--code", required=True)
@click.option("--name-zh", required=True)
@click.option("--name-en", required=True)
@click.option("--category", type=click.Choice(catalogue.CATEGORIES), required=True)
@click.option("--weight", "weight_pct", type=int, default=100, show_default=True, help="Percent: 120 means ×1.2.")
@click.option("--price", "price_minutes", type=int, help="A fixed price in credit minutes instead of a weight.")
@click.option("--training/--no-training", default=False)
@pass_ctx
def catalogue_add(ctx: CliContext, **fields: Any) -> None:
    """Add a region's own catalogue item."""
    with ctx.session() as session:
        try:
            catalogue.add_item(session, at=now(), training_required=fields.pop("training"), **fields)
        except DomainError as exc:
            raise refused(exc) from exc
        session.commit()
    click.echo(f"added {fields['code']}")


@click.group("policy")
def policy_group() -> None:
    """Policy: every rule is a knob with a default, set on a region for its subtree."""


@policy_group.command("knobs")
def policy_knobs() -> None:
    """List every knob with its default and what it means."""
    for name, knob in policy.KNOBS.items():
        click.echo(f"{name} = {json.dumps(knob.default, ensure_ascii=False)}\n    {knob.meaning} ({knob.rule})")


@policy_group.command("show")
@click.argument("region_id")
@pass_ctx
def policy_show(ctx: CliContext, region_id: str) -> None:
    """Print the policy in force for REGION_ID, as JSON."""
    with ctx.session() as session:
        try:
            pol = policy.effective(session, regions.get_region(session, region_id))
        except DomainError as exc:
            raise refused(exc) from exc
        click.echo(json.dumps({"version": pol.version, **pol.values}, ensure_ascii=False, indent=2))


@policy_group.command("set")
@click.argument("region_id")
@click.argument("assignments", nargs=-1, required=True, metavar="KNOB=JSON...")
@click.option("--by", "set_by", required=True, help="The administrator's staff id.")
@pass_ctx
def policy_set(ctx: CliContext, region_id: str, assignments: tuple[str, ...], set_by: str) -> None:
    """Set knobs for REGION_ID's subtree, e.g. `daily_cap_minutes=360 gift_relations='["spouse"]'`."""
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep:
            raise click.BadParameter(f"{assignment!r} is not KNOB=VALUE", param_hint="KNOB=JSON")
        try:
            changes[name] = json.loads(value)
        except json.JSONDecodeError:
            changes[name] = value  # a bare word, such as rounding=floor
    with ctx.session() as session:
        try:
            version = policy.set_policy(session, ctx.writer(), region_id=region_id, changes=changes, set_by=set_by,
                                        at=now())
        except DomainError as exc:
            raise refused(exc) from exc
        session.commit()
        click.echo(f"policy version {version.version} set")


COMMANDS = (region_group, bank_group, staff_group, catalogue_group, policy_group)
