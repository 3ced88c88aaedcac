"""`fleet report --shard K/N` on several runners, then `fleet merge`: the one report.

On the fleet of tests/test_fleet_report.py, whose whole report (the `full`
fixture) is what the shards merged must give, byte for byte.
"""

import json
import subprocess
import sys
from dataclasses import make_dataclass

import pytest

from fleet import join, shard
from fleet.fleet_file import Fleet, FleetFileError, Service, load
from fleet.report import Row
from testkit.commands import clean_env, run

pytestmark = pytest.mark.xdist_group("fleet")
SHARDS = 2  # the test fleet's nine services split 3 and 6


def fleet_command(*args, cwd):
    return run(sys.executable, "-m", "fleet", *args, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def sharded(fleet, tmp_path_factory):
    """Each shard's report, run side by side as CI's matrix jobs would, then merged."""
    out = tmp_path_factory.mktemp("shards")

    def report(k: int) -> list[str]:
        part = str(out / f"part{k}.json")
        return [sys.executable, "-m", "fleet", "report", str(fleet.file),
                "--shard", f"{k}/{SHARDS}", "--json", part]  # fmt: skip

    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    shards = range(1, SHARDS + 1)
    runs = [
        subprocess.Popen(report(k), cwd=out, env=clean_env(), **pipes) for k in shards
    ]
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode in (0, 1, 2), stderr
        assert stderr == ""
    parts = [out / f"part{k}.json" for k in range(1, SHARDS + 1)]
    merged = fleet_command(
        "merge", fleet.file, *parts,
        "--json", out / "fleet.json", "--html", out / "fleet.html", cwd=out,
    )  # fmt: skip
    return out, parts, merged


def test_merged_shards_are_the_whole_report_table_json_page_and_exit_status(
    full, sharded
):
    whole, rows, page = full
    out, _, merged = sharded
    assert merged.stderr == ""
    assert merged.stdout == whole.stdout
    assert (out / "fleet.json").read_text() == json.dumps(rows, indent=2) + "\n"
    assert (out / "fleet.html").read_text() == page.read_text()
    assert merged.returncode == whole.returncode == 2


def test_each_service_is_in_exactly_one_shard_with_its_row_as_the_whole_has_it(
    full, sharded
):
    _, rows, _ = full
    _, parts, _ = sharded
    whole = {row["name"]: row for row in rows}
    seen = []
    for part in parts:
        part_rows = json.loads(part.read_text())
        assert part_rows, f"{part.name} is empty: pick SHARDS so that none is"
        for row in part_rows:
            assert row == whole[row["name"]]
        seen += [row["name"] for row in part_rows]
    assert sorted(seen) == sorted(whole)


def test_a_shard_keeps_its_services_when_others_are_added_or_reordered():
    names = [f"service-{i}" for i in range(40)]

    def shards(listed: list[str], count: int = 4) -> dict[str, int]:
        fleet = Fleet("t", "v1.0.0", [Service(name, name) for name in listed])
        return {
            s.name: k
            for k in range(1, count + 1)
            for s in shard.select(fleet, k, count).services
        }

    before = shards(names)
    after = shards(["new-at-the-top", *reversed(names), "new-at-the-end"])
    assert {name: after[name] for name in names} == before
    assert sorted(set(before.values())) == [1, 2, 3, 4]  # every shard has some
    assert shards(names, 1) == dict.fromkeys(names, 1)


def test_the_split_is_the_same_in_every_process(tmp_path):
    """Python's own hash() of a string changes with each process (its seed): the
    split must not, or two runners would disagree on where a service is."""
    code = "from fleet.shard import shard_of; print([shard_of(f's{i}', 7) for i in range(50)])"
    seen = set()
    for seed in ("1", "2"):
        env = clean_env(PYTHONHASHSEED=seed)
        seen.add(run(sys.executable, "-c", code, cwd=tmp_path, env=env).stdout)
    assert len(seen) == 1
    assert seen == {f"{[shard.shard_of(f's{i}', 7) for i in range(50)]}\n"}


@pytest.mark.parametrize(
    "given", ["0/4", "5/4", "1/0", "2", "a/b", "1/4/2", "-1/4", ""]
)
def test_a_shard_is_k_of_n_from_1_to_n(given):
    with pytest.raises(FleetFileError) as refused:
        shard.parse(given)
    assert str(refused.value) == (
        f"--shard {given} is not a shard: give K/N with 1 <= K <= N, e.g. --shard 1/4"
    )
    assert shard.parse("4/4") == (4, 4)


@pytest.mark.parametrize(("command", "given"), [("report", "5/4"), ("update", "x")])
def test_a_bad_shard_gets_one_line_and_status_2(tmp_path, command, given):
    result = fleet_command(
        command, tmp_path / "FLEET.toml", "--shard", given, cwd=tmp_path
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: --shard {given} is not a shard: give K/N with 1 <= K <= N, e.g. --shard 1/4\n"
    )


def test_update_takes_its_shard_only(fleet, tmp_path):
    """Split 2 ways, no-service is alone in shard 1 (current and plain are in 2)."""
    fleet_file = fleet.fleet_file(
        ["current", "plain", "no-service"], tmp_path / "F.toml"
    )
    assert [shard.shard_of(name, 2) for name in ("current", "plain", "no-service")] == [
        2,
        2,
        1,
    ]
    result = fleet_command(
        "update", fleet_file, "--shard", "1/2", "--out", tmp_path / "out",
        "--json", tmp_path / "update.json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2  # its one service is not a baked service
    assert [line.split()[0] for line in result.stdout.splitlines()[1:2]] == [
        "no-service"
    ]
    rows = json.loads((tmp_path / "update.json").read_text())
    assert [(row["name"], row["branch"]) for row in rows] == [("no-service", None)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["no-service"]


def three_parts(parts) -> list[list[dict]]:
    """The two shards' rows as three parts, the second shard's last row alone."""
    first, second = (json.loads(part.read_text()) for part in parts)
    return [first, second[:-1], second[-1:]]


def edited_parts(tmp_path, parts, edit) -> list:
    """Those three parts, rewritten by ``edit(list of row lists)``, in ``tmp_path``."""
    rows = edit(three_parts(parts))
    written = []
    for number, part_rows in enumerate(rows, 1):
        written.append(tmp_path / f"part{number}.json")
        written[-1].write_text(json.dumps(part_rows))
    return written


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda rows: [rows[0], rows[1][:-1], rows[2]],
            "no part has service '{last}': give every shard's JSON "
            "(a shard that failed has none; run it again)",
        ),
        (
            lambda rows: [rows[0], rows[1], rows[2], rows[2]],
            "service '{edited}' is in {tmp}/part3.json and again in {tmp}/part4.json: "
            "give each shard's JSON once, all from one --shard K/N split",
        ),
        (
            lambda rows: [
                rows[0],
                rows[1],
                rows[2] + [rows[2][0] | {"name": "elsewhere"}],
            ],
            "{tmp}/part3.json: service 'elsewhere' is not in the fleet file: merge "
            "with the fleet file the shards were run with",
        ),
        (
            lambda rows: [rows[0], rows[1], [rows[2][0] | {"colour": "red"}]],
            "{tmp}/part3.json: the row of service '{edited}' does not match this fleet "
            "tool's rows (unknown 'colour'): merge with the version that wrote the parts",
        ),
        (
            lambda rows: [rows[0], rows[1], [rows[2][0] | {"latest": "v9.9.9"}]],
            "the parts saw different newest releases ({newest}, v9.9.9): a release "
            "came between the shards' runs; run them again",
        ),
        (
            lambda rows: [rows[0], rows[1], [rows[2][0] | {"behind": "one"}]],
            "the parts are not a fleet report's JSON: a row has a value of the wrong "
            "kind (a text where --json writes a number, say)",
        ),
        (
            lambda rows: [rows[0], rows[1], {"rows": rows[2]}],
            "{tmp}/part3.json: not a fleet report's JSON (a list of rows, as --json writes)",
        ),
    ],
    ids=[
        "missing",
        "twice",
        "not-in-the-fleet",
        "unknown-field",
        "two-releases",
        "wrong-kind",
        "not-rows",
    ],
)
def test_parts_that_do_not_add_up_are_refused_saying_why(
    fleet, sharded, tmp_path, edit, message
):
    _, parts, _ = sharded
    written = edited_parts(tmp_path, parts, edit)
    with pytest.raises(FleetFileError) as refused:
        join.join(load(fleet.file), written)
    _, second, (alone,) = three_parts(parts)
    last, edited = second[-1]["name"], alone["name"]
    names = {
        "tmp": tmp_path,
        "last": last,
        "edited": edited,
        "newest": fleet.releases.tags[-1],
    }
    assert str(refused.value) == message.format(**names)


def test_a_part_missing_or_not_json_gets_one_line_and_status_2(
    fleet, sharded, tmp_path
):
    _, parts, _ = sharded
    part = tmp_path / "part.json"
    part.write_text("<html>")
    result = fleet_command("merge", fleet.file, part, *parts, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"error: {part} is not JSON: ")
    assert len(result.stderr.splitlines()) == 1
    with pytest.raises(FleetFileError, match=f"^{tmp_path}/absent.json: no such file$"):
        join.join(load(fleet.file), [*parts, tmp_path / "absent.json"])


def test_a_field_the_rows_gain_passes_through_the_merge(
    fleet, full, tmp_path, monkeypatch
):
    """Rows are rebuilt from whatever fields Row has: a report that gains a field
    (a live view's, say) merges with it unchanged, with no change to the merge."""
    gained = make_dataclass("GainedRow", [("on_call", dict | None, None)], bases=(Row,))
    monkeypatch.setattr(join, "Row", gained)
    _, rows, _ = full
    with_it = [
        row | {"on_call": {"team": row["name"], "hours": [9, 17]}} for row in rows
    ]
    part = tmp_path / "part.json"
    part.write_text(json.dumps(with_it[::-1]))
    report = join.join(load(fleet.file), [part])
    assert [row.as_json() for row in report.rows] == with_it
