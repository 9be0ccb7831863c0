"""`spectype models --filter`: a table of names with parameter counts."""

from __future__ import annotations

from typer.testing import CliRunner

from spectype.cli import app
from spectype.models import count_parameters, create_model


def test_models_lists_filtered_names_with_parameter_counts():
    result = CliRunner().invoke(app, ["models", "--filter", "rac*"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "racnet" in result.output
    assert "cnn1d_none" not in result.output
    assert f"{count_parameters(create_model('racnet')):,}" in result.output


def test_models_filter_without_match_fails_helpfully():
    result = CliRunner().invoke(app, ["models", "--filter", "nothing*"])
    assert result.exit_code == 1
    assert "no registered model matches" in result.output
