"""HTML forms ⇄ the API's models: field names are the API's problem paths (`locations[0].days[1].date`), so
every problem the JSON API reports lands next to the field it names."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from api.edge import text_problems
from api.permits import parse_application
from api.problems import ApiProblem
from schemas.application import PermitApplication

_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d{1,3}\])*")
_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d{1,3})\]")
CHECKBOXES = ("drone",)  # per location; absent means false
MAX_FIELDS = 2000


def parse_form(body: bytes) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body as a dict (the last value of a repeated name wins)."""
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    return dict(pairs)


def _parts(name: str) -> list[str | int] | None:
    """`locations[0].days[1].date` → `["locations", 0, "days", 1, "date"]`; None for any other shape."""
    if not _NAME.fullmatch(name):
        return None
    return [word if word else int(index) for word, index in _PART.findall(name)]


def nest(form: dict[str, str], prefixes: tuple[str, ...]) -> dict[str, Any]:
    """The fields under `prefixes` as a nested dict; indexed parts become lists in index order (gaps closed, so
    a removed block renumbers the ones after it). Empty values are left out: the model's default or its
    "field required" applies."""
    root: dict[Any, Any] = {}
    for name, value in form.items():
        if not name.startswith(prefixes) or not value.strip():
            continue
        parts = _parts(name)
        if parts is None:
            continue
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(key, int) for key in node):
        return [_lists(node[key]) for key in sorted(node)]
    return {key: _lists(value) for key, value in node.items()}


def application_values(form: dict[str, str]) -> dict[str, Any]:
    """The submission form as the JSON body the API takes (before validation)."""
    data = nest(form, ("applicant.", "production.", "locations[", "insurance.", "expedite."))
    for location in data.get("locations", []) if isinstance(data.get("locations"), list) else []:
        if isinstance(location, dict):
            for box in CHECKBOXES:
                location[box] = location.get(box) == "true"
    for section in ("applicant", "production", "insurance"):
        data.setdefault(section, {})
    data.setdefault("locations", [])
    expedite = data.setdefault("expedite", {})
    if isinstance(expedite, dict):
        expedite["requested"] = expedite.get("requested") == "true"
    return data


def application_from(values: dict[str, Any]) -> PermitApplication:
    """The form's values validated exactly as the JSON API validates a body; ApiProblem (422) with paths."""
    problems = list(text_problems(values))
    if problems:
        raise ApiProblem(422, "invalid text", "Some fields hold characters that cannot be stored.",
                         kind="invalid-text", problems=problems)
    return parse_application(json.dumps(values).encode())


def blank_application(today: dt.date) -> dict[str, Any]:
    """What a new form starts with: one location with one day, Indonesia as the country."""
    return {
        "applicant": {"country": "ID"},
        "production": {"kind": "feature_film"},
        "locations": [{"kind": "park", "city": "Jakarta Pusat", "road_use": "none", "days": [{
            "date": "", "start": "07:00", "end": "18:00"}]}],
        "insurance": {},
        "expedite": {"requested": False},
    }


def problem_fields(problem: ApiProblem) -> dict[str, str]:
    """The problem's messages by field path (several on one field joined)."""
    fields: dict[str, str] = {}
    for item in problem.document.problems:
        fields[item.path] = f"{fields[item.path]}; {item.message}" if item.path in fields else item.message
    return fields
