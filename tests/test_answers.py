"""Answers: refused with one line, warned about, or baked faithfully however hostile."""

import ast
import importlib.util
import json
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from cookiecutter.config import get_user_config
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from cookiecutter.replay import get_file_name

from testkit import TEMPLATE
from testkit.bake import bake_pythonpath, baked_lint, baked_pytest
from testkit.commands import clean_env, python, run


def cookiecutter_cli(*args, cwd: Path, **kwargs):
    return python("-m", "cookiecutter", *args, cwd=cwd, check=False, **kwargs)


def first_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.strip())


def hook_lines(stderr: str) -> list[str]:
    """What the pre-gen hook printed: cookiecutter logs its own report to stdout."""
    return [line for line in stderr.splitlines() if line.strip()]


BAKE_AGAIN = (
    "to bake again without typing every answer: "
    'fix the answers above under "cookiecutter" in '
)
PROMPT_ORDER = list(json.loads((TEMPLATE / "cookiecutter.json").read_text()))


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
def test_bad_answer_is_refused_in_one_line_leaving_nothing(
    tmp_path, capfd, answers, prompt
):
    """Through cookiecutter's API, which its command line calls with the same
    key=value answers (as text): the hook refuses in its own process, and the
    command line turns the refusal into exit status 1 (tested below)."""
    out = tmp_path / "out"
    out.mkdir()
    given = dict(answer.split("=", 1) for answer in answers)
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context=given, output_dir=str(out)
        )
    stderr = capfd.readouterr().err
    *lines, last = hook_lines(stderr)
    assert lines[0].startswith(f"error: {prompt}="), stderr
    assert all(" e.g. " in line for line in lines if line.startswith("error: "))
    assert all(line.startswith(("error: ", "warning: ")) for line in lines)
    assert last.startswith(BAKE_AGAIN)
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
    # Baking again into that directory needs the same flag, so the line says so.
    assert hook_lines(result.stderr)[-1].endswith(" --overwrite-if-exists")


# Five wrong answers, given out of prompt order; the max-age is wrong too, so the
# preload rule must name only what else it lacks.
SEVERAL_WRONG = [
    "hsts_preload=yes",
    "hsts_include_subdomains=no",
    "hsts_max_age=a year",
    "author_email=nobody",
    "package_name=class",
    "project_slug=Bad_Slug",
]
FIXES = {
    "project_slug": "fixed-service",
    "package_name": "fixed_service",
    "author_email": "fixed@example.com",
    "hsts_max_age": 31536000,
    "hsts_include_subdomains": True,
}


def refuse_several(tmp_path: Path, template: str | Path, cwd: Path):
    out = tmp_path / "out"
    out.mkdir()
    result = cookiecutter_cli(
        "--no-input", template, "-o", out, *SEVERAL_WRONG, cwd=cwd
    )
    assert result.returncode == 1, result.stderr
    assert list(out.iterdir()) == []
    return hook_lines(result.stderr), out


def test_every_wrong_answer_gets_its_line_in_prompt_order(tmp_path):
    lines, _ = refuse_several(tmp_path, TEMPLATE, tmp_path)
    *errors, last = lines
    prompts = [line.removeprefix("error: ").split("=")[0] for line in errors]
    assert prompts == [
        "project_slug",
        "package_name",
        "author_email",
        "hsts_max_age",
        "hsts_preload",
    ], lines
    assert prompts == sorted(prompts, key=PROMPT_ORDER.index)
    assert all(" e.g. " in line for line in errors)
    assert errors[-1].endswith(
        "but hsts_include_subdomains is off; e.g. hsts=yes hsts_include_subdomains=yes "
        "hsts_max_age=31536000, or hsts_preload=no"
    )
    assert last.startswith(BAKE_AGAIN)


@pytest.mark.parametrize("given_as", ["absolute-path", "dot"])
def test_the_last_line_names_the_replay_file_and_its_command_bakes(tmp_path, given_as):
    """Fix the answers in the file the line names, run the command it prints."""
    template, cwd = (
        (TEMPLATE, tmp_path) if given_as == "absolute-path" else (".", TEMPLATE)
    )
    lines, out = refuse_several(tmp_path, template, cwd)
    last = lines[-1]
    replay = Path(get_file_name(get_user_config()["replay_dir"], TEMPLATE.name))
    assert last.startswith(f"{BAKE_AGAIN}{replay}, then run: cookiecutter "), last
    command = shlex.split(last.split(", then run: ", 1)[1])
    assert command[command.index("--replay-file") + 1] == str(replay)

    saved = json.loads(replay.read_text())
    answers = saved["cookiecutter"]
    assert answers["author_email"] == "nobody"
    assert answers["hsts_max_age"] == "a year"
    answers.update(FIXES)
    replay.write_text(json.dumps(saved))
    program = Path(sys.executable).with_name(command[0])
    result = run(program, *command[1:], cwd=cwd)

    project = out / "fixed-service"
    assert f"Baked {project.resolve()}." in result.stderr
    pyproject = (project / "pyproject.toml").read_text()
    assert 'email = "fixed@example.com"' in pyproject
    config = (project / "src" / "fixed_service" / "config.py").read_text()
    assert "HSTS_MAX_AGE = 31536000\n" in config
    assert "HSTS_PRELOAD = True\n" in config


def test_without_a_replay_file_the_last_line_names_none(tmp_path):
    """Under another --config-file the hook cannot see the replay file: it says so."""
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(f"replay_dir: {tmp_path / 'replay-elsewhere'}\n")
    result = cookiecutter_cli(
        "--no-input",
        "--config-file",
        elsewhere,
        TEMPLATE,
        "-o",
        tmp_path,
        "author_email=nobody",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert (tmp_path / "replay-elsewhere" / f"{TEMPLATE.name}.json").is_file()
    assert hook_lines(result.stderr)[-1] == (
        "to bake again: no cookiecutter replay file holds these answers (was another "
        "--config-file used?), so bake again with the answers above fixed"
    )


def test_the_readme_shows_what_the_hook_prints(tmp_path):
    result = cookiecutter_cli(
        "--no-input",
        TEMPLATE,
        "-o",
        tmp_path,
        "author_email=platform.example.com",
        "hsts_max_age=a year",
        cwd=tmp_path,
    )
    *errors, last = hook_lines(result.stderr)
    readme = (TEMPLATE / "README.md").read_text()
    assert len(errors) == 2
    assert all(f"\n{line}\n" in readme for line in errors)
    shape = re.compile(
        re.escape(BAKE_AGAIN) + r"(\S+), then run: cookiecutter --replay-file \1 "
        r"\S+( --checkout \S+)? --output-dir \S+"
    )
    assert shape.fullmatch(last), last
    example = next(line for line in readme.splitlines() if line.startswith("to bake"))
    assert shape.fullmatch(example), example


def test_a_refusal_comes_with_the_warnings_before_the_last_line(tmp_path):
    result = cookiecutter_cli(
        "--no-input",
        TEMPLATE,
        "-o",
        tmp_path,
        "hsts_max_age=86400",
        "author_email=nobody",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    refusal, warning, last = hook_lines(result.stderr)
    assert refusal.startswith("error: author_email='nobody' is not allowed")
    assert warning.startswith("warning: hsts_max_age=86400 is below 15552000")
    assert last.startswith(BAKE_AGAIN)


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
    "html": "<b>Bold</b> & <script>alert(1)</script>",
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
    """What ``cookiecutter --replay-file`` does, through the API it calls."""
    replay = tmp_path / "answers.json"
    replay.write_text(json.dumps({"cookiecutter": answers}))
    out = tmp_path / "out"
    baked = cookiecutter(str(TEMPLATE), replay=str(replay), output_dir=str(out))
    assert Path(baked) == out / answers["project_slug"]
    return Path(baked)


def baked_setting(project: Path, package: str, name: str):
    code = f"import json, {package}.config as c; print(json.dumps(c.{name}))"
    result = python("-c", code, cwd=project, env=clean_env(**bake_pythonpath(project)))
    return json.loads(result.stdout)


# Baked apps, each built as the service builds it, serving its home page; the
# name is read back from the page's <title> and <h1> as a browser reads them,
# and from its config. One process serves every bake given, one after another
# (each is the package hostile_service, imported afresh from its own src/).
SERVE_HOMES = """
import json, sys, traceback
from html.parser import HTMLParser

class Texts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inside, self.texts = None, {"title": "", "h1": ""}
    def handle_starttag(self, tag, attrs):
        self.inside = tag if tag in self.texts else None
    def handle_endtag(self, tag):
        self.inside = None
    def handle_data(self, data):
        if self.inside:
            self.texts[self.inside] += data

served = []
for src in sys.argv[1:]:
    sys.path.insert(0, src)
    try:
        from hostile_service import config, create_app
        response = create_app({"TESTING": True}).test_client().get("/")
        page = Texts()
        page.feed(response.get_data(as_text=True))
        served.append(
            {"status": response.status_code, **page.texts, "config": config.PROJECT_NAME}
        )
    except Exception:
        served.append({"error": traceback.format_exc()})
    finally:
        sys.path.remove(src)
        for name in [m for m in sys.modules if m.partition(".")[0] == "hostile_service"]:
            del sys.modules[name]
json.dump(served, sys.stdout)
"""


def served_homes(projects: list[Path]) -> list[dict]:
    """What each bake's home page and config show."""
    result = python(
        "-c", SERVE_HOMES, *(project / "src" for project in projects), cwd=projects[0]
    )
    return json.loads(result.stdout)


def kept_and_served(value: str) -> dict:
    return {"status": 200, "title": value, "h1": value, "config": value}


def assert_kept_and_served(project: Path, value: str):
    """What hostile text could break: the source ruff reads, the value read back, the page."""
    baked_lint(project)
    assert served_homes([project]) == [kept_and_served(value)]


@dataclass
class Baked:
    project: Path
    value: str
    marker: Path | None  # an injection's: the file it would make if it ran
    lint: str  # what ruff says of this bake's files; empty when they are clean
    served: dict


def about(line: str, name: str) -> bool:
    """Whether ruff's line names a file of the bake in folder ``name``."""
    return re.search(rf"(^|\s){re.escape(name)}/", line) is not None


@pytest.fixture(scope="module")
def one_bake_per_text(tmp_path_factory) -> dict[str, Baked]:
    """Every hostile text and injection, each baked alone; linted and served together.

    One ruff run per check over all the bakes (each read with its own
    pyproject.toml) and one process serving them all, instead of one each.
    """
    root = tmp_path_factory.mktemp("hostile")
    values = dict(HOSTILE)
    markers = {name: root / name / "MARKER" for name in INJECTIONS}
    values |= {name: inject(markers[name]) for name, inject in INJECTIONS.items()}
    projects = {}
    for name, value in values.items():
        (root / name).mkdir()
        projects[name] = bake_from_replay(root / name, baked_answers(value))
    lint = ""
    for command in (["check", "--output-format", "concise"], ["format", "--check"]):
        result = python(
            "-m", "ruff", *command, "--no-cache", *values, cwd=root, check=False
        )
        lint += result.stdout + result.stderr
        if result.returncode:  # a complaint, naming the bake it is about
            assert any(
                about(line, name) for line in lint.splitlines() for name in values
            ), lint
    served = served_homes(list(projects.values()))
    return {
        name: Baked(
            projects[name],
            values[name],
            markers.get(name),
            "\n".join(line for line in lint.splitlines() if about(line, name)),
            served[number],
        )
        for number, name in enumerate(values)
    }


def assert_clean_and_served(baked: Baked):
    assert baked.lint == ""
    assert baked.served == kept_and_served(baked.value)


# Every test of one_bake_per_text on one worker, which bakes them all once.
@pytest.mark.xdist_group("hostile-texts")
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_bakes_a_green_service_that_keeps_it(one_bake_per_text, name):
    baked = one_bake_per_text[name]
    assert_clean_and_served(baked)
    one_line = baked.value.replace("\r", " ").replace("\n", " ")
    metadata = baked_metadata(baked.project)
    assert metadata["description"] == one_line
    assert metadata["authors"] == [{"name": one_line, "email": "team@example.com"}]


def baked_metadata(project: Path) -> dict:
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"
    ]


@pytest.mark.xdist_group("hostile-texts")
@pytest.mark.parametrize("name", INJECTIONS)
def test_injected_code_never_runs(one_bake_per_text, name):
    baked = one_bake_per_text[name]
    assert_clean_and_served(baked)
    assert not baked.marker.exists()


def test_every_hostile_text_at_once_bakes_a_service_whose_own_suite_passes(tmp_path):
    """The baked suite, run once on every hostile text and injection together.

    The matrix runs it on ordinary names; the per-text tests above check what
    each text could break (its source, its value, the page that shows it).
    """
    marker = tmp_path / "MARKER"
    texts = [*HOSTILE.values(), *(inject(marker) for inject in INJECTIONS.values())]
    value = " ".join(texts)
    project = bake_from_replay(tmp_path, baked_answers(value))
    result = baked_pytest(project)
    assert " passed" in result.stdout
    assert_kept_and_served(project, value)
    assert not marker.exists()


# Text as people type it reads the same in what is baked.
AS_TYPED = {
    "zoe": ("Zoë O'Neil", "Zoë O'Neil's service on the organisation's baseline."),
    "aero": ("Ærø Ünïcødé", "Ærø Ünïcødé \u2013 døgnåpen tjeneste for «alle»"),
    "more-latin": ("Łukasz Żółć, Þórdís Straße", "Çağla İşler & Đorđe Œuvre"),
}


@pytest.mark.parametrize(("name", "description"), AS_TYPED.values(), ids=AS_TYPED)
def test_names_bake_as_typed(tmp_path, name, description):
    answers = {**baked_answers(name), "description": description}
    project = bake_from_replay(tmp_path, answers)
    pyproject = (project / "pyproject.toml").read_bytes()
    assert f'description = "{description}"\n'.encode() in pyproject
    assert f'authors = [{{ name = "{name}", email = '.encode() in pyproject
    config = (project / "src" / "hostile_service" / "config.py").read_bytes()
    assert f'\nPROJECT_NAME = "{name}"\n'.encode() in config
    readme = (project / "README.md").read_bytes()
    assert readme.startswith(f"# {name}\n\n{description}\n".encode())

    metadata = baked_metadata(project)
    assert metadata["description"] == description
    assert metadata["authors"][0]["name"] == name
    assert baked_setting(project, "hostile_service", "PROJECT_NAME") == name
    baked_lint(project)


def test_the_default_description_keeps_its_apostrophe(baked_defaults):
    line = 'description = "A Flask service on the organisation\'s security baseline."\n'
    assert line in (baked_defaults / "pyproject.toml").read_text()


def test_a_double_quote_is_escaped_so_ruff_format_keeps_the_quotes(tmp_path):
    typed = 'Zoë "Zed" O\'Neil \\ Ltd'
    project = bake_from_replay(tmp_path, baked_answers(typed))
    config = (project / "src" / "hostile_service" / "config.py").read_text()
    assert 'PROJECT_NAME = "Zoë \\u0022Zed\\u0022 O\'Neil \\\\ Ltd"\n' in config
    pyproject = (project / "pyproject.toml").read_text()
    assert 'authors = [{ name = "Zoë \\"Zed\\" O\'Neil \\\\ Ltd", ' in pyproject
    assert baked_setting(project, "hostile_service", "PROJECT_NAME") == typed
    assert baked_metadata(project)["authors"][0]["name"] == typed
    baked_lint(project)


@pytest.fixture(scope="module")
def extensions():
    spec = importlib.util.spec_from_file_location(
        "local_extensions", TEMPLATE / "local_extensions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_character_reads_back_from_python_and_toml(extensions):
    # The whole Basic Multilingual Plane and a few beyond it (emoji, CJK, tags,
    # private use, the last code point); surrogates cannot be written to a
    # UTF-8 file, so no answer holds one.
    beyond = [0x1F512, 0x20000, 0xE0041, 0xF0000, 0x10FFFF]
    text = "".join(
        chr(code) for code in [*range(0x10000), *beyond] if not 0xD800 <= code <= 0xDFFF
    )
    assert ast.literal_eval(f'"{extensions.python_string(text)}"') == text
    assert tomllib.loads(f'k = "{extensions.toml_string(text)}"')["k"] == text
    assert tomllib.loads(f'k = "{extensions.python_string(text)}"')["k"] == text


def test_every_letter_kept_in_python_passes_ruff(extensions, baked_defaults):
    """What python_string leaves as typed, ruff check (RUF001 look-alikes) accepts."""
    kept = [
        chr(code)
        for code in range(0x80, 0x110000)
        if extensions.python_string(chr(code)) == chr(code)
    ]
    assert {"é", "ü", "ø", "Æ", "ß"} <= set(kept)
    assert "\u2013" not in kept  # the en dash ruff mistakes for a hyphen
    alone = " ".join(kept)
    in_ascii_words = " ".join(f"x{char}x" for char in kept)
    module = baked_defaults / "src" / "example_service" / "letters.py"
    module.write_text(
        f'ALONE = "{alone}"\nIN_ASCII_WORDS = "{in_ascii_words}"\n', encoding="utf-8"
    )
    baked_lint(baked_defaults)


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
