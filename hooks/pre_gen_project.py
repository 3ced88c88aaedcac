"""Refuse bad answers before any file is written, every one of them at once.

Each rule is a small function for one prompt: it returns None when the answer
is fine, or the one line a person needs: the prompt, the value given, what is
allowed, and an example. Every rule runs, so each wrong answer gets its line,
in prompt order; a rule that depends on another answer leaves that answer to
its own rule when it is wrong. Warnings print too, so that one round of fixes
covers everything. After the refusals comes one line on how to bake again
from the replay file cookiecutter has already written (every answer given, so
nothing is typed again), and the bake stops (exit 1); cookiecutter removes the
directory it made.

Answers are read as JSON (rendered with ``tojson``, which escapes every quote
and backslash), never pasted into this source as Python literals.
"""

import json
import keyword
import re
import sys

SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*\Z")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
WHOLE_NUMBER = re.compile(r"[0-9]+\Z")

# Import names the service or its tools already use; a package by one of
# these names would shadow them.
DEPENDENCY_NAMES = {
    "blinker",
    "click",
    "conftest",
    "flask",
    "hatchling",
    "itsdangerous",
    "jinja2",
    "markupsafe",
    "pytest",
    "ruff",
    "test",  # the standard library's own test package
    "tests",
    "werkzeug",
}
FRAME_POLICIES = ("SAMEORIGIN", "DENY")
PRELOAD_MIN_AGE = 31536000  # one year: the preload list's minimum
WEAK_BELOW = 15552000  # 180 days: scanners call anything shorter weak


def shown(value):
    """An answer as the person typed it: yes/no for booleans, quoted text otherwise."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value)


def refuse(prompt, value, allowed, example):
    return f"error: {prompt}={shown(value)} is not allowed: {allowed}, e.g. {prompt}={example}"


def seconds(value):
    """The answer as a whole number of seconds, or None when it is not one."""
    if isinstance(value, bool) or not WHOLE_NUMBER.match(str(value)):
        return None
    return int(value)


def yes_or_no(answers, prompt):
    # Only a replay file or the Python API can get here with anything but a
    # bool: cookiecutter converts yes/no answers typed or given as key=value.
    if isinstance(answers[prompt], bool):
        return None
    return refuse(
        prompt,
        answers[prompt],
        "answer yes or no (true or false in a replay file)",
        "yes",
    )


def check_project_slug(answers):
    slug = answers["project_slug"]
    if not SLUG.match(str(slug)):
        return refuse(
            "project_slug",
            slug,
            "use lowercase letters, digits and single hyphens, starting with a letter",
            "example-service",
        )
    return None


def check_package_name(answers):
    name = answers["package_name"]
    if not PACKAGE.match(str(name)) or keyword.iskeyword(name):
        return refuse(
            "package_name",
            name,
            "use a lowercase Python identifier that is not a keyword",
            "example_service",
        )
    if name in sys.stdlib_module_names or name in DEPENDENCY_NAMES:
        return refuse(
            "package_name",
            name,
            "it would shadow a standard-library or dependency module of that name",
            f"{name}_service",
        )
    return None


def check_author_email(answers):
    email = answers["author_email"]
    if not EMAIL.match(str(email)):
        return refuse(
            "author_email", email, "give an email address", "team@example.com"
        )
    return None


def check_hsts(answers):
    return yes_or_no(answers, "hsts")


def check_hsts_max_age(answers):
    if seconds(answers["hsts_max_age"]) is None:
        return refuse(
            "hsts_max_age",
            answers["hsts_max_age"],
            "give a whole number of seconds, 0 or more",
            PRELOAD_MIN_AGE,
        )
    return None


def check_hsts_include_subdomains(answers):
    return yes_or_no(answers, "hsts_include_subdomains")


def check_hsts_preload(answers):
    """Preload needs what the preload list needs, judged on the answers that are valid.

    An answer refused by its own rule (hsts='maybe', hsts_max_age='a year') is
    not reported again here.
    """
    refusal = yes_or_no(answers, "hsts_preload")
    if refusal or not answers["hsts_preload"]:
        return refusal
    missing = []
    if answers["hsts"] is False:
        missing.append("hsts is off")
    if answers["hsts_include_subdomains"] is False:
        missing.append("hsts_include_subdomains is off")
    age = seconds(answers["hsts_max_age"])
    if age is not None and age < PRELOAD_MIN_AGE:
        missing.append(f"hsts_max_age is below {PRELOAD_MIN_AGE}")
    if not missing:
        return None
    return (
        "error: hsts_preload=yes is not allowed here: the preload list needs hsts on, "
        f"includeSubDomains on and max-age >= {PRELOAD_MIN_AGE}, but {' and '.join(missing)}; "
        f"e.g. hsts=yes hsts_include_subdomains=yes hsts_max_age={PRELOAD_MIN_AGE}, "
        "or hsts_preload=no"
    )


def check_frame_policy(answers):
    policy = answers["frame_policy"]
    if policy not in FRAME_POLICIES:
        return refuse("frame_policy", policy, "choose SAMEORIGIN or DENY", "SAMEORIGIN")
    return None


def warn_weak_max_age(answers):
    age = seconds(answers["hsts_max_age"])
    if answers["hsts"] is True and age is not None and age < WEAK_BELOW:
        return (
            f"warning: hsts_max_age={age} is below {WEAK_BELOW} "
            "(180 days): scanners will mark HSTS as weak"
        )
    return None


def warn_hsts_options_without_hsts(answers):
    if answers["hsts"] is False and answers["hsts_include_subdomains"] is True:
        return "warning: hsts is off, so hsts_include_subdomains=yes has no effect"
    return None


# In the order cookiecutter asks (cookiecutter.json), so the lines come in
# that order. Every rule runs, whatever the others found.
RULES = (
    check_project_slug,
    check_package_name,
    check_author_email,
    check_hsts,
    check_hsts_max_age,
    check_hsts_include_subdomains,
    check_hsts_preload,
    check_frame_policy,
)
WARNINGS = (warn_weak_max_age, warn_hsts_options_without_hsts)


def validate(answers):
    """Return (every refusal, every warning), each a list of lines in prompt order."""
    refusals = [line for line in (rule(answers) for rule in RULES) if line]
    warnings = [line for line in (warn(answers) for warn in WARNINGS) if line]
    return refusals, warnings


def holds_these_answers(path, answers):
    try:
        return json.loads(path.read_text(encoding="utf-8"))["cookiecutter"] == answers
    except (OSError, ValueError, KeyError, TypeError):
        return False


def replay_file(answers):
    """The replay file cookiecutter wrote for this very bake, or None.

    cookiecutter (its command and its ``cookiecutter()`` function) writes the
    answers to ``<replay_dir>/<template directory name>.json`` before this hook
    runs; after a ``--replay-file`` bake the name is that file's instead. The
    file named after the template is tried first, then the newest one holding
    exactly these answers. None when no file does: another ``--config-file``,
    or a tool that bakes without writing one (cruft).

    cookiecutter is imported here, not at the top: a bake whose answers are
    fine never needs it, and importing it (Jinja, requests, rich) would
    double the time every bake spends in this hook. pathlib and shlex too
    are only needed after a refusal.
    """
    from pathlib import Path

    from cookiecutter.config import get_user_config
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.replay import get_file_name

    try:
        directory = Path(get_user_config()["replay_dir"])
    except (CookiecutterException, OSError):
        return None
    template_name = Path(str(answers.get("_repo_dir", ""))).name
    named = [Path(get_file_name(directory, template_name))] if template_name else []
    try:
        others = sorted(
            directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
    except OSError:
        others = []
    return next((p for p in (*named, *others) if holds_these_answers(p, answers)), None)


def bake_again_command(answers, replay):
    """The command that bakes from the replay file, as this bake was asked for.

    The template is given as it was typed, so the command runs from the same
    working directory; the output directory is absolute. A project directory
    that already has files in it was there before (this hook runs before any
    file is written), which only --overwrite-if-exists allows.
    """
    import shlex
    from pathlib import Path

    command = ["cookiecutter", "--replay-file", str(replay), str(answers["_template"])]
    if answers.get("_checkout"):
        command += ["--checkout", str(answers["_checkout"])]
    command += ["--output-dir", str(answers["_output_dir"])]
    if any(Path.cwd().iterdir()):
        command.append("--overwrite-if-exists")
    return shlex.join(command)


def how_to_bake_again(answers):
    replay = replay_file(answers)
    if replay is None:
        return (
            "to bake again: no cookiecutter replay file holds these answers (was another "
            "--config-file used?), so bake again with the answers above fixed"
        )
    return (
        'to bake again without typing every answer: fix the answers above under "cookiecutter" '
        f"in {replay}, then run: {bake_again_command(answers, replay)}"
    )


def main(answers):
    refusals, warnings = validate(answers)
    for line in refusals + warnings:
        print(line, file=sys.stderr)
    if refusals:
        print(how_to_bake_again(answers), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(json.loads(r"""{{ cookiecutter | tojson }}"""))
