"""The administrator commands (regions, banks, staff, policy, catalogue, demo, stats, settlement, expiry,
personal-data keys), run end to end as real subprocesses of the console script."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from livehttp import console_env, origin, session_on

from ledger.keys import Keyring, key_path
from timebank.accounts import Account
from timebank.catalogue import CatalogueItem
from timebank.policy import KNOBS, PolicyVersion
from timebank.people import Staff
from timebank.regions import Region

TIMEBANK = Path(sys.executable).with_name("timebank")
EVER = ["--from", "2000-01-01"]  # a period that holds all of the demo, whatever today is
DEMO_BANKS = ("haizhou", "lianyun", "lianyungang", "suqian")


@dataclass(frozen=True)
class Deployment:
    """One deployment (database, instance folder, key folder) driven through the console script."""

    url: str
    root: Path

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"

    def env(self) -> dict[str, str]:
        return console_env(self.url, self.root)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(TIMEBANK), *args], env=self.env(), capture_output=True, text=True, timeout=300)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        return result.stdout

    def fails(self, args: list[str], code: int, *says: str) -> str:
        """Run a command that must fail with exit `code`, saying each of `says`, without a traceback."""
        result = self.run(*args)
        assert result.returncode == code, (result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        for text in says:
            assert text in result.stderr, result.stderr
        return result.stderr

    def policy_versions(self) -> int:
        with session_on(self.url) as session:
            return int(session.scalar(sa.select(sa.func.count()).select_from(PolicyVersion)) or 0)

    def region(self, region_id: str) -> Region:
        with session_on(self.url) as session:
            region = session.get(Region, region_id)
            assert region is not None
            session.expunge(region)
            return region

    def region_by_code(self, code: str) -> str:
        with session_on(self.url) as session:
            region_id = session.scalar(sa.select(Region.id).where(Region.code == code))
        assert region_id is not None, code
        return region_id

    def administrator_of(self, code: str) -> str:
        """The id of an administrator of the region with this code."""
        region_id = self.region_by_code(code)
        with session_on(self.url) as session:
            staff_id = session.scalar(sa.select(Staff.id).where(Staff.region_id == region_id,
                                                                Staff.role == "administrator"))
        assert staff_id is not None, code
        return staff_id


def one_line(output: str) -> str:
    lines = output.splitlines()
    assert len(lines) == 1, output
    return lines[0]


# -- a small network built with the commands: 江苏省 → 连云港市 (bank) → 海州区 → 朝阳社区 ---------


@dataclass(frozen=True)
class Network:
    cli: Deployment
    province: str
    city: str
    county: str
    community: str
    opened: str  # what `bank open` printed
    admin: str  # an administrator of the city (the bank)
    coordinator: str  # a coordinator of the county
    province_admin: str  # an administrator of the province, which no bank covers


@pytest.fixture(scope="module")
def net(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Network:
    cli = Deployment(databases.new_url(), tmp_path_factory.mktemp("cli-network"))

    def add(*args: str) -> str:
        return one_line(cli.ok("region", "add", *args))

    province = add("--level", "province", "--name-zh", "江苏省", "--name-en", "Jiangsu", "--code", "320000")
    city = add("--level", "city", "--name-zh", "连云港市", "--name-en", "Lianyungang", "--parent", province,
               "--code", "320700")
    county = add("--level", "county", "--name-zh", "海州区", "--name-en", "Haizhou", "--parent", city)
    # levels may be skipped: a community straight under a county
    community = add("--level", "community", "--name-zh", "朝阳社区", "--name-en", "Chaoyang", "--parent", county)
    opened = cli.ok("bank", "open", city, "--log", "lianyungang")

    def staff(region_id: str, role: str, name: str) -> str:
        return one_line(cli.ok("staff", "add", "--region", region_id, "--role", role, "--name", name))

    return Network(cli, province, city, county, community, opened, admin=staff(city, "administrator", "王芳"),
                   coordinator=staff(county, "coordinator", "李强"),
                   province_admin=staff(province, "administrator", "赵敏"))


def test_region_add_prints_ids_and_region_tree_marks_the_banks(net: Network) -> None:
    for region_id in (net.province, net.city, net.county, net.community):
        assert re.fullmatch(r"reg_[a-z0-9]+", region_id)
    assert net.cli.ok("region", "tree").splitlines() == [
        f"江苏省 Jiangsu (省) {net.province}",
        f"  连云港市 Lianyungang (市) {net.city}  [bank, log lianyungang]",
        f"    海州区 Haizhou (县/区) {net.county}",
        f"      朝阳社区 Chaoyang (村/社区) {net.community}",
    ]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        pytest.param(["--level", "planet"], 2, ["--level", "province", "grid"], id="unknown-level"),
        pytest.param(["--level", "province", "--parent", "{city}"], 1, ["a province cannot sit under a city"],
                     id="level-above-its-parent"),
        pytest.param(["--level", "city", "--parent", "reg_nowhere"], 1, ["no region 'reg_nowhere'"],
                     id="unknown-parent"),
        pytest.param(["--level", "city", "--parent", "{province}", "--code", "320700"], 1,
                     ["region code '320700' is taken"], id="code-taken"),
        pytest.param(["--level", "city", "--parent", "{province}", "--name-zh", "  "], 1,
                     ["name_zh"], id="blank-name"),
    ],
)
def test_region_add_refuses_bad_input_naming_what_to_fix(net: Network, args: list[str], code: int,
                                                         says: list[str]) -> None:
    args = [a.format(city=net.city, province=net.province) for a in args]
    if "--name-zh" not in args:
        args += ["--name-zh", "无处"]
    net.cli.fails(["region", "add", *args, "--name-en", "Nowhere"], code, *says)
    with session_on(net.cli.url) as session:
        assert session.scalar(sa.select(sa.func.count()).where(Region.name_en == "Nowhere")) == 0


# -- bank open ------------------------------------------------------------------------------------


def test_bank_open_makes_a_log_with_a_private_key_that_ledger_list_shows(net: Network) -> None:
    assert net.opened == "bank opened: log lianyungang\n"
    path = key_path(net.cli.key_dir, "lianyungang")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    vkey = Keyring(net.cli.key_dir).signer("lianyungang", origin("lianyungang")).vkey
    # the opening entry, and one per policy change of the other tests
    (listed,) = net.cli.ok("ledger", "list").splitlines()
    assert re.fullmatch(rf"lianyungang\t[1-9]\d* entries\t{re.escape(vkey)}", listed)
    verified = net.cli.ok("ledger", "verify").splitlines()
    assert re.fullmatch(r"OK   log lianyungang: [1-9]\d* entries, [2-9]\d* checkpoints verified", verified[0])
    assert re.fullmatch(rf"OK   bank {net.city} \(lianyungang\): \d+ account balances equal the ledger's postings",
                        verified[1])


@pytest.mark.parametrize(
    ("region", "log_id", "says"),
    [
        pytest.param("city", "other", ["连云港市 is already a bank (log lianyungang)"], id="twice"),
        pytest.param("county", "Bad_Log", ["log id 'Bad_Log'", "lowercase letters, digits and '-'"], id="bad-log-id"),
        pytest.param("county", "lianyungang", ["'lianyungang'", "already exists"], id="log-id-taken"),
        pytest.param(None, "other", ["no region 'reg_nowhere'"], id="unknown-region"),
    ],
)
def test_bank_open_refusals_are_clear_and_change_nothing(net: Network, region: str | None, log_id: str,
                                                         says: list[str]) -> None:
    key = key_path(net.cli.key_dir, "lianyungang").read_bytes()
    region_id = getattr(net, region) if region else "reg_nowhere"
    net.cli.fails(["bank", "open", region_id, "--log", log_id], 1, *says)
    assert net.cli.region(net.county).log_id is None
    assert net.cli.region(net.city).log_id == "lianyungang"
    assert key_path(net.cli.key_dir, "lianyungang").read_bytes() == key
    assert sorted(p.name for p in net.cli.key_dir.iterdir()) == ["lianyungang.key"]


# -- staff ----------------------------------------------------------------------------------------


def test_staff_add_prints_the_new_id(net: Network) -> None:
    assert len({net.admin, net.coordinator, net.province_admin}) == 3
    for staff_id in (net.admin, net.coordinator, net.province_admin):
        assert re.fullmatch(r"stf_[a-z0-9]+", staff_id)


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        pytest.param(["--region", "{city}", "--role", "boss"], 2, ["--role", "coordinator", "administrator"],
                     id="unknown-role"),
        pytest.param(["--region", "reg_nowhere", "--role", "coordinator"], 1, ["no region 'reg_nowhere'"],
                     id="unknown-region"),
    ],
)
def test_staff_add_refuses_bad_input(net: Network, args: list[str], code: int, says: list[str]) -> None:
    net.cli.fails(["staff", "add", *(a.format(city=net.city) for a in args), "--name", "张三"], code, *says)


# -- policy ---------------------------------------------------------------------------------------


def test_policy_knobs_lists_every_knob_with_its_default(net: Network) -> None:
    lines = net.cli.ok("policy", "knobs").splitlines()
    heads = [line for line in lines if not line.startswith(" ")]
    assert heads == [f"{name} = {json.dumps(knob.default, ensure_ascii=False)}" for name, knob in KNOBS.items()]
    assert len(lines) == 2 * len(KNOBS)
    for name, knob in KNOBS.items():
        assert f"    {knob.meaning} ({knob.rule})" in lines, name


def test_policy_set_takes_json_and_bare_words_and_policy_show_prints_them(net: Network) -> None:
    out = net.cli.ok("policy", "set", net.city, "daily_cap_minutes=360", "rounding=floor", "allow_overlap=true",
                     'gift_relations=["spouse", "child"]', "expiry_days=null", "--by", net.admin)
    match = re.fullmatch(r"policy version (\d+) set\n", out)
    assert match, out
    version = int(match.group(1))
    shown = json.loads(net.cli.ok("policy", "show", net.city))
    assert list(shown) == ["version", *KNOBS]
    assert shown["version"] == version
    assert (shown["daily_cap_minutes"], shown["rounding"], shown["allow_overlap"]) == (360, "floor", True)
    assert shown["gift_relations"] == ["spouse", "child"]
    assert shown["expiry_days"] is None
    assert shown["redemption_age"] == KNOBS["redemption_age"].default
    below = json.loads(net.cli.ok("policy", "show", net.community))  # the subtree inherits it
    assert (below["version"], below["daily_cap_minutes"], below["rounding"]) == (version, 360, "floor")


@pytest.mark.parametrize(
    ("assignment", "by", "code", "says"),
    [
        pytest.param("rounding=sideways", "admin", 1, ["rounding: must be one of half_up, floor, ceil"],
                     id="bad-bare-word"),
        pytest.param("allow_overlap=yes", "admin", 1, ["allow_overlap: must be true or false"], id="not-a-boolean"),
        pytest.param("daily_cap_minutes", "admin", 2, ["'daily_cap_minutes' is not KNOB=VALUE"], id="no-equals"),
        pytest.param("daily_cap_minutes=300", "coordinator", 1, ["does not cover region"], id="staff-out-of-scope"),
        pytest.param("daily_cap_minutes=300", "stf_nobody", 1, ["no active staff member 'stf_nobody'"],
                     id="unknown-staff"),
    ],
)
def test_policy_set_refuses_bad_values_and_staff_and_changes_nothing(net: Network, assignment: str, by: str,
                                                                     code: int, says: list[str]) -> None:
    before = net.cli.policy_versions()
    staff = getattr(net, by, by)
    net.cli.fails(["policy", "set", net.city, assignment, "--by", staff], code, *says)
    assert net.cli.policy_versions() == before


def test_policy_set_refuses_a_bad_value_or_an_unknown_knob_and_policy_show_is_unchanged(net: Network) -> None:
    shown = net.cli.ok("policy", "show", net.city)
    net.cli.fails(["policy", "set", net.city, "daily_cap_minutes=-3", "--by", net.admin], 1,
                  "daily_cap_minutes: must be 1–1440")
    net.cli.fails(["policy", "set", net.city, "colour=blue", "rounding=floor", "--by", net.admin], 1,
                  "colour: unknown policy knob; known: " + ", ".join(KNOBS))
    assert net.cli.ok("policy", "show", net.city) == shown


def test_policy_set_where_no_bank_covers_the_region_is_refused(net: Network) -> None:
    before = net.cli.policy_versions()
    net.cli.fails(["policy", "set", net.province, "daily_cap_minutes=300", "--by", net.province_admin], 1,
                  "no time bank covers region 江苏省")
    assert net.cli.policy_versions() == before


def test_policy_set_by_a_coordinator_is_refused(net: Network) -> None:
    before = net.cli.policy_versions()
    net.cli.fails(["policy", "set", net.community, "care_contacts_per_week=5", "--by", net.coordinator], 1,
                  "administrator")
    assert net.cli.policy_versions() == before


def test_policy_show_of_an_unknown_region_is_refused(net: Network) -> None:
    net.cli.fails(["policy", "show", "reg_nowhere"], 1, "no region 'reg_nowhere'")


# -- catalogue ------------------------------------------------------------------------------------


def catalogue_lines(output: str) -> dict[str, str]:
    return {line.split()[0]: line for line in output.splitlines()}


def test_catalogue_list_shows_the_seeded_items(net: Network) -> None:
    lines = catalogue_lines(net.cli.ok("catalogue", "list"))
    with session_on(net.cli.url) as session:  # the national items, seeded by the migrations
        national = set(session.scalars(sa.select(CatalogueItem.code).where(CatalogueItem.region_id.is_(None))))
    assert len(national) >= 19 and national <= set(lines)
    assert lines["MEAL"] == "MEAL       助餐\tMeal help\tdaily_living\t100%"
    assert lines["BATH"] == "BATH       助浴\tBathing\tdaily_living\t120% training"
    assert lines["NURSING"] == "NURSING    专业护理\tClinical nursing\thealth\t100% staff-only training"


def test_catalogue_list_for_a_region_shows_its_policy_weights(net: Network) -> None:
    net.cli.ok("policy", "set", net.community, 'weights={"MEAL": 150}', "--by", net.admin)
    assert catalogue_lines(net.cli.ok("catalogue", "list", "--region", net.community))["MEAL"].endswith("\t150%")
    assert catalogue_lines(net.cli.ok("catalogue", "list", "--region", net.county))["MEAL"].endswith("\t100%")


def test_catalogue_add_makes_an_item_listed_only_in_that_regions_subtree(net: Network) -> None:
    out = net.cli.ok("catalogue", "add", "--region", net.county, "--code", "HZ-TEA", "--name-zh", "茶话会",
                     "--name-en", "Tea party", "--category", "culture", "--weight", "90", "--training")
    assert out == "added HZ-TEA\n"
    out = net.cli.ok("catalogue", "add", "--region", net.county, "--code", "HZ-HAIRCUT", "--name-zh", "上门理发",
                     "--name-en", "Haircut at home", "--category", "home", "--price", "30")
    assert out == "added HZ-HAIRCUT\n"
    below = catalogue_lines(net.cli.ok("catalogue", "list", "--region", net.community))
    assert below["HZ-TEA"] == "HZ-TEA     茶话会\tTea party\tculture\t90% training"
    assert below["HZ-HAIRCUT"] == "HZ-HAIRCUT 上门理发\tHaircut at home\thome\t100% price 30 min"
    above = catalogue_lines(net.cli.ok("catalogue", "list", "--region", net.city))
    assert "HZ-TEA" not in above and "MEAL" in above


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        pytest.param(["--code", "MEAL"], 1, ["catalogue code 'MEAL' is taken"], id="code-taken"),
        pytest.param(["--code", "tea party"], 1, ["code must be 1–32 of A–Z, 0–9, '_' or '-'"], id="bad-code"),
        pytest.param(["--code", "HEAVY", "--weight", "5000"], 1, ["weight_pct must be 0–1000"], id="weight"),
        pytest.param(["--code", "LOST", "--region", "reg_nowhere"], 1, ["no region 'reg_nowhere'"], id="region"),
    ],
)
def test_catalogue_add_refuses_bad_items(net: Network, args: list[str], code: int, says: list[str]) -> None:
    defaults = {"--region": net.county, "--name-zh": "坏", "--name-en": "Bad", "--category": "home"}
    for name, value in defaults.items():
        if name not in args:
            args = [*args, name, value]
    net.cli.fails(["catalogue", "add", *args], code, *says)


def test_catalogue_list_for_an_unknown_region_is_refused(net: Network) -> None:
    net.cli.fails(["catalogue", "list", "--region", "reg_nowhere"], 1, "no region 'reg_nowhere'")


# -- the demo network -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    cli: Deployment
    loaded: str  # what the first `demo load` printed


@pytest.fixture(scope="module")
def town(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Town:
    cli = Deployment(databases.new_url(), tmp_path_factory.mktemp("cli-demo"))
    return Town(cli, cli.ok("demo", "load", "--volunteers", "12", "--elders", "12", "--days", "5"))


def test_demo_load_prints_its_counts_and_a_second_load_changes_nothing(town: Town) -> None:
    loaded, accounts = town.loaded.splitlines()
    assert re.fullmatch(r"demo loaded: [a-z_]+ \d+(, [a-z_]+ \d+)*", loaded)
    assert accounts.startswith("sign in as demo-admin") and accounts.endswith("timebank-demo-2026")
    counts = dict(part.rsplit(" ", 1) for part in loaded.removeprefix("demo loaded: ").strip().split(", "))
    assert (counts["volunteers"], counts["elders"]) == ("12", "12")
    assert int(counts["records"]) > 0
    logs = town.cli.ok("ledger", "list")
    assert sorted(line.split("\t")[0] for line in logs.splitlines()) == list(DEMO_BANKS)
    assert town.cli.ok("demo", "load", "--volunteers", "12", "--elders", "12", "--days", "5") == (
        "demo already loaded; nothing changed\n")
    assert town.cli.ok("ledger", "list") == logs


def test_ledger_verify_after_the_demo_reconciles_every_bank(town: Town) -> None:
    lines = town.cli.ok("ledger", "verify").splitlines()
    banks = [re.fullmatch(r"OK   bank reg_[a-z0-9]+ \(([a-z-]+)\): [1-9]\d* account balances equal the ledger's "
                          r"postings", line) for line in lines if line.startswith("OK   bank")]
    assert sorted(match.group(1) for match in banks if match) == list(DEMO_BANKS)
    assert len(lines) == 2 * len(DEMO_BANKS)


def test_ledger_verify_names_an_account_whose_balance_was_tampered_with(town: Town) -> None:
    with session_on(town.cli.url) as session:
        account_id, bank_id, balance, log_id = session.execute(
            sa.select(Account.id, Account.bank_id, Account.balance, Region.log_id)
            .join(Region, Region.id == Account.bank_id).where(Account.kind == "person").order_by(Account.id).limit(1)
        ).one()
        tamper = sa.text("UPDATE account SET balance = balance + :delta WHERE kind = 'person' AND id = :id")
        session.execute(tamper, {"delta": 7, "id": account_id})
        session.commit()
        try:
            result = town.cli.run("ledger", "verify")
        finally:  # put it back: the other tests share this deployment
            session.execute(tamper, {"delta": -7, "id": account_id})
            session.commit()
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    expected = f"FAIL bank {bank_id} ({log_id}): account {account_id} (person): balance {balance + 7}, ledger says {balance}"
    assert any(line.startswith(expected + " (last posted by leaf ") for line in result.stderr.splitlines()), result.stderr
    assert f"OK   log {log_id}:" in result.stdout  # the log itself is intact; only the kept balance is not
    assert len([line for line in result.stdout.splitlines() if line.startswith("OK   bank")]) == len(DEMO_BANKS) - 1


def test_catalogue_list_for_a_demo_bank_shows_its_weight_override(town: Town) -> None:
    city = town.cli.region_by_code("320700")  # the demo sets BATH to 130% for 连云港市
    assert catalogue_lines(town.cli.ok("catalogue", "list", "--region", city))["BATH"].endswith("\t130% training")


# -- stats ----------------------------------------------------------------------------------------


def test_stats_prints_the_figures_of_a_region_and_the_same_as_json(town: Town) -> None:
    province = town.cli.region_by_code("320000")
    lines = town.cli.ok("stats", province, *EVER).splitlines()
    assert lines[0].startswith(f"江苏省 ({province}), 2000-01-01 – ")
    labels = [line[:23].strip() for line in lines[1:]]
    assert labels == ["volunteers", "elders", "records posted", "credit deposited", "credit redeemed",
                      "outstanding (people)", "banks' liability", "care agreements"]
    figures = json.loads(town.cli.ok("stats", province, *EVER, "--json"))
    assert {"records_posted", "deposited_minutes", "redeemed_minutes", "volunteers_by_kind", "elders_served_by_tag",
            "outstanding_minutes"} <= set(figures)
    assert figures["region_id"] == province
    assert sum(figures["volunteers_by_kind"].values()) == 12
    assert figures["records_posted"] > 0 and figures["deposited_minutes"] > 0
    assert any(line.startswith(f"  records posted        {figures['records_posted']} (") for line in lines)
    assert f"  credit deposited      {figures['deposited_minutes'] / 60:,.1f} h" in lines


def test_stats_refuses_a_period_that_ends_before_it_starts(town: Town) -> None:
    args = ["stats", town.cli.region_by_code("320000"), "--from", "2026-02-01", "--to", "2026-01-31"]
    town.cli.fails(args, 2, "Usage:", "--to is before --from")


def test_stats_of_an_unknown_region_is_refused(town: Town) -> None:
    town.cli.fails(["stats", "reg_nowhere", *EVER], 1, "no region 'reg_nowhere'")


# -- settlement, expiry, personal-data keys -------------------------------------------------------


def test_settlement_report_prints_positions_between_banks_or_says_there_are_none(town: Town) -> None:
    lines = town.cli.ok("settlement", "report", *EVER).splitlines()
    assert lines
    if lines != ["no redemptions between banks"]:
        for line in lines:
            assert re.fullmatch(r"\S+ ↔ \S+: \S+'s members used \d+ min in \S+, \S+'s used \d+ min in \S+; "
                                r"net (even|\S+ owes \S+ \d+ min); still to settle: \d+ / \d+ min", line), line


def test_expire_without_an_expiry_policy_expires_nothing(town: Town) -> None:
    bank = town.cli.region_by_code("320706")  # 海州区, which sets no expiry_days
    assert town.cli.ok("expire", bank, "--by", town.cli.administrator_of("320706")) == "expired 0 min in 0 accounts\n"


def test_expire_is_run_by_an_administrator_of_the_bank(town: Town) -> None:
    bank, other = town.cli.region_by_code("320706"), town.cli.administrator_of("321300")  # 宿迁's administrator
    town.cli.fails(["expire", bank, "--by", other], 1, "does not cover")


def test_expire_refuses_a_region_that_is_not_a_bank(town: Town) -> None:
    town.cli.fails(["expire", town.cli.region_by_code("320706001001"), "--by", town.cli.administrator_of("320706")], 1,
                   "朝阳社区 is not a bank")


def test_keys_personal_data_status_counts_the_values_the_demo_sealed(town: Town) -> None:
    assert (town.cli.root / "instance" / "personal-data.keys").is_file()
    result = town.cli.run("keys", "personal-data-status")
    assert result.returncode == 0, result.stderr
    assert "cannot be opened" not in result.stderr and "Traceback" not in result.stderr
    (line,) = result.stdout.splitlines()
    match = re.fullmatch(r"[0-9a-f]+ \(current\): (\d+) values", line)
    assert match and int(match.group(1)) > 0, line
