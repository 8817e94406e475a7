"""The ``sigma9`` command line: ``spec validate``, ``spec hash``, ``schema`` and help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sigma9_dag.cli import EXIT_BAD_INPUT, main
from sigma9_runtime.contracts.json_schema import contract_json_schemas, render_json_schema
from tests.stubs import (
    SHIPPED_FEATURE_SPEC,
    SHIPPED_RUN_CONFIG,
    artifact_manifest_document,
    feature_spec_document,
    shipped_schema_hash,
    write_json,
    write_yaml,
)


def broken_spec(tmp_path: Path) -> Path:
    document = feature_spec_document()
    document["feature_spec"]["features"][0]["window"] = "w16s"
    return write_yaml(tmp_path / "broken.yaml", document)


# --- spec validate --------------------------------------------------------------------------------


def test_spec_validate_refuses_a_universe_query_that_is_not_one_select_without_running_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x.csv"
    run = SHIPPED_RUN_CONFIG.read_text().replace(
        'query: "SELECT DISTINCT ticker FROM daily ORDER BY ticker"', f"query: \"COPY (SELECT 1) TO '{target}'\""
    )
    path = tmp_path / "run.yaml"
    path.write_text(run)
    assert "COPY" in run
    assert main(["spec", "validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.endswith("backtest_run.data.universe.query: universe query must be one read-only SELECT over the "
                        "lake's views, got COPY") and len(err.splitlines()) == 1  # fmt: skip
    assert not target.exists()


def test_spec_validate_accepts_the_shipped_files_and_prints_the_hash(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["spec", "validate", str(SHIPPED_FEATURE_SPEC), str(SHIPPED_RUN_CONFIG)])

    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0] == f"ok  {SHIPPED_FEATURE_SPEC}  FeatureSpec FS_2026-01-16_001  {shipped_schema_hash()}"
    assert lines[1] == f"ok  {SHIPPED_RUN_CONFIG}  BacktestRunConfig RUN_2026-01-16_001"


def test_spec_validate_accepts_a_json_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path / "ART.json", artifact_manifest_document())

    code = main(["spec", "validate", str(path)])

    assert code == 0
    assert capsys.readouterr().out == f"ok  {path}  ArtifactManifest ART_2026-01-16_001\n"


def test_spec_validate_of_a_broken_spec_exits_2_with_one_stderr_line_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = broken_spec(tmp_path)

    code = main(["spec", "validate", str(path)])

    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT == 2
    assert out == ""
    assert err.endswith("\n")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"sigma9: error: {path}:")
    assert "feature_spec.features[0].window" in err


def test_spec_validate_reports_each_file_and_fails_if_any_is_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = broken_spec(tmp_path)

    code = main(["spec", "validate", str(path), str(SHIPPED_FEATURE_SPEC)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out.startswith(f"ok  {SHIPPED_FEATURE_SPEC}  FeatureSpec")
    assert len(err.splitlines()) == 1


def test_spec_validate_of_an_unknown_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "missing.yaml"

    code = main(["spec", "validate", str(path)])

    err = capsys.readouterr().err
    assert code == 2
    assert err == f"sigma9: error: {path}: file not found\n"


def test_spec_validate_without_a_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["spec", "validate"])

    assert info.value.code == 2
    assert "PATH" in capsys.readouterr().err


# --- spec hash ------------------------------------------------------------------------------------


def test_spec_hash_prints_exactly_the_schema_hash(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["spec", "hash", str(SHIPPED_FEATURE_SPEC)])

    assert code == 0
    assert capsys.readouterr().out == shipped_schema_hash() + "\n"


def test_spec_hash_of_the_same_spec_as_json_prints_the_same_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "spec.json", feature_spec_document())

    assert main(["spec", "hash", str(path)]) == 0
    assert capsys.readouterr().out == shipped_schema_hash() + "\n"


def test_spec_hash_of_a_broken_spec_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = broken_spec(tmp_path)

    code = main(["spec", "hash", str(path)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert str(path) in err and "feature_spec.features[0].window" in err


def test_spec_hash_of_a_run_config_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["spec", "hash", str(SHIPPED_RUN_CONFIG)])

    assert code == 2
    assert "expected top-level key 'feature_spec'" in capsys.readouterr().err


def test_spec_hash_of_an_unknown_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["spec", "hash", str(tmp_path / "missing.yaml")])

    assert code == 2
    assert capsys.readouterr().err == f"sigma9: error: {tmp_path / 'missing.yaml'}: file not found\n"


# --- schema ---------------------------------------------------------------------------------------


def test_schema_writes_three_files_into_the_out_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "schemas"

    code = main(["schema", "--out", str(out_dir)])

    assert code == 0
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["artifact_manifest.schema.json", "backtest_run.schema.json", "feature_spec.schema.json"]
    for name in names:
        assert (out_dir / name).read_text(encoding="utf-8") == render_json_schema(contract_json_schemas()[name])
    assert sorted(capsys.readouterr().out.splitlines()) == sorted(str(out_dir / name) for name in names)


# --- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["--help"], "usage: sigma9 "),
        (["spec", "--help"], "usage: sigma9 spec "),
        (["spec", "validate", "--help"], "usage: sigma9 spec validate "),
        (["spec", "hash", "--help"], "usage: sigma9 spec hash "),
        (["schema", "--help"], "usage: sigma9 schema "),
    ],
)
def test_help_exits_0_and_prints_usage(argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)

    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(usage)


def test_version_exits_0_and_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    from sigma9_runtime import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])

    assert info.value.code == 0
    assert capsys.readouterr().out == f"sigma9 {__version__}\n"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])

    assert info.value.code == 2
    assert "usage: sigma9" in capsys.readouterr().err


# --- the installed console script -----------------------------------------------------------------


def test_installed_console_script_exits_2_with_one_stderr_line_on_a_broken_spec(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "sigma9"
    assert script.is_file(), f"console script not installed next to {sys.executable} (pip install -e .)"
    path = broken_spec(tmp_path)

    result = subprocess.run(
        [str(script), "spec", "validate", str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"sigma9: error: {path}:")
    assert "feature_spec.features[0].window" in result.stderr
