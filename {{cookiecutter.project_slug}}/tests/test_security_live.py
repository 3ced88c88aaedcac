"""A deployment's headers against the floor and against what the service sends.

``security.live`` is what ``flask security check`` and the platform team's
fleet report both judge a deployment with; these are its rules on header
lists, with no server (the check's own tests serve them).
"""

from {{ cookiecutter.package_name }}.security import live, policy

CDN = {"img-src": ["https://cdn.example.com"]}
EVAL = {"script-src": ["'unsafe-eval'"]}
EVAL_EXCEPTION = {"script-src 'unsafe-eval'": "legacy chart library, SEC-4242"}


def headers(**settings) -> list[tuple[str, str]]:
    """What every page gets over https with the baked answers and ``settings``."""
    return policy.build({**policy.BAKED_ANSWERS, **settings}).https


def replaced(sent, name: str, value: str | None) -> list[tuple[str, str]]:
    """``sent`` as a proxy passes it on: ``name`` dropped, or given ``value``."""
    kept = [(n, v) for n, v in sent if n != name]
    return kept if value is None else [*kept, (name, value)]


def details(problems) -> list[str]:
    return [problem.describe() for problem in problems]


def test_the_baseline_meets_its_own_floor_and_matches_itself():
    sent = headers()
    expected = live.expected_from_policy(policy.build(policy.BAKED_ANSWERS))
    assert live.below_floor(sent, {}) == []
    assert live.assess(expected, sent, {}) == []
    assert live.verdict([]) == "ok"
    assert set(live.REQUIRED_DIRECTIVES) >= {"default-src", "object-src", "base-uri"}


def test_a_registered_exception_served_as_registered_meets_the_floor():
    sent = headers(CSP_EXTEND=EVAL, SECURITY_EXCEPTIONS=EVAL_EXCEPTION)
    assert live.below_floor(sent, EVAL_EXCEPTION) == []
    assert details(live.below_floor(sent, {})) == [
        "Content-Security-Policy: script-src 'unsafe-eval' is below the floor "
        "and not a registered exception"
    ]


def test_a_proxys_csp_with_unsafe_inline_is_below_the_floor_and_named_once():
    sent = headers(CSP_EXTEND=CDN)
    expected = live.expected_from_policy(
        policy.build({**policy.BAKED_ANSWERS, "CSP_EXTEND": CDN})
    )
    weakened = replaced(
        sent,
        "Content-Security-Policy",
        "default-src 'self' 'unsafe-inline'; object-src 'none'",
    )
    problems = live.assess(expected, weakened, EVAL_EXCEPTION)
    assert live.verdict(problems) == "below-floor"
    described = details(problems)
    assert (
        "Content-Security-Policy: default-src 'unsafe-inline' is below the floor and not a registered exception"
        in described
    )
    assert "Content-Security-Policy: no base-uri, which the floor requires" in described
    assert not [d for d in described if d.startswith("Content-Security-Policy is ")]


def test_a_stripped_csp_is_missing_below_the_floor():
    problems = live.assess(
        None, replaced(headers(), "Content-Security-Policy", None), {}
    )
    assert details(problems) == ["Content-Security-Policy missing"]
    assert problems[0].floor


def test_a_different_referrer_policy_differs_and_a_views_cache_control_does_not():
    expected = live.expected_from_policy(policy.build(policy.BAKED_ANSWERS))
    ours = dict(headers())["Referrer-Policy"]
    sent = replaced(headers(), "Referrer-Policy", "unsafe-url")
    sent = replaced(sent, "Cache-Control", "public, max-age=60")
    problems = live.assess(expected, sent, {})
    assert live.verdict(problems) == "differs"
    assert [(p.header, p.kind) for p in problems] == [("Referrer-Policy", "different")]
    assert problems[0].describe("its repository says") == (
        f"Referrer-Policy is 'unsafe-url', its repository says {ours!r}"
    )


def test_a_pages_nonce_is_what_the_service_sends_and_meets_the_floor():
    built = policy.build(policy.BAKED_ANSWERS)
    expected = live.expected_from_policy(built)
    (nonce_csp,) = [v for n, v in built.nonce_https if n == "Content-Security-Policy"]
    sent = replaced(
        headers(), "Content-Security-Policy", nonce_csp.replace("\n", "cmFuZG9t")
    )
    assert live.assess(expected, sent, {}) == []


def test_hsts_below_the_baked_answers_is_below_the_floor_unless_registered():
    hsts = "Strict-Transport-Security"
    without = replaced(headers(), hsts, None)
    assert live.below_floor(without, {"HSTS=false": "r"}) == []
    assert live.below_floor(without, {}, https=False) == []  # never sent over http
    if not policy.BAKED_HSTS:
        assert live.below_floor(without, {}) == []
        return
    assert details(live.below_floor(without, {})) == [f"{hsts} missing"]
    if policy.BAKED_HSTS_MAX_AGE > 0:
        age = policy.BAKED_HSTS_MAX_AGE - 1
        baked = dict(headers())[hsts]
        shorter = replaced(
            headers(), hsts, baked.replace(f"max-age={age + 1}", f"max-age={age}")
        )
        assert details(live.below_floor(shorter, {})) == [
            f"{hsts}: max-age={age} is below the floor and not a registered exception"
        ]
        assert live.below_floor(shorter, {f"HSTS_MAX_AGE={age}": "r"}) == []


def test_framing_and_permissions_below_the_baked_answers():
    sameorigin = replaced(headers(), "X-Frame-Options", "SAMEORIGIN")
    starred = replaced(headers(), "Permissions-Policy", "camera=*")
    if policy.BAKED_FRAME_POLICY == "DENY":
        assert details(live.below_floor(sameorigin, {})) == [
            "X-Frame-Options: SAMEORIGIN is below the floor and not a registered exception"
        ]
    else:
        assert live.below_floor(sameorigin, {}) == []
    described = details(live.below_floor(starred, {}))
    assert (
        "Permissions-Policy: camera=* is below the floor and not a registered exception"
        in described
    )
    assert "Permissions-Policy: microphone not listed (browsers allow it)" in described


TRUSTED_TYPES = "; require-trusted-types-for 'script'; trusted-types 'none'"


def test_a_csp_without_trusted_types_is_below_the_floor_unless_switched_off():
    csp = dict(headers())["Content-Security-Policy"]
    without = replaced(
        headers(), "Content-Security-Policy", csp.replace(TRUSTED_TYPES, "")
    )
    assert details(live.below_floor(without, {})) == [
        "Content-Security-Policy: no require-trusted-types-for 'script' is below "
        "the floor and not a registered exception",
        "Content-Security-Policy: no trusted-types is below the floor and not a "
        "registered exception",
    ]
    assert live.below_floor(without, {"TRUSTED_TYPES=false": "a trial"}) == []


def test_any_policy_name_for_trusted_types_is_below_the_floor_unless_registered():
    csp = dict(headers())["Content-Security-Policy"]
    wildcard = csp.replace("trusted-types 'none'", "trusted-types app *")
    sent = replaced(headers(), "Content-Security-Policy", wildcard)
    assert details(live.below_floor(sent, {})) == [
        "Content-Security-Policy: trusted-types * is below the floor and not a "
        "registered exception"
    ]
    assert live.below_floor(sent, {"trusted-types *": "a vendor's widget"}) == []


def test_an_integrity_policy_that_blocks_no_script_is_below_the_floor():
    for value, found in (
        (None, ["Integrity-Policy missing"]),
        (
            "blocked-destinations=(style)",
            [
                "Integrity-Policy: 'blocked-destinations=(style)' does not block "
                "scripts without integrity is below the floor and not a "
                "registered exception"
            ],
        ),
        ("endpoints=(csp), blocked-destinations=(script)", []),
    ):
        sent = replaced(headers(), "Integrity-Policy", value)
        assert details(live.below_floor(sent, {})) == found, value
        assert live.below_floor(sent, {"INTEGRITY_POLICY=false": "a trial"}) == []
