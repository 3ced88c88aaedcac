"""``flask --app {{ cookiecutter.package_name }} security ...``: the policy, for people and machines."""

import json
import re
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .check import check
from .cross_origin import KEY as CROSS_ORIGIN
from .csp import NONCE_SLOT
from .policy import DEFAULT_REPORT_URI
from .reports import DEFAULT_REPORT_LOG_RATE, DEFAULT_REPORT_WINDOW

security_cli = AppGroup("security", help="Inspect the security-header policy.")

# The settings that shape the policy beyond the baked answers, and the value
# each has when it changes nothing (not shown then).
EXTENSION_SETTINGS: dict[str, object] = {
    "CSP_EXTEND": {},
    "PERMISSIONS_ALLOW": {},
    "COEP": "require-corp",
    "CSP_REPORT_URI": DEFAULT_REPORT_URI,
    "CSP_REPORT_ONLY": {},
    "CSP_STRICT_DYNAMIC": False,
    "CSP_REPORT_WINDOW": DEFAULT_REPORT_WINDOW,
    "CSP_REPORT_LOG_RATE": DEFAULT_REPORT_LOG_RATE,
    "CSRF_TRUSTED_ORIGINS": [],
    "CROSS_ORIGIN_PROTECTION": True,
}
RELEASE = re.compile(r"v\d+\.\d+\.\d+")  # the template's release tags
NONCE_SHOWN = "<nonce>"  # where a page's nonce goes, in what show prints


def extended(csp_extended: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Where each extended CSP directive started and what it sends: one the
    baseline leaves out starts from its fallback (default-src 'none': nothing)."""
    return {
        directive: {"starts_from": start, "sends": sends}
        for directive, (start, sends) in sorted(csp_extended.items())
    }


def extended_text(csp_extended: dict[str, dict[str, str]], indent: str) -> list[str]:
    return [
        f"{indent}{directive}: from {step['starts_from']} to {step['sends']}"
        for directive, step in csp_extended.items()
    ]


def baseline_release(project: Path) -> dict[str, str | None] | None:
    """The template release and commit in cruft's ``.cruft.json``, if the project has one."""
    try:
        state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    # cruft records what --checkout named: null after a plain update, or a branch.
    checkout = state.get("checkout")
    release = (
        checkout if isinstance(checkout, str) and RELEASE.fullmatch(checkout) else None
    )
    commit = state.get("commit")
    return {"release": release, "commit": commit if isinstance(commit, str) else None}


def baseline_line(baseline: dict[str, str | None] | None) -> str:
    if baseline is None:
        return "Baseline release: unknown (no .cruft.json)"
    commit = (baseline["commit"] or "unknown")[:12]
    release = baseline["release"] or "unknown release"
    return f"Baseline release: {release} (template commit {commit})"


def effective_policy() -> dict[str, Any]:
    """Everything a security review asks about, from the running app's own state."""
    state = current_app.extensions["security"]
    config = current_app.config
    views = {}
    for endpoint, prepared in sorted(state.views.items()):
        extension = prepared.extension
        views[endpoint] = {
            "rules": sorted(
                rule.rule
                for rule in current_app.url_map.iter_rules()
                if rule.endpoint == endpoint
            ),
            "override": {
                "csp_extend": dict(extension.csp_extend),
                "permissions_allow": dict(extension.permissions_allow),
                "frame_ancestors": list(extension.frame_ancestors or []),
                "cross_origin_protection": extension.cross_origin_protection,
            },
            "csp_extended": extended(prepared.policy.csp_extended),
            "https": dict(prepared.policy.https),
            "http": dict(prepared.policy.http),
        }
    default = state.default.policy
    return {
        "https": dict(default.https),
        "http": dict(default.http),
        # What a page that calls csp_nonce() gets instead, over HTTPS.
        "with_nonce": {
            name: value.replace(NONCE_SLOT, NONCE_SHOWN)
            for name, value in default.nonce_https
        },
        "settings": {
            key: config.get(key)
            for key, unchanged in EXTENSION_SETTINGS.items()
            if config.get(key) not in (None, unchanged)
        },
        "csp_extended": extended(default.csp_extended),
        "exceptions": dict(state.exceptions_used),
        "cross_origin": cross_origin_rule(),
        "overrides": views,
        # Where the checkout keeps it: src/<package>/ is two below the project.
        "baseline": baseline_release(Path(current_app.root_path).parents[1]),
    }


def cross_origin_rule() -> dict[str, Any]:
    """Who may send requests but GET, HEAD and OPTIONS from another origin's page."""
    rule = current_app.extensions[CROSS_ORIGIN]
    past = sorted(endpoint for endpoint, yes in rule.past.items() if yes and endpoint)
    return {
        "protection": rule.on,
        "trusted_origins": list(rule.trusted),
        "views_past_the_rule": {
            endpoint: sorted(
                r.rule
                for r in current_app.url_map.iter_rules()
                if r.endpoint == endpoint
            )
            for endpoint in past
        },
    }


def cross_origin_text(rule: dict[str, Any]) -> list[str]:
    if not rule["protection"]:
        return ["Cross-origin requests: not refused (CROSS_ORIGIN_PROTECTION = False)"]
    lines = [
        "Cross-origin requests: any but GET, HEAD and OPTIONS from another "
        "origin's page is refused (403)",
        f"  trusted origins: {' '.join(rule['trusted_origins']) or 'none'}",
        "  views past the rule:",
    ]
    lines += [
        f"    {endpoint} {' '.join(rules)}"
        for endpoint, rules in rule["views_past_the_rule"].items()
    ] or ["    none"]
    return lines


def headers_text(title: str, headers: dict[str, str]) -> list[str]:
    return [title, *(f"  {name}: {value}" for name, value in headers.items())]


@security_cli.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@with_appcontext
def show(as_json: bool) -> None:
    """Print the effective policy: headers, settings, exceptions, overrides."""
    policy = effective_policy()
    if as_json:
        click.echo(json.dumps(policy, indent=2))
        return
    lines = headers_text("Headers over HTTPS:", policy["https"])
    lines += headers_text("Headers over HTTP:", policy["http"])
    lines += headers_text(
        "On a page that calls csp_nonce(), over HTTPS:", policy["with_nonce"]
    )
    lines.append("Settings that extend the baseline:")
    lines += [f"  {k} = {json.dumps(v)}" for k, v in policy["settings"].items()] or [
        "  none"
    ]
    if policy["csp_extended"]:
        lines.append(
            "CSP directives CSP_EXTEND changes (one the baseline leaves out starts "
            "from its fallback; 'none' gives way to what is added):"
        )
        lines += extended_text(policy["csp_extended"], "  ")
    lines.append("Exceptions in use:")
    lines += [f"  {k}: {why}" for k, why in policy["exceptions"].items()] or ["  none"]
    lines += cross_origin_text(policy["cross_origin"])
    lines.append("Views with an override:")
    for endpoint, view in policy["overrides"].items():
        lines.append(
            f"  {endpoint} {' '.join(view['rules'])}: {json.dumps(view['override'])}"
        )
        lines += extended_text(view["csp_extended"], "    csp_extend ")
        for name in policy["https"] | view["https"]:
            value = view["https"].get(name, "not sent")
            if value != policy["https"].get(name):
                lines.append(f"    {name}: {value}")
    if not policy["overrides"]:
        lines.append("  none")
    lines.append(baseline_line(policy["baseline"]))
    click.echo("\n".join(lines))


security_cli.add_command(check)
