"""Real browser: build the partnership paper on the Reports page of the running app (demo data)
and download it (Playwright expect_download): the PDF and the DOCX hold the summary sentence the
core computes for the same area and months, the XLSX opens with its Notes sheet; printing the
page hides the sidebar and the controls but keeps the title."""

from __future__ import annotations

import io

import docx
import openpyxl
import pypdf
import pytest

from app_server import running_app
from test_browser import OUT, browser, offline_page  # noqa: F401  (the module's browser fixture)
from hotspot_app.core import areas, settings
from hotspot_app.io import demo
from hotspot_app.core import summaries

pytestmark = pytest.mark.browser


def download(page, label: str) -> bytes:
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=label).click()
    path = info.value.path()
    return open(path, "rb").read()


def test_build_and_download_the_report_from_the_reports_page(browser, tmp_path):  # noqa: F811
    OUT.mkdir(exist_ok=True)
    d = demo.load()
    ward = d.wards.iloc[[0]]
    name = str(ward["name"].iloc[0])
    last = max(d.incidents["month"])
    expected = summaries.area_summary(d.incidents, ward, last, 12, place=areas.area_label(ward), area_name=name)
    with running_app(log=tmp_path / "streamlit.log") as url:
        page = offline_page(browser)
        page.goto(f"{url}/reports")
        page.get_by_role("button", name="Build report").wait_for(timeout=90_000)
        page.get_by_role("button", name="Build report").click()
        page.get_by_role("button", name="Download PDF").wait_for(timeout=180_000)

        pdf = download(page, "Download PDF")
        assert pdf.startswith(b"%PDF")
        text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
        assert " ".join(expected["text"].split()) in text
        assert settings.DEMO_LABEL in text and "About these figures" in text

        word = docx.Document(io.BytesIO(download(page, "Download DOCX")))
        paragraphs = [p.text for p in word.paragraphs]
        assert expected["text"] in paragraphs
        assert any(t.rows[-1].cells[0].text == "Total" for t in word.tables)

        wb = openpyxl.load_workbook(io.BytesIO(download(page, "Download XLSX")))
        assert wb.sheetnames[-1] == "Notes" and name in wb.sheetnames

        # print styles: no sidebar or controls on paper, the page title stays
        page.emulate_media(media="print")
        assert not page.locator('[data-testid="stSidebar"]').is_visible()
        assert not page.get_by_role("button", name="Build report").is_visible()
        assert page.get_by_role("heading", name="Reports").is_visible()
        page.screenshot(path=str(OUT / "browser-reports-print.png"), full_page=True)
        assert page.dialogs == []
        page.close()
