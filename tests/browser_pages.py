"""The pages the browser tests add to a bake, written as a team would write
them: inline code by nonce and without, a page that tries DOM sinks and
Trusted Types policies, and one with static scripts with and without
integrity. ``add_pages`` writes them, with their routes, into a bake.
"""

from pathlib import Path

ROGUE_SCRIPT = 'document.getElementById("rogue").textContent = "ran";'
# A team's page: one inline script by nonce, one without, and an image.
INLINE_PAGE = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>inline code</title></head>
<body>
<p id="nonced">waiting</p>
<p id="rogue">waiting</p>
<img id="picture" src="/static/favicon.svg" alt="">
<script nonce="{{{{ csp_nonce() }}}}">document.getElementById("nonced").textContent = "ran";</script>
<script>{ROGUE_SCRIPT}</script>
</body>
</html>
"""
# A nonce'd script that tries a DOM sink with a plain string, then two
# Trusted Types policies: the one the settings may name, and another.
TRUSTED_TYPES_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>trusted types</title></head>
<body>
<p id="sink">waiting</p>
<p id="named">waiting</p>
<p id="unnamed">waiting</p>
<script nonce="{{ csp_nonce() }}">
const attempt = (id, action) => {
  const element = document.getElementById(id);
  try { action(element); element.dataset.outcome = "allowed"; }
  catch (error) { element.dataset.outcome = error.name; }
};
attempt("sink", (p) => { p.innerHTML = "<b>a plain string</b>"; });
attempt("named", (p) => {
  const policy = trustedTypes.createPolicy(
    "app-sanitizer", {createHTML: (text) => text.replaceAll("<", "&lt;")});
  p.innerHTML = policy.createHTML("<b>escaped</b>");
});
attempt("unnamed", () => trustedTypes.createPolicy("rogue-policy", {}));
</script>
</body>
</html>
"""
TRUSTED_TYPES_OUTCOMES = """() => Object.fromEntries(
    ["sink", "named", "unnamed"].map(
        (id) => [id, document.getElementById(id).dataset.outcome]))"""
# Three static scripts: no integrity, the right one (sri), the wrong bytes.
APP_JS = b"document.body.dataset[document.currentScript.dataset.name] = 'ran';\n"
SCRIPTS_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>scripts</title></head>
<body>
<script src="/static/app.js?no-integrity" data-name="plain"></script>
<script src="{{ url_for('static', filename='app.js') }}" integrity="{{ sri('app.js') }}"
        crossorigin="anonymous" data-name="whole"></script>
<script src="{{ url_for('static', filename='tampered.js') }}" integrity="{{ sri('app.js') }}"
        crossorigin="anonymous" data-name="tampered"></script>
</body>
</html>
"""
SCRIPTS_RAN = "() => ({...document.body.dataset})"
ROUTES = """

@bp.get("/inline")
def inline() -> str:
    return render_template("inline.html")


@bp.get("/trusted-types")
def trusted_types() -> str:
    return render_template("trusted_types.html")


@bp.get("/scripts")
def scripts() -> str:
    return render_template("scripts.html")
"""


def add_pages(package: Path) -> None:
    """The pages, their routes and the static scripts, in the baked ``package``."""
    (package / "templates" / "inline.html").write_text(INLINE_PAGE)
    (package / "templates" / "trusted_types.html").write_text(TRUSTED_TYPES_PAGE)
    (package / "templates" / "scripts.html").write_text(SCRIPTS_PAGE)
    (package / "static" / "app.js").write_bytes(APP_JS)
    (package / "static" / "tampered.js").write_bytes(APP_JS + b"// in transit\n")
    routes = package / "routes.py"
    routes.write_text(routes.read_text() + ROUTES)
