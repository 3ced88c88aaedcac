"""Answers: refused with one line, warned about, or baked faithfully however hostile."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from testkit import TEMPLATE
from testkit.bake import bake_pythonpath, baked_lint, baked_pytest
from testkit.commands import clean_env, python, run

HOOK = TEMPLATE / "hooks" / "pre_gen_project.py"


def cookiecutter_cli(*args, cwd: Path, **kwargs):
    return python("-m", "cookiecutter", *args, cwd=cwd, check=False, **kwargs)


def first_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.strip())


# id: (answers given on the command line, the prompt the message must name)
BAD_ANSWERS = {
    "slug-uppercase": (["project_slug=My-Service"], "project_slug"),
    "slug-underscore": (["project_slug=my_service"], "project_slug"),
    "slug-leading-digit": (["project_slug=9lives"], "project_slug"),
    "slug-trailing-hyphen": (["project_slug=service-"], "project_slug"),
    "slug-empty-from-name": (["project_name=!!!"], "project_slug"),
    "package-keyword": (["package_name=class"], "package_name"),
    "package-hyphen": (["package_name=my-service"], "package_name"),
    "package-shadows-email": (["package_name=email"], "package_name"),
    "package-shadows-secrets": (["package_name=secrets"], "package_name"),
    "package-shadows-test": (["package_name=test"], "package_name"),
    "package-shadows-flask": (["package_name=flask"], "package_name"),
    "package-shadows-werkzeug": (["package_name=werkzeug"], "package_name"),
    "email-no-at": (["author_email=platform.example.com"], "author_email"),
    "email-space": (["author_email=plat form@example.com"], "author_email"),
    "max-age-words": (["hsts_max_age=a year"], "hsts_max_age"),
    "max-age-negative": (["hsts_max_age=-1"], "hsts_max_age"),
    "max-age-fraction": (["hsts_max_age=1.5"], "hsts_max_age"),
    "preload-without-hsts": (["hsts=no", "hsts_preload=yes"], "hsts_preload"),
    "preload-without-subdomains": (
        ["hsts_include_subdomains=no", "hsts_preload=yes"],
        "hsts_preload",
    ),
    "preload-short-max-age": (
        ["hsts_max_age=15552000", "hsts_preload=yes"],
        "hsts_preload",
    ),
}


@pytest.mark.parametrize(("answers", "prompt"), BAD_ANSWERS.values(), ids=BAD_ANSWERS)
def test_bad_answer_is_refused_in_one_line_leaving_nothing(tmp_path, answers, prompt):
    out = tmp_path / "out"
    out.mkdir()
    result = cookiecutter_cli("--no-input", TEMPLATE, "-o", out, *answers, cwd=tmp_path)
    assert result.returncode == 1
    line = first_line(result.stderr)
    assert line.startswith(f"error: {prompt}="), result.stderr
    assert " e.g. " in line
    assert list(out.iterdir()) == []


def test_preload_refusal_says_what_is_missing(tmp_path):
    result = cookiecutter_cli(
        "--no-input",
        TEMPLATE,
        "-o",
        tmp_path,
        "hsts_include_subdomains=no",
        "hsts_preload=yes",
        cwd=tmp_path,
    )
    assert "but hsts_include_subdomains is off;" in first_line(result.stderr)


def test_refusal_never_touches_an_existing_directory(tmp_path):
    existing = tmp_path / "example-service"
    existing.mkdir()
    (existing / "keep.txt").write_text("theirs")
    result = cookiecutter_cli(
        "--no-input",
        "--overwrite-if-exists",
        TEMPLATE,
        "-o",
        tmp_path,
        "hsts_max_age=soon",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    assert (existing / "keep.txt").read_text() == "theirs"


@pytest.mark.parametrize(
    ("answers", "warning"),
    [
        (
            ["hsts_max_age=86400"],
            "warning: hsts_max_age=86400 is below 15552000 (180 days)",
        ),
        (
            ["hsts=no"],
            "warning: hsts is off, so hsts_include_subdomains=yes has no effect",
        ),
    ],
    ids=["weak-max-age", "subdomains-without-hsts"],
)
def test_questionable_answer_warns_and_still_bakes(tmp_path, answers, warning):
    result = cookiecutter_cli(
        "--no-input", TEMPLATE, "-o", tmp_path, *answers, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert warning in result.stderr
    assert (
        tmp_path
        / "example-service"
        / "src"
        / "example_service"
        / "security"
        / "__init__.py"
    ).is_file()


# What cookiecutter itself refuses before any hook runs; the README quotes it.
REFUSED_BY_COOKIECUTTER = {
    "frame-policy-outside-choices": (
        "frame_policy=ALLOW-FROM",
        "ValueError: ALLOW-FROM provided for choice variable frame_policy, "
        "but the choices are ['SAMEORIGIN', 'DENY'].",
    ),
    "hsts-not-yes-or-no": (
        "hsts=maybe",
        "ValueError: maybe provided for variable hsts could not be converted to a boolean.",
    ),
}


@pytest.mark.parametrize(
    ("answer", "message"), REFUSED_BY_COOKIECUTTER.values(), ids=REFUSED_BY_COOKIECUTTER
)
def test_cookiecutter_refuses_before_any_hook_as_the_readme_says(
    tmp_path, answer, message
):
    result = cookiecutter_cli(
        "--no-input", TEMPLATE, "-o", tmp_path, answer, cwd=tmp_path
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert message in (TEMPLATE / "README.md").read_text()
    assert list(tmp_path.iterdir()) == []


# Hostile answers reach the template verbatim through a replay file (and the
# interactive prompt); nothing in them may run, and the service must stay green.
def touch(marker: Path) -> str:
    return f"__import__('pathlib').Path({str(marker)!r}).touch()"


INJECTIONS = {
    # Each would run if pasted into Python source between that kind of quote.
    "python-single-quote": lambda m: f"'); {touch(m)}; ('",
    "python-double-quote": lambda m: f'"); {touch(m)}; ("',
    "python-triple-single": lambda m: f"'''); {touch(m)}; ('''",
    "python-triple-double": lambda m: f'"""); {touch(m)} #',
    # Would run if any file rendered the answer as a template a second time.
    "jinja": lambda m: (
        "{{ cycler.__init__.__globals__.os.system('touch " + str(m) + "') }}"
    ),
}


HOSTILE = {
    "quotes": 'It\'s "quoted"',
    "triple-quotes": "Triple ''' and \"\"\" quotes",
    "backslashes": "Back\\slash \\n \\u0041 \\x00 ends\\",
    "hash": "Hash # not a comment",
    "newlines": "Two\nlines\r\nand more",
    "jinja-braces": "{{ 7 * 7 }} {% raw %} {# #}",
    "unicode": "Caf\u00e9 \u2013 na\u00efve \u201cquotes\u201d \U0001f512",
}


def baked_answers(name: str) -> dict:
    return {
        "project_name": name,
        "project_slug": "hostile-service",
        "package_name": "hostile_service",
        "description": name,
        "author_name": name,
        "author_email": "team@example.com",
        "hsts": True,
        "hsts_max_age": "31536000",
        "hsts_include_subdomains": True,
        "hsts_preload": False,
        "frame_policy": "SAMEORIGIN",
        "_copy_without_render": ["*.html"],
    }


def bake_from_replay(tmp_path: Path, answers: dict) -> Path:
    replay = tmp_path / "answers.json"
    replay.write_text(json.dumps({"cookiecutter": answers}))
    out = tmp_path / "out"
    result = cookiecutter_cli(
        "--replay-file", replay, TEMPLATE, "-o", out, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    return out / answers["project_slug"]


def baked_setting(project: Path, package: str, name: str):
    code = f"import json, {package}.config as c; print(json.dumps(c.{name}))"
    result = python("-c", code, cwd=project, env=clean_env(**bake_pythonpath(project)))
    return json.loads(result.stdout)


def assert_green(project: Path):
    baked_pytest(project)
    baked_lint(project)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE)
def test_hostile_text_bakes_a_green_service_that_keeps_it(tmp_path, value):
    project = bake_from_replay(tmp_path, baked_answers(value))
    assert_green(project)
    assert baked_setting(project, "hostile_service", "PROJECT_NAME") == value


@pytest.mark.parametrize("injection", INJECTIONS.values(), ids=INJECTIONS)
def test_injected_code_never_runs(tmp_path, injection):
    marker = tmp_path / "MARKER"
    value = injection(marker)
    project = bake_from_replay(tmp_path, baked_answers(value))
    assert_green(project)
    assert baked_setting(project, "hostile_service", "PROJECT_NAME") == value
    assert not marker.exists()


def test_jinja_typed_at_the_prompt_is_kept_as_text(tmp_path):
    marker = tmp_path / "MARKER"
    payload = INJECTIONS["jinja"](marker)
    defaults_for_the_other_ten_prompts = "\n" * 10
    result = run(
        sys.executable,
        "-m",
        "cookiecutter",
        TEMPLATE,
        "-o",
        tmp_path / "out",
        cwd=tmp_path,
        input=payload + "\n" + defaults_for_the_other_ten_prompts,
    )
    project = next((tmp_path / "out").iterdir())
    assert result.returncode == 0
    assert not marker.exists()
    assert (
        baked_setting(project, project.name.replace("-", "_"), "PROJECT_NAME")
        == payload
    )


def test_command_line_answers_are_rendered_by_cookiecutter_itself(tmp_path):
    """Why the README warns: cookiecutter evaluates Jinja in key=value answers."""
    result = cookiecutter_cli(
        "--no-input",
        TEMPLATE,
        "-o",
        tmp_path,
        "project_name=Service {{ 6 * 7 }}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "service-42").is_dir()


# The rule functions themselves.
@pytest.fixture(scope="module")
def hook():
    spec = importlib.util.spec_from_file_location("pre_gen_project", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOOD = {
    "project_slug": "example-service",
    "package_name": "example_service",
    "author_email": "platform@example.com",
    "hsts": True,
    "hsts_max_age": "31536000",
    "hsts_include_subdomains": True,
    "hsts_preload": False,
    "frame_policy": "SAMEORIGIN",
}


def test_good_answers_pass_every_rule(hook):
    assert hook.validate(GOOD) == (None, [])


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        ("check_project_slug", {"project_slug": "a--b"}),
        ("check_project_slug", {"project_slug": "-a"}),
        ("check_package_name", {"package_name": "Example"}),
        ("check_package_name", {"package_name": "import"}),
        ("check_package_name", {"package_name": "json"}),
        ("check_package_name", {"package_name": "pytest"}),
        ("check_author_email", {"author_email": "a@b"}),
        ("check_yes_no", {"hsts": "yes"}),
        ("check_frame_policy", {"frame_policy": "ALLOW-FROM https://example.com"}),
        ("check_hsts_max_age", {"hsts_max_age": True}),
        ("check_hsts_max_age", {"hsts_max_age": " 1"}),
        ("check_hsts_preload", {"hsts_preload": True, "hsts_max_age": "0"}),
    ],
)
def test_each_rule_refuses_its_bad_answer_naming_it(hook, rule, change):
    prompt = next(iter(change))
    message = getattr(hook, rule)({**GOOD, **change})
    assert message.startswith(f"error: {prompt}=")
    assert "\n" not in message
    assert getattr(hook, rule)(GOOD) is None


@pytest.mark.parametrize(
    ("change", "kept"),
    [
        ({"hsts_max_age": "0"}, True),
        ({"hsts": False, "hsts_include_subdomains": False}, True),
    ],
)
def test_edge_answers_that_are_allowed(hook, change, kept):
    refusal, _ = hook.validate({**GOOD, **change})
    assert (refusal is None) is kept


def test_preload_lists_everything_missing(hook):
    message = hook.check_hsts_preload(
        {
            **GOOD,
            "hsts": False,
            "hsts_include_subdomains": False,
            "hsts_preload": True,
            "hsts_max_age": "60",
        }
    )
    assert (
        "hsts is off and hsts_include_subdomains is off and hsts_max_age is below 31536000"
        in message
    )


def test_first_refusal_wins_and_suppresses_warnings(hook):
    refusal, warnings = hook.validate(
        {**GOOD, "project_slug": "Bad", "hsts_max_age": "60"}
    )
    assert refusal.startswith("error: project_slug=")
    assert warnings == []
