"""Markdown tables in reports: one cell per value, whatever the value holds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectype.evaluate.report import markdown_table


def test_pipes_in_headers_and_cells_do_not_split_columns():
    df = pd.DataFrame({"method": ["a|b"], "|code err|<=2": [0.5], "n": [np.nan]})
    lines = markdown_table(df, ".2f").splitlines()
    # every line has exactly 3 cells: 4 unescaped pipes
    for line in lines:
        assert line.replace("\\|", "").count("|") == 4, line
    assert lines[0] == "| method | \\|code err\\|<=2 | n |"
    assert lines[2] == "| a\\|b | 0.50 |  |"
