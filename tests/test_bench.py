"""The benchmark stays runnable, and refuses a contender that drops headers."""

import importlib.util
import re

import pytest
from flask import Flask

from testkit import TEMPLATE
from testkit.commands import clean_env, python

BENCH = TEMPLATE / "benchmarks" / "bench.py"
BENCH_REPORTS = TEMPLATE / "benchmarks" / "bench_reports.py"


def test_benchmark_runs_and_prints_its_figures(tmp_path):
    """The smallest run that goes through every step: each figure from a few calls."""
    result = python(
        BENCH,
        *("--rounds", "2", "--batch", "5", "--bakes", "1", "--hook-calls", "20"),
        "--no-e2e",
        cwd=tmp_path,
        timeout=300,
    )
    assert "Every contender sends the headers it claims" in result.stdout
    for row in (
        "bare Flask (no headers)",
        "baked service, hook removed",
        "flask-talisman 1.1.0",
        "floor: raw WSGI tuples",
        "baked service, cross-origin check removed",
        "POST, Origin only (pre-2023 browser)",
    ):
        assert row in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("Summary: bake ")


def test_a_contender_that_drops_headers_is_refused():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    impostor = Flask("impostor")
    for route in bench.ROUTES:
        impostor.add_url_rule(route, route, lambda: "fast, and no headers")
    with pytest.raises(
        SystemExit, match="baked service sends X-Frame-Options 0 times on /"
    ):
        bench.check_claims({"baked service": impostor})


@pytest.mark.xdist_group("gunicorn")
def test_the_report_flood_benchmark_runs_and_accounts_for_every_violation(tmp_path):
    result = python(
        BENCH_REPORTS,
        *("--rounds", "1", "--seconds", "1", "--clients", "2", "--batch", "10"),
        cwd=tmp_path,
        timeout=300,
    )
    [receiver] = [
        line for line in result.stdout.splitlines() if line.startswith("Receiver: ")
    ]
    logged, accepted = re.search(
        r"add up to ([\d,]+) of ([\d,]+) accepted", receiver
    ).groups()
    assert logged == accepted != "0"
    assert "during the flood" in result.stdout


def test_the_fleet_benchmark_runs_and_prints_its_figures(tmp_path):
    """One service, once: the report's table and both fleet update lines. The
    service's property tests explore briefly, as in tests/test_fleet_update.py."""
    result = python(
        TEMPLATE / "benchmarks" / "fleet_bench.py",
        *("--counts", "1", "--repeat", "1", "--update-count", "1"),
        *("--live-counts", "2"),
        cwd=tmp_path,
        timeout=600,
        env=clean_env(HYPOTHESIS_PROFILE="quick"),
    )
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"\s+1\s+[\d.]+\s+[\d.]+\s+1\.00", lines[1]), lines
    assert "fleet update over 1 services (1 behind)" in lines
    for label in ("without --test", "with --test"):
        assert any(
            re.fullmatch(rf"\s*{label}\s+[\d.]+\s+[\d.]+", line) for line in lines
        ), label
    # The live view's figures: 2 URLs fetched and judged (each judged ok, or it exits).
    assert re.fullmatch(r"\s+2(\s+[\d.]+){4}\s+1\.00", lines[-1]), lines
