"""Refuse a bad answer before any file is written.

Each rule is a small function that returns None when the answer is fine, or
the one line a person needs: the prompt, the value given, what is allowed, and
an example. The first refusal is printed and the bake stops (exit 1), and
cookiecutter removes the directory it made. Warnings print and carry on.

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


def check_yes_no(answers):
    for prompt in ("hsts", "hsts_include_subdomains", "hsts_preload"):
        if not isinstance(answers[prompt], bool):
            return refuse(prompt, answers[prompt], "answer yes or no", "yes")
    return None


def check_frame_policy(answers):
    policy = answers["frame_policy"]
    if policy not in FRAME_POLICIES:
        return refuse("frame_policy", policy, "choose SAMEORIGIN or DENY", "SAMEORIGIN")
    return None


def check_hsts_max_age(answers):
    age = answers["hsts_max_age"]
    if isinstance(age, bool) or not WHOLE_NUMBER.match(str(age)):
        return refuse(
            "hsts_max_age",
            age,
            "give a whole number of seconds, 0 or more",
            PRELOAD_MIN_AGE,
        )
    return None


def check_hsts_preload(answers):
    if not answers["hsts_preload"]:
        return None
    missing = []
    if not answers["hsts"]:
        missing.append("hsts is off")
    if not answers["hsts_include_subdomains"]:
        missing.append("hsts_include_subdomains is off")
    if int(answers["hsts_max_age"]) < PRELOAD_MIN_AGE:
        missing.append(f"hsts_max_age is below {PRELOAD_MIN_AGE}")
    if not missing:
        return None
    return (
        "error: hsts_preload=yes is not allowed here: the preload list needs hsts on, "
        f"includeSubDomains on and max-age >= {PRELOAD_MIN_AGE}, but {' and '.join(missing)}; "
        f"e.g. hsts=yes hsts_include_subdomains=yes hsts_max_age={PRELOAD_MIN_AGE}, "
        "or hsts_preload=no"
    )


def warn_weak_max_age(answers):
    if answers["hsts"] and int(answers["hsts_max_age"]) < WEAK_BELOW:
        return (
            f"warning: hsts_max_age={answers['hsts_max_age']} is below {WEAK_BELOW} "
            "(180 days): scanners will mark HSTS as weak"
        )
    return None


def warn_hsts_options_without_hsts(answers):
    if not answers["hsts"] and answers["hsts_include_subdomains"]:
        return "warning: hsts is off, so hsts_include_subdomains=yes has no effect"
    return None


# Order matters: a later rule may rely on an earlier one having passed.
RULES = (
    check_project_slug,
    check_package_name,
    check_author_email,
    check_yes_no,
    check_frame_policy,
    check_hsts_max_age,
    check_hsts_preload,
)
WARNINGS = (warn_weak_max_age, warn_hsts_options_without_hsts)


def validate(answers):
    """Return (the first refusal or None, the warnings)."""
    for rule in RULES:
        refusal = rule(answers)
        if refusal:
            return refusal, []
    return None, [w for w in (warn(answers) for warn in WARNINGS) if w]


def main(answers):
    refusal, warnings = validate(answers)
    for warning in warnings:
        print(warning, file=sys.stderr)
    if refusal:
        print(refusal, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(json.loads(r"""{{ cookiecutter | tojson }}"""))
