"""The TOML line locator: the line where a pydantic error's field path is written."""

from __future__ import annotations

from domain.toml_lines import key_lines, line_of

TEXT = '''# a comment = not a key
version = "1"

[[agencies]]
code = "parks"
sla_days = 5

[[agencies]]
code = "police"
note = """
[[agencies]]
fake = 1
"""
sla_days = 14

[routing]
"quoted key" = 1
limits.crew = 50

[[programmes]]
code = "a"
[[programmes.calls]]
id = "A-1"
[[programmes]]
code = "b"
[[programmes.calls]]
id = "B-1"
[[programmes.calls]]
id = "B-2"
'''


def test_tables_and_keys_are_found_with_their_lines():
    lines = key_lines(TEXT)
    assert lines[("version",)] == 2
    assert lines[("agencies", 0)] == 4 and lines[("agencies", 0, "sla_days")] == 6
    assert lines[("agencies", 1)] == 8 and lines[("agencies", 1, "sla_days")] == 14  # not fooled by the string
    assert ("agencies", 2) not in lines and ("agencies", 1, "fake") not in lines
    assert lines[("routing", "quoted key")] == 17 and lines[("routing", "limits", "crew")] == 18
    assert lines[("programmes", 1, "calls", 1, "id")] == 29  # nested arrays count within their parent item
    assert lines[("programmes", 0, "calls", 0)] == 22


def test_a_path_not_written_falls_back_to_its_nearest_parent():
    assert line_of(TEXT, ("agencies", 1, "name_en")) == 8  # a missing field: its table's header
    assert line_of(TEXT, ("routing", "limits", "crew", 0)) == 18  # inside a value: its key
    assert line_of(TEXT, ("fees", "version")) == 1  # nothing of it written: the top
    assert line_of(TEXT, ()) == 1
    assert line_of(TEXT, ("routing", "quoted key", "[key]")) == 17
