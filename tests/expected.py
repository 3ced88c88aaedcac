"""The headers the template promises, written out by hand.

Written here rather than computed by the code under test, so that a change to
what a baked service sends shows up as a change to these literals.
"""

CSP_SELF = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'self'"
)
CSP_NONE = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Added to the CSP over HTTPS only: over plain HTTP it would break the page's loads.
UPGRADE = "; upgrade-insecure-requests"
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
