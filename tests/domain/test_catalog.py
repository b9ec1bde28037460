"""Loading the packaged rule data, and errors that name the file and the field path."""

from __future__ import annotations

from pathlib import Path

import pytest
from domain_samples import CONFIG

from config.settings import Settings
from domain.catalog import RuleDataError, default_rule_set, load_rule_set

AGENCIES = (CONFIG / "agencies.toml").read_text()
RULES_TEXT = (CONFIG / "rules.toml").read_text()


def write(tmp_path: Path, agencies: str = AGENCIES, rules: str = RULES_TEXT) -> tuple[Path, Path]:
    a, r = tmp_path / "agencies.toml", tmp_path / "rules.toml"
    a.write_text(agencies)
    r.write_text(rules)
    return a, r


def edit_agency(index: int, old: str, new: str) -> str:
    """AGENCIES with `old` replaced by `new` inside the agency at `index` only."""
    head, *blocks = AGENCIES.split("[[agencies]]")
    assert old in blocks[index]
    blocks[index] = blocks[index].replace(old, new, 1)
    return "[[agencies]]".join([head, *blocks])


def test_packaged_rule_set():
    rules = load_rule_set(CONFIG / "agencies.toml", CONFIG / "rules.toml", "http://localhost:8090/")
    assert rules.version == "2026.1"
    assert [a.code.value for a in rules.catalog.agencies] == [
        "parks", "heritage", "district", "transport", "police", "fire", "aviation", "transit", "culture_ministry"]
    assert {a.code.value: a.sla_days for a in rules.catalog.agencies} == {
        "parks": 5, "heritage": 7, "district": 3, "transport": 5, "police": 14, "fire": 5, "aviation": 14,
        "transit": 5, "culture_ministry": 7}
    assert rules.catalog.get("parks").base_url == "http://localhost:8090/agencies/parks"  # no double slash
    assert rules.catalog.get("police").grace_days == 5
    assert rules.routing.police_crew_threshold == 50
    assert rules.routing.transport_vehicle_threshold == 5
    assert rules.timeouts.payment_business_days == 5
    assert rules.fees.per_location_day_idr["park"] == 1_500_000
    assert rules.fees.reductions["student"] == 0.75


def test_default_rule_set_uses_settings(monkeypatch):
    monkeypatch.setenv("JFC_SIMULATOR_URL", "http://sim:9999/")
    rules = default_rule_set(Settings())
    assert rules.catalog.get("fire").base_url == "http://sim:9999/agencies/fire"


def test_bad_field_names_file_and_path(tmp_path):
    a, r = write(tmp_path, agencies=edit_agency(3, "sla_days = 5", "sla_days = 0"))
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    assert str(exc.value) == f"{a}: agencies[3].sla_days: Input should be greater than or equal to 1"


def test_every_problem_in_both_files_is_listed(tmp_path):
    agencies = edit_agency(0, 'mode = "webhook"', 'mode = "fax"')
    agencies = agencies.replace('code = "police"\nname_id = "Polda Metro Jaya"\n', 'code = "police"\n')
    rules = RULES_TEXT.replace("police_crew_threshold = 50", "police_crew_threshold = -1")
    rules = rules.replace("park = 1_500_000", "parkk = 1_500_000")
    a, r = write(tmp_path, agencies, rules)
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    problems = exc.value.problems
    message = str(exc.value)
    assert any(p.startswith(f"{a}: agencies[0].mode: Input should be 'webhook' or 'poll'") for p in problems)
    assert f"{a}: agencies[4].name_id: Field required" in problems
    assert f"{r}: routing.police_crew_threshold: Input should be greater than or equal to 1" in problems
    assert any(p.startswith(f"{r}: fees.per_location_day_idr.parkk: Input should be") for p in problems)
    assert len(problems) == 4
    for p in problems:
        assert p in message


def test_model_level_problems(tmp_path):
    a, r = write(tmp_path, agencies=edit_agency(1, 'code = "heritage"', 'code = "parks"'),
                 rules=RULES_TEXT.replace("documentary = 0.25", "documentary = 1.5"))
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    message = str(exc.value)
    assert f"{a}: (top level): Value error, agency codes appear more than once: parks" in message
    assert f"{r}: fees: Value error, reduction for documentary must be between 0 and 1" in message


def test_toml_syntax_error(tmp_path):
    a, r = write(tmp_path, rules=RULES_TEXT.replace("[timeouts]", "[timeouts"))
    with pytest.raises(RuleDataError, match=rf"^{r}: not valid TOML: .*line \d+"):
        load_rule_set(a, r, "http://sim")


def test_missing_files_are_both_reported(tmp_path):
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(tmp_path / "nope.toml", tmp_path / "nada.toml", "http://sim")
    assert exc.value.problems == [
        f"{tmp_path / 'nope.toml'}: file not found",
        f"{tmp_path / 'nada.toml'}: file not found",
    ]


def test_unknown_keys_are_errors(tmp_path):
    a, r = write(tmp_path, agencies=edit_agency(2, "sla_days = 3", "sla_days = 3\nsla_dayz = 4"))
    with pytest.raises(RuleDataError, match=r"agencies\[2\]\.sla_dayz: Extra inputs are not permitted"):
        load_rule_set(a, r, "http://sim")


def test_relative_paths_are_shown_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", agencies=edit_agency(3, "sla_days = 5", "sla_days = 0"))
    with pytest.raises(RuleDataError, match=r"^config/agencies.toml: agencies\[3\]\.sla_days: Input should be greater"):
        load_rule_set(Path("config/agencies.toml"), Path("config/rules.toml"), "http://sim")
