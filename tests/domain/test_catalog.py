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
    assert str(exc.value) == f"{a}:50: agencies[3].sla_days: Input should be greater than or equal to 1"


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
    assert any(p.startswith(f"{a}:12: agencies[0].mode: Input should be 'webhook' or 'poll'") for p in problems)
    assert f"{a}:55: agencies[4].name_id: Field required" in problems
    assert f"{r}:6: routing.police_crew_threshold: Input should be greater than or equal to 1" in problems
    assert any(p.startswith(f"{r}:17: fees.per_location_day_idr.parkk: Input should be") for p in problems)
    assert len(problems) == 4
    for p in problems:
        assert p in message


def test_model_level_problems(tmp_path):
    a, r = write(tmp_path, agencies=edit_agency(1, 'code = "heritage"', 'code = "parks"'),
                 rules=RULES_TEXT.replace("documentary = 0.25", "documentary = 1.5"))
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    message = str(exc.value)
    assert f"{a}:1: (top level): Value error, agency codes appear more than once: parks" in message
    assert f"{r}:13: fees: Value error, reduction for documentary must be between 0 and 1" in message


def test_toml_syntax_error(tmp_path):
    a, r = write(tmp_path, rules=RULES_TEXT.replace("[timeouts]", "[timeouts"))
    with pytest.raises(RuleDataError, match=rf"^{r}:9: not valid TOML: .*at line 9, column 10"):
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
    with pytest.raises(RuleDataError, match=r":38: agencies\[2\]\.sla_dayz: Extra inputs are not permitted"):
        load_rule_set(a, r, "http://sim")


def test_relative_paths_are_shown_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", agencies=edit_agency(3, "sla_days = 5", "sla_days = 0"))
    with pytest.raises(RuleDataError, match=r"^config/agencies.toml:50: agencies\[3\]\.sla_days: Input should be greater"):
        load_rule_set(Path("config/agencies.toml"), Path("config/rules.toml"), "http://sim")


# ---- the line of each problem (issue 10): `file:line: field path: problem` ---------------------------------


def line_number(text: str, snippet: str, after: str = "") -> int:
    """The 1-based line of the first line holding `snippet` that comes after the first line holding `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and snippet in line) + 1


def police_block(old: str, new: str) -> str:
    return edit_agency(4, old, new)


BROKEN_AGENCIES = [  # (what is broken, catalog text, field path, the line's text, after, problem)
    ("wrong type", police_block("sla_days = 14", 'sla_days = "two weeks"'), "agencies[4].sla_days",
     'sla_days = "two weeks"', "", "Input should be a valid integer"),
    ("missing field", police_block('name_en = "Jakarta Metropolitan Police"\n', ""), "agencies[4].name_en",
     "[[agencies]]", 'code = "police"', "Field required"),  # the police table's header: 5th [[agencies]]
    ("unknown field", police_block("sla_days = 14", "sla_days = 14\nsla_dayz = 3"), "agencies[4].sla_dayz",
     "sla_dayz = 3", "", "Extra inputs are not permitted"),
]
BROKEN_RULES = [
    ("wrong type", RULES_TEXT.replace("payment_business_days = 5", "payment_business_days = [5]"),
     "timeouts.payment_business_days", "payment_business_days = [5]", "", "Input should be a valid integer"),
    ("missing field", RULES_TEXT.replace('[fees]\nversion = "2026.1"\n', "[fees]\n"), "fees.version", "[fees]", "",
     "Field required"),
    ("unknown field", RULES_TEXT.replace("park = 1_500_000", "park = 1_500_000\nbeach = 1"),
     "fees.per_location_day_idr.beach", "beach = 1", "", "Input should be"),
]


def header_line(text: str, n: int) -> int:
    """The line of the `n`th (0-based) `[[agencies]]` header."""
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.strip() == "[[agencies]]"][n]


@pytest.mark.parametrize("what, text, field, line_text, after, problem", BROKEN_AGENCIES,
                         ids=[case[0] for case in BROKEN_AGENCIES])
def test_a_broken_catalog_names_file_line_and_field(tmp_path, what, text, field, line_text, after, problem):
    a, r = write(tmp_path, agencies=text)
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    line = header_line(text, 4) if what == "missing field" else line_number(text, line_text, after)
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].startswith(f"{a}:{line}: {field}: {problem}")


@pytest.mark.parametrize("what, text, field, line_text, after, problem", BROKEN_RULES,
                         ids=[case[0] for case in BROKEN_RULES])
def test_a_broken_rule_set_names_file_line_and_field(tmp_path, what, text, field, line_text, after, problem):
    a, r = write(tmp_path, rules=text)
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].startswith(f"{r}:{line_number(text, line_text, after)}: {field}: {problem}")


def test_a_catalog_syntax_error_names_file_and_line(tmp_path):
    text = police_block("sla_days = 14", "sla_days = = 14")
    a, r = write(tmp_path, agencies=text)
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    line = line_number(text, "sla_days = = 14")
    assert exc.value.problems == [f"{a}:{line}: not valid TOML: Invalid value (at line {line}, column 12)"]


def test_a_syntax_error_at_the_end_names_the_last_line(tmp_path):
    a, r = write(tmp_path, rules=RULES_TEXT + 'documentary_note = "unterminated\n')
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    assert exc.value.problems[0].startswith(f"{r}:{len((RULES_TEXT + 'x').splitlines())}: not valid TOML: ")


def test_the_catalog_key_in_the_rules_file_is_located(tmp_path):
    a, r = write(tmp_path, rules=RULES_TEXT + '\n[catalog]\nversion = "x"\n')
    with pytest.raises(RuleDataError) as exc:
        load_rule_set(a, r, "http://sim")
    assert exc.value.problems == [f"{r}:{line_number(RULES_TEXT + chr(10) + '[catalog]', '[catalog]')}: catalog: "
                                  f"the agency catalog belongs in {a}"]


@pytest.mark.parametrize("variable, name, text, line_text, field", [
    ("JFC_AGENCIES_FILE", "agencies.toml", BROKEN_AGENCIES[0][1], 'sla_days = "two weeks"', "agencies[4].sla_days"),
    ("JFC_RULES_FILE", "rules.toml", BROKEN_RULES[0][1], "payment_business_days = [5]",
     "timeouts.payment_business_days"),
])
def test_the_worker_refuses_to_start_naming_file_line_and_field(tmp_path, variable, name, text, line_text, field):
    """`jfc worker` (and `jfc up`, which starts it) loads the rule set before it connects to anything."""
    from typer.testing import CliRunner

    from cli.main import app

    broken = tmp_path / name
    broken.write_text(text)
    result = CliRunner().invoke(app, ["worker"], env={variable: str(broken), "JFC_STATE_DIR": str(tmp_path / "state"),
                                                      "TEMPORAL_ADDRESS": "localhost:1"})
    assert result.exit_code != 0
    assert isinstance(result.exception, RuleDataError)
    assert str(result.exception).startswith(f"{broken}:{line_number(text, line_text)}: {field}: ")
