"""Loading the packaged incentive programmes, and errors that name the file and the field path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from domain_samples import CONFIG

from config.settings import Settings
from domain.catalog import RuleDataError
from domain.incentive_rules import default_incentive_rules, load_incentive_rules
from schemas.incentives import GrantTier, Programme

INCENTIVES = (CONFIG / "incentives.toml").read_text()
WIB = dt.timezone(dt.timedelta(hours=7))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "incentives.toml"
    path.write_text(text)
    return path


def edit_programme(index: int, old: str, new: str, text: str = INCENTIVES) -> str:
    """`text` with `old` replaced by `new` inside the programme at `index` only."""
    head, *blocks = text.split("[[programmes]]")
    assert old in blocks[index]
    blocks[index] = blocks[index].replace(old, new, 1)
    return "[[programmes]]".join([head, *blocks])


def load_broken(tmp_path: Path, text: str) -> tuple[Path, RuleDataError]:
    path = write(tmp_path, text)
    with pytest.raises(RuleDataError) as exc:
        load_incentive_rules(path, "http://sim")
    return path, exc.value


def test_packaged_programmes_have_the_design_figures():
    rules = load_incentive_rules(CONFIG / "incentives.toml", "http://localhost:8090/")
    assert rules.version == "2026.1"
    assert [p.code for p in rules.programmes] == [
        Programme.location_rebate, Programme.shooting_days_grant, Programme.first_feature_fund]
    assert rules.audit.base_url == "http://localhost:8090/agencies/audit"  # no double slash
    assert rules.treasury.base_url == "http://localhost:8090/agencies/treasury"
    assert (rules.audit.webhook_secret_ref, rules.treasury.webhook_secret_ref) == ("audit", "treasury")

    rebate_programme = rules.get("location_rebate")
    rebate = rebate_programme.rebate
    assert rebate is not None
    assert (rebate.rate, rebate.small_budget_rate, rebate.late_rate) == (0.25, 0.20, 0.15)
    assert rebate.small_budget_below_idr == 5_000_000_000
    assert rebate.late_within_days == 30
    assert rebate.cap_idr == 2_500_000_000
    assert rebate.post_production_max_share == 0.5
    assert (rebate.min_shoot_days, rebate.min_planned_spend_idr, rebate.min_indonesian_crew_share) == (
        5, 1_500_000_000, 0.5)
    assert (rebate.first_tranche_share, rebate.claim_due_days, rebate.committee_approvals) == (0.3, 60, 2)
    assert rebate.audit_sla_business_days == 15
    assert rebate_programme.default_capacity_idr == 50_000_000_000

    grant_programme = rules.get("shooting_days_grant")
    assert grant_programme.shooting_days is not None
    assert grant_programme.shooting_days.tiers == [
        GrantTier(min_days=7, amount_idr=200_000_000), GrantTier(min_days=15, amount_idr=300_000_000),
        GrantTier(min_days=20, amount_idr=400_000_000)]
    assert grant_programme.shooting_days.report_due_days == 30
    assert grant_programme.default_capacity_idr == 5_000_000_000

    fund_programme = rules.get("first_feature_fund")
    fund = fund_programme.first_feature
    assert fund is not None
    assert fund.grants_idr == [1_000_000_000, 2_000_000_000]
    assert fund.tranche_shares == [0.4, 0.4, 0.2]
    assert fund.milestones == ["photography_start", "rough_cut", "delivery"]
    [call] = fund.calls
    assert (call.id, call.fiscal_year, call.panel_size) == ("FFF-2027-1", 2027, 2)
    assert call.opens_at == dt.datetime(2026, 11, 1, tzinfo=WIB)
    assert call.deadline == dt.datetime(2027, 3, 31, 23, 59, 59, tzinfo=WIB)
    assert fund_programme.default_capacity_idr == 10_000_000_000

    for programme in rules.programmes:
        assert programme.reservation_expiry_days == 30
        assert programme.clawback_window_months == 12


def test_default_incentive_rules_use_settings(monkeypatch):
    monkeypatch.setenv("JFC_SIMULATOR_URL", "http://sim:9999/")
    rules = default_incentive_rules(Settings())
    assert rules.treasury.base_url == "http://sim:9999/agencies/treasury"
    assert rules.audit.base_url == "http://sim:9999/agencies/audit"


def test_bad_field_names_file_and_path(tmp_path):
    path, error = load_broken(tmp_path, edit_programme(0, "rate = 0.25", "rate = 1.25"))
    assert error.problems == [f"{path}:35: programmes[0].rebate.rate: Input should be less than or equal to 1"]


def test_relative_file_is_shown_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, edit_programme(0, "rate = 0.25", "rate = 1.25"))
    with pytest.raises(RuleDataError) as exc:
        load_incentive_rules(Path("incentives.toml"), "http://sim")
    assert str(exc.value) == "incentives.toml:35: programmes[0].rebate.rate: Input should be less than or equal to 1"


def test_every_problem_is_listed(tmp_path):
    text = edit_programme(1, "min_days = 15", "min_days = 0")
    text = edit_programme(2, "panel_size = 2", "panel_size = 2\npanel = 3", text)
    text = text.replace('webhook_secret_ref = "treasury"', 'webhook_secret_ref = "Treasury!"')
    path, error = load_broken(tmp_path, text)
    assert f"{path}:72: programmes[1].shooting_days.tiers[1].min_days: Input should be greater than or equal to 1" \
        in error.problems
    assert f"{path}:102: programmes[2].first_feature.calls[0].panel: Extra inputs are not permitted" in error.problems
    secret = f"{path}:20: treasury.webhook_secret_ref: String should match pattern"
    assert any(p.startswith(secret) for p in error.problems)
    assert len(error.problems) == 3
    for problem in error.problems:
        assert problem in str(error)


def test_missing_programme(tmp_path):
    head, rebate, grant, fund = INCENTIVES.split("[[programmes]]")
    path, error = load_broken(tmp_path, "[[programmes]]".join([head, rebate, fund]))
    assert error.problems == [f"{path}:1: (top level): Value error, programmes missing: shooting_days_grant"]


def test_programme_given_twice(tmp_path):
    head, rebate, grant, fund = INCENTIVES.split("[[programmes]]")
    text = "[[programmes]]".join([head, rebate, grant, fund, rebate])
    path, error = load_broken(tmp_path, text)
    assert error.problems == [f"{path}:1: (top level): Value error, programmes given more than once: location_rebate"]


def test_section_of_another_programme(tmp_path):
    # the shooting-days programme labelled as the rebate: its [shooting_days] rules do not belong to it
    path, error = load_broken(tmp_path, edit_programme(1, 'code = "shooting_days_grant"', 'code = "location_rebate"'))
    assert error.problems == [f"{path}:54: programmes[1]: Value error, location_rebate needs its [rebate] rules"]


def test_misspelled_section(tmp_path):
    path, error = load_broken(tmp_path, edit_programme(0, "[programmes.rebate]", "[programmes.rebates]"))
    assert error.problems == [f"{path}:34: programmes[0].rebates: Extra inputs are not permitted"]


def test_first_feature_rules_must_add_up(tmp_path):
    path, error = load_broken(tmp_path, edit_programme(2, "[0.4, 0.4, 0.2]", "[0.4, 0.4, 0.1]"))
    assert error.problems == [f"{path}:91: programmes[2].first_feature: Value error, tranche_shares must add up to 1, "
                              "not 0.9"]


def test_call_deadline_needs_an_offset(tmp_path):
    path, error = load_broken(tmp_path, edit_programme(2, "2027-03-31T23:59:59+07:00", "2027-03-31T23:59:59"))
    assert error.problems == [f"{path}:96: programmes[2].first_feature.calls[0]: Value error, opens_at and deadline "
                              "need a time zone offset (e.g. +07:00)"]


def test_toml_syntax_error(tmp_path):
    path, error = load_broken(tmp_path, INCENTIVES.replace("[treasury]", "[treasury"))
    assert len(error.problems) == 1
    assert error.problems[0].startswith(f"{path}:18: not valid TOML: ")


def test_missing_file(tmp_path):
    with pytest.raises(RuleDataError) as exc:
        load_incentive_rules(tmp_path / "nope.toml", "http://sim")
    assert exc.value.problems == [f"{tmp_path / 'nope.toml'}: file not found"]


# ---- the line of each problem (issue 10): `file:line: field path: problem` ---------------------------------


def line_number(text: str, snippet: str, after: str = "") -> int:
    """The 1-based line of the first line holding `snippet` that comes after the first line holding `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and snippet in line) + 1


@pytest.mark.parametrize("text, field, line_text, after, problem", [
    pytest.param(edit_programme(1, "min_days = 15", "min_days = 15.5"), "programmes[1].shooting_days.tiers[1].min_days",
                 "min_days = 15.5", "", "Input should be a valid integer", id="wrong type"),
    pytest.param(edit_programme(2, "panel_size = 2", "panel_size = 2\npanel = 3"),
                 "programmes[2].first_feature.calls[0].panel", "panel = 3", "", "Extra inputs are not permitted",
                 id="unknown field"),
    pytest.param(INCENTIVES.replace('webhook_secret_ref = "treasury"\n', ""), "treasury.webhook_secret_ref",
                 "[treasury]", "", "Field required", id="missing field"),
    pytest.param(edit_programme(2, "[0.4, 0.4, 0.2]", '[0.4, 0.4, "a fifth"]'),
                 "programmes[2].first_feature.tranche_shares.2", "tranche_shares =", 'code = "first_feature_fund"',
                 "Input should be a valid number", id="wrong type in an inline array"),
])
def test_a_broken_programme_file_names_file_line_and_field(tmp_path, text, field, line_text, after, problem):
    path, error = load_broken(tmp_path, text)
    line = line_number(text, line_text, after)
    assert [p for p in error.problems if p.startswith(f"{path}:{line}: {field.replace('.2', '[2]')}: {problem}")]


def test_a_syntax_error_names_file_and_line(tmp_path):
    text = edit_programme(0, "cap_idr = 2_500_000_000", "cap_idr = 2_500_000_000_")
    path, error = load_broken(tmp_path, text)
    line = line_number(text, "cap_idr = 2_500_000_000_")
    assert len(error.problems) == 1
    assert error.problems[0].startswith(f"{path}:{line}: not valid TOML: ")
    assert f"at line {line}," in error.problems[0]


def test_the_worker_start_path_shows_a_broken_programme_file(tmp_path):
    """In production the worker checks the programmes' secrets before it connects: a broken file stops it there."""
    from typer.testing import CliRunner

    from cli.main import app

    broken = write(tmp_path, INCENTIVES.replace("[treasury]", "[treasury"))
    result = CliRunner().invoke(app, ["worker"], env={"JFC_INCENTIVES_FILE": str(broken), "JFC_ENV": "production",
                                                      "JFC_STATE_DIR": str(tmp_path / "state"),
                                                      "TEMPORAL_ADDRESS": "localhost:1"})
    assert isinstance(result.exception, RuleDataError)
    assert str(result.exception).startswith(f"{broken}:{line_number(INCENTIVES, '[treasury]')}: not valid TOML: ")
