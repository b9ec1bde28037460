"""Loading the agency catalog and the rule set from TOML, with errors that name the file and the field."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from config.errors import ConfigurationError
from domain.toml_lines import line_of
from schemas.catalog import RuleSet

if TYPE_CHECKING:
    from config.settings import Settings

PLACEHOLDER = "{simulator_url}"


class RuleDataError(ConfigurationError, ValueError):
    """Rule data is missing or invalid; the message lists every problem as `file:line: path: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid rule data:\n  " + "\n  ".join(problems) if len(problems) > 1 else problems[0])


def load_rule_set(agencies_file: Path, rules_file: Path, simulator_url: str) -> RuleSet:
    """The rule set from `agencies_file` (catalog) and `rules_file` (routing, timeouts, fees, version).

    Raises `RuleDataError` listing every problem as `file:line: field path: what is wrong`.
    """
    problems: list[str] = []
    agencies = read_toml(Path(agencies_file), problems)
    rules = read_toml(Path(rules_file), problems)
    if agencies is None or rules is None:
        raise RuleDataError(problems)
    entries = agencies.data.get("agencies")
    for entry in entries if isinstance(entries, list) else []:
        fill_simulator_url(entry, simulator_url)
    if "catalog" in rules.data:
        problems.append(rules.problem(("catalog",), f"the agency catalog belongs in {show_path(agencies.path)}"))
        rules.data.pop("catalog")
    try:
        rule_set = RuleSet.model_validate({**rules.data, "catalog": agencies.data})
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            in_catalog = bool(loc) and loc[0] == "catalog"
            source = agencies if in_catalog else rules
            problems.append(source.problem(loc[1:] if in_catalog else loc, error["msg"]))
    if problems:
        raise RuleDataError(problems)
    return rule_set


def default_rule_set(settings: Settings) -> RuleSet:
    """The rule set named by `settings`: its agencies and rules files and its simulator URL."""
    return load_rule_set(settings.agencies_file, settings.rules_file, settings.simulator_url)


# ---- shared by the rule-data loaders (this one and domain.incentive_rules) -------------------------


@dataclass
class TomlDocument:
    """A TOML file as read: its path, its text (for line numbers) and its values."""

    path: Path
    text: str
    data: dict[str, Any]

    def problem(self, loc: tuple[Any, ...], message: str) -> str:
        """One problem as `file:line: field path: what is wrong`, the line being where `loc` is written."""
        return problem_line(self.path, loc, message, line_of(self.text, loc))


def read_toml(path: Path, problems: list[str]) -> TomlDocument | None:
    """The TOML document at `path`, or None with the reason appended to `problems` (`file[:line]: what is wrong`)."""
    try:
        text = path.read_bytes().decode("utf-8")
        return TomlDocument(path=path, text=text, data=tomllib.loads(text))
    except FileNotFoundError:
        problems.append(f"{show_path(path)}: file not found")
    except OSError as exc:
        problems.append(f"{show_path(path)}: cannot be read: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problems.append(f"{show_path(path)}:{line}: not valid TOML: not UTF-8 text ({exc.reason})")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{show_path(path)}:{syntax_error_line(exc, text)}: not valid TOML: {exc}")
    return None


def syntax_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int:
    """The line tomllib names in its message (`... (at line 12, column 3)`), or the last one `at end of document`."""
    found = re.search(r"at line (\d+)", str(exc))
    return int(found.group(1)) if found else max(text.count("\n") + (not text.endswith("\n")), 1)


def fill_simulator_url(entry: Any, simulator_url: str) -> None:
    """Replace `{simulator_url}` in the `base_url` of `entry` (a TOML table; anything else is left to validation)."""
    if isinstance(entry, dict) and isinstance(entry.get("base_url"), str):
        entry["base_url"] = entry["base_url"].replace(PLACEHOLDER, simulator_url.rstrip("/"))


def problem_line(source: Path, loc: tuple[Any, ...], message: str, line: int) -> str:
    """One problem as `file:line: field path: what is wrong`."""
    return f"{show_path(source)}:{line}: {field_path(loc)}: {message}"


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
