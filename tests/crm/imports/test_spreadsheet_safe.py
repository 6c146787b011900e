import pytest

from crm.spreadsheets import spreadsheet_safe


@pytest.mark.parametrize("text", ["=1+1", "+86", "-5", "@SUM(A1)", "\tx", "\rx", "  =1+1"])
def test_cells_a_spreadsheet_would_run_are_quoted(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["王小明", "1234", "", "a=b"])
def test_other_cells_are_left_alone(text):
    assert spreadsheet_safe(text) == text
