"""Masking of MongoDB URIs: no credential is ever shown, logged or stored."""

from __future__ import annotations

import re

_CREDENTIALS = re.compile(r"^(?P<scheme>mongodb(?:\+srv)?://)(?P<userinfo>[^@/]*)@", re.IGNORECASE)
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:password|authMechanismProperties|tlsCertificateKeyFilePassword)=)[^&]*")


def mask_uri(uri: str) -> str:
    """`mongodb://user:pw@host/db` -> `mongodb://user:***@host/db`; other URIs unchanged but secret params."""
    if uri == "embedded":
        return uri
    match = _CREDENTIALS.match(uri)
    masked = uri
    if match:
        user = match.group("userinfo").split(":", 1)[0]
        masked = f"{match.group('scheme')}{user}:***@{uri[match.end():]}"
    return _SECRET_PARAMS.sub(r"\1***", masked)


def uri_password(uri: str) -> str | None:
    """The password written in a URI (percent-decoded), so it can be scrubbed from any text."""
    from urllib.parse import unquote

    match = _CREDENTIALS.match(uri)
    if not match or ":" not in match.group("userinfo"):
        return None
    return unquote(match.group("userinfo").split(":", 1)[1]) or None


def scrub(text: str, secrets: list[str]) -> str:
    """Replace every known secret in `text` by `***` (defence in depth for driver error messages)."""
    from urllib.parse import quote

    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text
