"""The headers the template promises, written out by hand.

Written here rather than computed by the code under test, so that a change to
what a baked service sends shows up as a change to these literals.
"""

# Over plain HTTP; violations are reported to the service's own receiver. Deny
# by default: 'self' by name for what a service loads, nothing for the rest.
CSP_SELF = (
    "default-src 'none'; script-src 'self' 'report-sample'; "
    "style-src 'self' 'report-sample'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'; "
    "require-trusted-types-for 'script'; trusted-types 'none'; "
    "report-uri /_security/csp-report"
)
CSP_NONE = (
    "default-src 'none'; script-src 'self' 'report-sample'; "
    "style-src 'self' 'report-sample'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'; "
    "report-uri /_security/csp-report"
)
# Added to the CSP over HTTPS only: Chromium delivers report-to only from secure
# pages (and ignores report-uri beside it), and over plain HTTP the upgrade
# would break the page's loads.
OVER_HTTPS = "; report-to csp; upgrade-insecure-requests"
# Scripts without Subresource Integrity are refused, over HTTP and HTTPS; over
# HTTPS the reports go to the csp group of Reporting-Endpoints.
INTEGRITY_POLICY = "blocked-destinations=(script)"
INTEGRITY_POLICY_OVER_HTTPS = ", endpoints=(csp)"
# Headers sent over HTTPS only, the same for every answer (HSTS depends on them).
HTTPS_ONLY = {"Reporting-Endpoints": 'csp="/_security/csp-report"'}
SAME_FOR_EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), autoplay=(), camera=(), cross-origin-isolated=(), "
        "display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), "
        "gyroscope=(), keyboard-map=(), magnetometer=(), microphone=(), midi=(), "
        "payment=(), picture-in-picture=(), publickey-credentials-get=(), "
        "screen-wake-lock=(), sync-xhr=(self), usb=(), xr-spatial-tracking=(), "
        "clipboard-read=(), clipboard-write=(), gamepad=(), hid=(), "
        "idle-detection=(), interest-cohort=(), serial=(), unload=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-DNS-Prefetch-Control": "off",
}
