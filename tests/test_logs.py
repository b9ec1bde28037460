"""Log lines carry ids, never personal data."""

import json
import logging

import structlog

from config.logs import configure_logging


def test_personal_data_is_masked_and_dates_are_not(capsys):
    configure_logging("json", "INFO")
    log = structlog.get_logger("test")
    log.info(
        "submitted",
        application_id="PRM-ABC",
        email="sari@contoh.id",
        passport_number="M1234567",
        detail="call Sari on +62 812 0000 0000 or 0812-1111-2222, mail sari@contoh.id; shoot 2027-01-12 06:00",
    )
    logging.getLogger("stdlib").warning("from the standard library: sari@contoh.id")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    first, second = lines
    assert first["application_id"] == "PRM-ABC"
    assert first["email"] == first["passport_number"] == "[redacted]"
    assert "0000" not in first["detail"] and "1111" not in first["detail"] and "@" not in first["detail"]
    assert "2027-01-12 06:00" in first["detail"]
    assert first["timestamp"][:4].isdigit()
    assert "@" not in second["event"] and second["level"] == "warning"
