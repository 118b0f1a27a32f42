"""Masking of MongoDB URIs: no credential is ever shown, logged or stored.

Masking never relies on the URI being valid: everything between the scheme and the *last* `@` is
treated as credentials (a password may hold an unescaped `/`, `@` or `?`), and the value of every
option whose name suggests a secret (`password`, `proxyPassword`, `authMechanismProperties`...) is hidden.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

_SCHEME = re.compile(r"(?i)^mongodb(?:\+srv)?://")
_OPTION = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#?]*)=(?P<value>[^&;#]*)")
_SECRET_NAME = re.compile(r"(?i)pass|pwd|secret|token|credential|authmechanismproperties|signature|apikey")
_URI_IN_TEXT = re.compile(r"(?i)mongodb(?:\+srv)?://[^\s'\"<>`]*")
# `scheme://user:password@` of any scheme (postgresql://, amqp://, https://...), as written in a text
_ANY_USERINFO = re.compile(r"(?i)\b(?P<head>[a-z][a-z0-9+.-]*://[^\s:/?#@'\"<>`]*):(?P<pw>[^\s@'\"<>`]+)@")
_UNSAFE_USER = set("/?#[]@ ")


def _split(uri: str) -> tuple[str, str | None, str]:
    """(scheme, userinfo or None, the rest after the last '@')."""
    match = _SCHEME.match(uri)
    if not match:
        return "", None, uri
    rest = uri[match.end():]
    at = rest.rfind("@")
    if at < 0:
        return match.group(), None, rest
    return match.group(), rest[:at], rest[at + 1:]


def _mask_options(text: str) -> str:
    return _OPTION.sub(lambda m: f"{m.group('lead')}{m.group('name')}=***" if _SECRET_NAME.search(m.group("name"))
                       else m.group(), text)


def mask_uri(uri: str) -> str:
    """`mongodb://user:pw@host/db` -> `mongodb://user:***@host/db`; secret options become `***` too."""
    if uri == "embedded":
        return uri
    scheme, userinfo, rest = _split(uri)
    if userinfo is None:
        return scheme + _mask_options(rest)
    user = userinfo.split(":", 1)[0]
    shown = f"{user}:***" if user and not (_UNSAFE_USER & set(user)) else "***"
    return f"{scheme}{shown}@{_mask_options(rest)}"


def uri_password(uri: str) -> str | None:
    """The password written in a URI (percent-decoded), so it can be scrubbed from any text."""
    _scheme, userinfo, _rest = _split(uri)
    if not userinfo or ":" not in userinfo:
        return None
    return unquote(userinfo.split(":", 1)[1]) or None


def uri_secrets(uri: str) -> list[str]:
    """Every secret a URI holds: its password and the values of secret-like options, as written and decoded."""
    found: list[str] = []
    _scheme, userinfo, rest = _split(uri)
    if userinfo and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    for match in _OPTION.finditer(rest):
        if _SECRET_NAME.search(match.group("name")):
            found.append(match.group("value"))
    result: list[str] = []
    for secret in found:
        for variant in (secret, unquote(secret)):
            if variant and variant not in result:
                result.append(variant)
    return result


def scrub_uris(text: str) -> str:
    """Mask every MongoDB URI that appears in `text` (driver messages, tracebacks)."""
    return _URI_IN_TEXT.sub(lambda m: mask_uri(m.group()), text) if "://" in text else text


def mask_passwords(text: str) -> str:
    """Mask every URI password in `text`, whatever the scheme (`postgresql://u:pw@h` -> `postgresql://u:***@h`);
    MongoDB URIs as `mask_uri` does (a password may hold `/`, `@` or `?`, secret options are hidden)."""
    if "://" not in text:
        return text
    return _ANY_USERINFO.sub(lambda m: f"{m.group('head')}:***@", scrub_uris(text))


def scrub(text: str, secrets: list[str]) -> str:
    """Replace every known secret in `text` by `***`, and mask any URI in it (defence in depth)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return scrub_uris(text)
