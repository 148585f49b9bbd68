"""Months, windows, comparisons, financial/assessment years and coverage (exact values)."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspot_app.core import periods
from hotspot_app.core.errors import InputError


def test_windows_end_at_selected_month_across_year_boundary():
    w = periods.table_windows("2024-02")
    assert w["selected_month"] == ["2024-02"]
    assert w["last_6_months"] == ["2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02"]
    assert w["last_12_months"][0] == "2023-03" and w["last_12_months"][-1] == "2024-02"
    assert len(w["last_12_months"]) == 12


def test_comparisons_same_period_last_year_and_previous_period():
    six = periods.window("2024-02", 6)
    assert periods.comparison_window(six) == ["2022-09", "2022-10", "2022-11", "2022-12", "2023-01", "2023-02"]
    assert periods.comparison_window(six, "previous-period") == [
        "2023-03", "2023-04", "2023-05", "2023-06", "2023-07", "2023-08"]
    assert periods.comparison_window(["2024-01"], "previous-period") == ["2023-12"]
    with pytest.raises(InputError, match="parameter 'compare'"):
        periods.comparison_window(six, "yesterday")


def test_financial_and_assessment_years():
    fy = periods.financial_year(2023)
    assert (fy[0], fy[-1], len(fy)) == ("2023-04", "2024-03", 12)
    oct_sep = periods.financial_year(2022, start_month=10)
    assert (oct_sep[0], oct_sep[-1]) == ("2022-10", "2023-09")
    assert periods.year_label(2022, 10) == "Oct 22 \u2013 Sep 23"
    assert periods.year_label(2023, 4) == "2023/24"
    assert periods.year_label(2024, 1) == "2024"


def test_ranges_and_bad_months():
    assert periods.parse_range("2023-11..2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert periods.parse_range("2024-05") == ["2024-05"]
    assert periods.format_range(["2023-11", "2024-02"]) == "2023-11..2024-02"
    with pytest.raises(InputError, match="parameter 'range'"):
        periods.parse_range("2024-05..2024-01")
    with pytest.raises(InputError, match="parameter 'month'"):
        periods.parse_month("March 2024")


def test_coverage_missing_months_and_null_count():
    df = pd.DataFrame({"month": ["2024-01", "2024-01", "2024-03"]})
    cov = periods.Coverage.of(df)
    assert cov.missing(["2024-01", "2024-02", "2024-03"]) == ["2024-02"]
    assert (cov.first, cov.last) == ("2024-01", "2024-03")
    assert periods.count_in_window(df, ["2024-01", "2024-02"], cov) is None
    assert periods.count_in_window(df, ["2024-01"], cov) == 2
    assert "2024-02" in periods.coverage_warning(["2024-02"])
