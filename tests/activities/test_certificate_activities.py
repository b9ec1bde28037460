"""Incentive certificates: their number, a bilingual one-page PDF (amount, tranches, QR code), same bytes on a retry."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.certificates import CertificateActivities
from domain.ids import incentive_id_from_certificate_number
from domain.incentive_rules import load_incentive_rules
from domain.jakarta import JAKARTA
from schemas.contracts import INVALID_INPUT
from schemas.incentive_contracts import CertificateInput
from schemas.incentives import CertificateKind, Programme, Tranche, TrancheStatus

CONFIG = Path(__file__).resolve().parents[2] / "config"
PROGRAMME = load_incentive_rules(CONFIG / "incentives.toml", "http://sim.test").get(Programme.location_rebate)
INCENTIVE_ID = "INC-ABCDEFGHIJKL"
ISSUED = dt.datetime(2027, 1, 6, 9, 30, tzinfo=JAKARTA)
PAID = dt.datetime(2027, 3, 2, 10, 0, tzinfo=JAKARTA)


def certificate_input(kind: CertificateKind = CertificateKind.interim, **overrides: object) -> CertificateInput:
    if kind == CertificateKind.interim:
        tranches = [Tranche(n=1, amount_idr=375_000_000, milestone="photography_start"),
                    Tranche(n=2, amount_idr=0, milestone="final")]
        amount = 1_250_000_000
    else:
        tranches = [Tranche(n=1, amount_idr=375_000_000, milestone="photography_start", status=TrancheStatus.paid,
                            paid_at=PAID, reference="TRS-0001"),
                    Tranche(n=2, amount_idr=812_345_678, milestone="final", status=TrancheStatus.paid,
                            paid_at=PAID + dt.timedelta(days=200), reference="TRS-0002")]
        amount = 1_187_345_678
    fields: dict[str, object] = {
        "incentive_id": INCENTIVE_ID, "kind": kind, "programme": PROGRAMME,
        "production_title": "Senja di Kota \u2014 Bagian 2", "applicant_company": "PT Contoh Film",
        "permit_id": "PRM-ABCDEFGHIJKL", "fiscal_year": 2027, "amount_idr": amount, "tranches": tranches,
        "issued_at": ISSUED, "public_base_url": "https://permits.jfc.test/",
    }  # fmt: skip
    fields.update(overrides)
    return CertificateInput.model_validate(fields)


def text_of(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


async def issue(tmp_path: Path, input: CertificateInput):
    return await ActivityEnvironment().run(CertificateActivities(tmp_path).issue_certificate, input)


async def test_interim_certificate_is_numbered_and_reads_in_both_languages(tmp_path: Path) -> None:
    result = await issue(tmp_path, certificate_input())

    number = result.certificate.number
    assert result.certificate.kind == CertificateKind.interim
    assert result.certificate.issued_at == ISSUED
    assert result.certificate.verify_url == f"https://permits.jfc.test/v1/verify/{number}"
    assert result.certificate.document_url == \
        f"https://permits.jfc.test/v1/incentives/{INCENTIVE_ID}/certificates/interim"
    path = tmp_path / f"{INCENTIVE_ID}-interim.pdf"
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind

    reader = PdfReader(path)
    assert len(reader.pages) == 1
    assert reader.pages[0].images, "the QR code image is missing"
    text = text_of(path)
    for expected in (
        "Sertifikat Insentif Sementara", "Interim incentive certificate", number,
        "Insentif Rabat Lokasi Jakarta / Jakarta Location Rebate", PROGRAMME.version, "Senja di Kota \u2014 Bagian 2",
        "PT Contoh Film", "PRM-ABCDEFGHIJKL", "2027", "Dicadangkan / Reserved", "Rp 1.250.000.000",
        "1. Rp 375.000.000 - mulai syuting / start of photography - dijadwalkan / scheduled",
        "2. jumlah ditetapkan kemudian / amount set later", "2027-01-06 09:30 WIB", result.certificate.verify_url,
        "dicadangkan untuk produksi ini", "reserved for this production",
    ):  # fmt: skip
        assert expected in text, expected


async def test_final_certificate_shows_what_was_paid_and_when(tmp_path: Path) -> None:
    result = await issue(tmp_path, certificate_input(CertificateKind.final))

    text = text_of(tmp_path / f"{INCENTIVE_ID}-final.pdf")
    assert result.certificate.document_url.endswith(f"/v1/incentives/{INCENTIVE_ID}/certificates/final")
    for expected in (
        "Sertifikat Insentif Akhir", "Final incentive certificate", result.certificate.number, "Dibayar / Paid",
        "Rp 1.187.345.678", "2. Rp 812.345.678",
        "1. Rp 375.000.000 - mulai syuting / start of photography - dibayar / paid 2027-03-02 10:00 WIB (ref. TRS-0001)", "menariknya kembali dalam 12 bulan",
        "claw it back within 12 months",
    ):  # fmt: skip
        assert expected in text, expected
    assert "Sementara" not in text


async def test_retry_gives_the_same_number_and_bytes(tmp_path: Path) -> None:
    input = certificate_input()
    first = await issue(tmp_path, input)
    data = (tmp_path / f"{INCENTIVE_ID}-interim.pdf").read_bytes()
    second = await issue(tmp_path, input)

    assert first == second
    assert (tmp_path / f"{INCENTIVE_ID}-interim.pdf").read_bytes() == data


async def test_interim_and_final_are_two_files_with_two_numbers(tmp_path: Path) -> None:
    interim = await issue(tmp_path, certificate_input())
    final = await issue(tmp_path, certificate_input(CertificateKind.final, issued_at=ISSUED + dt.timedelta(days=300)))

    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{INCENTIVE_ID}-final.pdf", f"{INCENTIVE_ID}-interim.pdf"]
    assert interim.certificate.number != final.certificate.number


@pytest.mark.parametrize(("kind", "letter"), [(CertificateKind.interim, "I"), (CertificateKind.final, "F")])
async def test_the_number_carries_the_jakarta_year_and_leads_back_to_the_incentive(
    tmp_path: Path, kind: CertificateKind, letter: str
) -> None:
    # 20:00 UTC on 31 December is 03:00 on 1 January in Jakarta: the certificate is of the new year.
    issued = dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC)

    number = (await issue(tmp_path, certificate_input(kind, issued_at=issued))).certificate.number

    assert re.fullmatch(rf"JFC-INC-2027-ABCDEFGHIJKL-{letter}[A-Z2-7]", number), number
    assert incentive_id_from_certificate_number(number) == (INCENTIVE_ID, kind.value)
    assert "2027-01-01 03:00 WIB" in text_of(tmp_path / f"{INCENTIVE_ID}-{kind.value}.pdf")


async def test_an_invalid_incentive_id_fails_for_good(tmp_path: Path) -> None:
    with pytest.raises(ApplicationError) as failure:
        await issue(tmp_path, certificate_input(incentive_id="PRM-ABCDEFGHIJKL"))

    assert failure.value.type == INVALID_INPUT and failure.value.non_retryable
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


@pytest.mark.parametrize("title", ["김민준의 여름", "王小明的电影", "Nguyễn Văn Anh và Zoë", "Siti Nurhaliza: Zoë"])
async def test_the_production_title_prints_as_written(tmp_path: Path, title: str) -> None:
    await issue(tmp_path, certificate_input(production_title=title, applicant_company="PT 김민준 Film"))

    path = tmp_path / f"{INCENTIVE_ID}-interim.pdf"
    text = text_of(path)
    assert title in text and "PT 김민준 Film" in text
    assert "?" not in text
    assert len(PdfReader(path).pages) == 1
    assert path.stat().st_size < 100_000
