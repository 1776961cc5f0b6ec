"""Administrator commands for figures and periodic jobs: statistics, settlement between banks, expiry."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import click

from timebank import interbank, points, regions, stats
from timebank.checks import CHINA
from timebank.errors import DomainError

from .cli_base import CliContext, now, pass_ctx, refused



def _day(value: date, end: bool = False) -> datetime:
    """Midnight China time at the start of `value` (or of the day after, for an inclusive end)."""
    return datetime.combine(value + timedelta(days=1 if end else 0), time(0), CHINA).astimezone(timezone.utc)


def _period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    today = now().astimezone(CHINA).date()
    first = start.date() if start else today.replace(day=1)
    last = end.date() if end else today
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    return _day(first), _day(last, end=True)


PERIOD = (
    click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (China time); default: "
                 "the 1st of this month."),
    click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included; default: today."),
)


def _with_period(command: Any) -> Any:
    for option in reversed(PERIOD):
        command = option(command)
    return command


def hours(minutes: int) -> str:
    return f"{minutes / 60:,.1f} h"


@click.command("stats")
@click.argument("region_id")
@_with_period
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def stats_command(ctx: CliContext, region_id: str, start: datetime | None, end: datetime | None,
                  as_json: bool) -> None:
    """Figures of REGION_ID's subtree: volunteers, hours deposited and redeemed, outstanding credit,
    elders served by priority tag, visit compliance."""
    first, after = _period(start, end)
    with ctx.session() as session:
        try:
            figures = stats.region_statistics(session, region_id=region_id, start=first, end=after, at=now())
            name = regions.get_region(session, region_id).name_zh
        except DomainError as exc:
            raise refused(exc) from exc
    if as_json:
        click.echo(json.dumps(asdict(figures), ensure_ascii=False, default=str, indent=2))
        return
    click.echo(f"{name} ({region_id}), {first.astimezone(CHINA):%Y-%m-%d} – "
               f"{(after - timedelta(days=1)).astimezone(CHINA):%Y-%m-%d}")
    click.echo(f"  volunteers            {figures.volunteers}  "
               + ", ".join(f"{k} {v}" for k, v in figures.volunteers_by_kind.items()))
    click.echo(f"  elders                {figures.elders}, served {figures.elders_served}  "
               + ", ".join(f"{k} {v}" for k, v in figures.elders_served_by_tag.items()))
    click.echo(f"  records posted        {figures.records_posted} ({hours(figures.service_minutes)} given)")
    click.echo(f"  credit deposited      {hours(figures.deposited_minutes)}")
    click.echo(f"  credit redeemed       {hours(figures.redeemed_minutes)} in {figures.redemptions_completed} services")
    click.echo(f"  outstanding (people)  {hours(figures.outstanding_minutes)}")
    click.echo(f"  banks' liability      {hours(figures.bank_liability_minutes)}")
    visited, total = figures.monthly_visit_rate
    click.echo(f"  care agreements       {figures.agreements}, behind this week {figures.agreements_behind}; "
               f"visited this month {visited}/{total}")


@click.group("settlement")
def settlement_group() -> None:
    """Positions between banks from redemptions away from home (通存通兑)."""


@settlement_group.command("report")
@_with_period
@pass_ctx
def settlement_report(ctx: CliContext, start: datetime | None, end: datetime | None) -> None:
    """Net what each pair of banks' members used in the other during the period."""
    first, after = _period(start, end)
    with ctx.session() as session:
        positions = interbank.settlement_report(session, start=first, end=after)
        if not positions:
            click.echo("no redemptions between banks")
        names = {r.id: r.name_zh for r in regions.list_banks(session)}
        for p in positions:
            a, b = names.get(p.bank_a_id, p.bank_a_id), names.get(p.bank_b_id, p.bank_b_id)
            owes = p.owes()
            net = "even"
            if owes is not None:
                net = f"{names.get(owes[0], owes[0])} owes {names.get(owes[1], owes[1])} {owes[2]} min"
            click.echo(f"{a} ↔ {b}: {a}'s members used {p.a_to_b} min in {b}, {b}'s used {p.b_to_a} min in {a}; "
                       f"net {net}; still to settle: {p.a_owes_b_closing} / {p.b_owes_a_closing} min"
                       + ("" if p.reconciled else "  [CLEARING BALANCES DO NOT RECONCILE]"))


@settlement_group.command("settle")
@click.argument("bank_a")
@click.argument("bank_b")
@click.option("--by", "settled_by", required=True, help="An administrator's staff id.")
@pass_ctx
def settlement_settle(ctx: CliContext, bank_a: str, bank_b: str, settled_by: str) -> None:
    """Retire the clearing balances between two banks (after they have settled off the ledger)."""
    with ctx.session() as session:
        try:
            done = interbank.settle(session, ctx.writer(), bank_a_id=bank_a, bank_b_id=bank_b, settled_by=settled_by,
                                    at=now())
        except DomainError as exc:
            raise refused(exc) from exc
        session.commit()
        click.echo(f"settled {done.id}: net {done.net} min")


@click.command("expire")
@click.argument("bank_id")
@click.option("--by", "by", required=True, help="An administrator's staff id covering the bank.")
@pass_ctx
def expire_command(ctx: CliContext, bank_id: str, by: str) -> None:
    """Expire credit older than the bank's `expiry_days` policy (nothing when it is unset)."""
    with ctx.session() as session:
        try:
            done = points.expire_credit(session, ctx.writer(), bank_id=bank_id, by=by, at=now())
        except DomainError as exc:
            raise refused(exc) from exc
        session.commit()
        click.echo(f"expired {sum(done.expired.values())} min in {len(done.expired)} accounts")


COMMANDS = (stats_command, settlement_group, expire_command)
