"""`jfc demo --print-application`: the README's `application.json`, a park shoot that passes intake today."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from cli.demo import first_demo_day
from cli.main import app
from config.settings import Settings
from domain.catalog import default_rule_set
from domain.planning import plan_application
from schemas.application import PermitApplication


def test_the_printed_application_is_valid_and_routed_to_the_parks_alone():
    result = CliRunner().invoke(app, ["demo", "--print-application"])

    assert result.exit_code == 0, result.output
    application = PermitApplication.model_validate_json(result.output)
    assert application.first_shoot_date == first_demo_day() > dt.date.today()
    plan = plan_application(application, default_rule_set(Settings()), dt.datetime.now(dt.UTC))
    assert plan.lead_time_ok
    assert [r.agency.code.value for r in plan.agencies] == ["parks"]
