"""Loading the agency catalog and the rule set from TOML, with errors that name the file and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from schemas.catalog import RuleSet

if TYPE_CHECKING:
    from config.settings import Settings

PLACEHOLDER = "{simulator_url}"


class RuleDataError(ValueError):
    """Rule data is missing or invalid; the message lists every problem as `file: path: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid rule data:\n  " + "\n  ".join(problems) if len(problems) > 1 else problems[0])


def load_rule_set(agencies_file: Path, rules_file: Path, simulator_url: str) -> RuleSet:
    """The rule set from `agencies_file` (catalog) and `rules_file` (routing, timeouts, fees, version)."""
    problems: list[str] = []
    agencies = read_toml(Path(agencies_file), problems)
    rules = read_toml(Path(rules_file), problems)
    if agencies is None or rules is None:
        raise RuleDataError(problems)
    entries = agencies.get("agencies")
    for entry in entries if isinstance(entries, list) else []:
        fill_simulator_url(entry, simulator_url)
    if "catalog" in rules:
        problems.append(f"{show_path(rules_file)}: catalog: the agency catalog belongs in {show_path(agencies_file)}")
        rules.pop("catalog")
    try:
        rule_set = RuleSet.model_validate({**rules, "catalog": agencies})
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            in_catalog = bool(loc) and loc[0] == "catalog"
            source = agencies_file if in_catalog else rules_file
            problems.append(problem_line(source, loc[1:] if in_catalog else loc, error["msg"]))
    if problems:
        raise RuleDataError(problems)
    return rule_set


def default_rule_set(settings: Settings) -> RuleSet:
    """The rule set named by `settings`: its agencies and rules files and its simulator URL."""
    return load_rule_set(settings.agencies_file, settings.rules_file, settings.simulator_url)


# ---- shared by the rule-data loaders (this one and domain.incentive_rules) -------------------------


def read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    """The TOML document at `path`, or None with the reason appended to `problems` as `file: what is wrong`."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        problems.append(f"{show_path(path)}: file not found")
    except OSError as exc:
        problems.append(f"{show_path(path)}: cannot be read: {exc.strerror or exc}")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{show_path(path)}: not valid TOML: {exc}")
    return None


def fill_simulator_url(entry: Any, simulator_url: str) -> None:
    """Replace `{simulator_url}` in the `base_url` of `entry` (a TOML table; anything else is left to validation)."""
    if isinstance(entry, dict) and isinstance(entry.get("base_url"), str):
        entry["base_url"] = entry["base_url"].replace(PLACEHOLDER, simulator_url.rstrip("/"))


def problem_line(source: Path, loc: tuple[Any, ...], message: str) -> str:
    """One problem as `file: field path: what is wrong`."""
    return f"{show_path(source)}: {field_path(loc)}: {message}"


def field_path(loc: tuple[Any, ...]) -> str:
    """`('agencies', 3, 'sla_days')` → `agencies[3].sla_days`; the whole document is `(top level)`."""
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def show_path(path: Path) -> str:
    """The path relative to the working directory when it lies inside it, else as given."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
