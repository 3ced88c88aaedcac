"""The pre-generation hook's rules, one by one, without baking: the quick check.

What a refusal looks like from cookiecutter's command line is in test_answers.py.
"""

import importlib.util
import json
import textwrap

import pytest

from testkit import TEMPLATE
from testkit.commands import clean_env, python

HOOK = TEMPLATE / "hooks" / "pre_gen_project.py"
PROMPT_ORDER = list(json.loads((TEMPLATE / "cookiecutter.json").read_text()))
pytestmark = pytest.mark.check


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
    assert hook.validate(GOOD) == ([], [])


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
        ("check_hsts", {"hsts": "yes"}),
        ("check_hsts_include_subdomains", {"hsts_include_subdomains": 1}),
        ("check_hsts_preload", {"hsts_preload": "no"}),
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
    refusals, _ = hook.validate({**GOOD, **change})
    assert (refusals == []) is kept


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


def test_rules_run_in_prompt_order(hook):
    prompts = [rule.__name__.removeprefix("check_") for rule in hook.RULES]
    assert prompts == [p for p in PROMPT_ORDER if p in prompts]


def test_every_refusal_and_every_warning_together(hook):
    refusals, warnings = hook.validate(
        {**GOOD, "project_slug": "Bad", "frame_policy": "ALLOW", "hsts_max_age": "60"}
    )
    assert [r.split("=")[0] for r in refusals] == [
        "error: project_slug",
        "error: frame_policy",
    ]
    assert warnings == [
        "warning: hsts_max_age=60 is below 15552000 (180 days): scanners will mark HSTS as weak"
    ]


@pytest.mark.parametrize(
    ("change", "prompts"),
    [
        # The max-age is wrong: preload has nothing else to say, and must not crash.
        ({"hsts_max_age": "a year"}, ["hsts_max_age"]),
        ({"hsts_max_age": True}, ["hsts_max_age"]),
        # hsts itself is wrong: preload names only the subdomains it lacks.
        (
            {"hsts": "maybe", "hsts_include_subdomains": False},
            ["hsts", "hsts_preload"],
        ),
        ({"hsts_include_subdomains": "maybe"}, ["hsts_include_subdomains"]),
    ],
)
def test_a_rule_never_repeats_what_another_refused(hook, change, prompts):
    refusals, warnings = hook.validate({**GOOD, "hsts_preload": True, **change})
    assert [r.removeprefix("error: ").split("=")[0] for r in refusals] == prompts
    assert warnings == []


def test_preload_names_only_what_is_valid_and_missing(hook):
    refusals, _ = hook.validate(
        {
            **GOOD,
            "hsts": "maybe",
            "hsts_max_age": "a year",
            "hsts_include_subdomains": False,
            "hsts_preload": True,
        }
    )
    assert "but hsts_include_subdomains is off;" in refusals[-1]
    assert "hsts is off" not in refusals[-1]
    assert "hsts_max_age is below" not in refusals[-1]


def modules_main_adds(answers, home) -> set[str]:
    """The top-level modules that loading the hook and running its main() on
    ``answers`` add to what its own imports load, in a fresh interpreter with
    an empty home (no cookiecutter config or replay files of the machine's)."""
    code = textwrap.dedent(f"""
        import contextlib, importlib.util, io, json, keyword, re, sys
        before = set(sys.modules)
        spec = importlib.util.spec_from_file_location("hook", {str(HOOK)!r})
        hook = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(hook)
        with contextlib.suppress(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            hook.main(json.loads({json.dumps(answers)!r}))
        print(json.dumps(sorted(set(sys.modules) - before)))
    """)
    env = clean_env(HOME=str(home))
    env.pop("COOKIECUTTER_CONFIG", None)
    added = json.loads(python("-c", code, cwd=home, env=env).stdout)
    return {name.partition(".")[0] for name in added}


def test_fine_answers_import_nothing_more_and_a_refusal_what_it_needs(tmp_path):
    """Every bake starts this hook; cookiecutter (Jinja, requests, rich),
    pathlib and shlex are for the line after a refusal only."""
    assert modules_main_adds(GOOD, tmp_path) == set()
    refused = modules_main_adds({**GOOD, "frame_policy": "ALLOW"}, tmp_path)
    assert {"cookiecutter", "jinja2"} <= refused
