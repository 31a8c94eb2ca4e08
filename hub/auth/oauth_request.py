"""An HTTP request to the authorization server as authlib reads it, and the checks that come
before authlib: a well-formed Basic header and a form-encoded body (RFC 6749 §2.3.1, §4.4.2)."""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from collections.abc import Mapping
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from starlette.requests import Request

__all__ = [
    "AUTH_METHODS",
    "FORM",
    "FormRequest",
    "basic_client_id",
    "is_form_encoded",
    "read_request",
]

FORM = "application/x-www-form-urlencoded"
# Confidential clients only (RFC 6749 §2.3.1): the secret in a Basic header or in the form.
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
_PLAIN_NAME = re.compile(r"[a-z_]{1,40}")


class _FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._data = dict(items)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """A Starlette request as authlib reads it: method, URI, headers and the form, read ahead."""

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], form: list[tuple[str, str]]
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = _FormPayload(form)
        self._form = dict(form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form

    def repeated(self) -> str | None:
        """A parameter sent more than once (RFC 6749 §3.2 forbids it), named when it is a plain
        name; None when each comes once."""
        for name, values in self.payload.datalist.items():
            if len(values) > 1:
                return name if _PLAIN_NAME.fullmatch(name) else "a parameter"
        return None

    def claimed_client_id(self) -> str | None:
        """The client id the request names, authenticated or not (Basic header, else form)."""
        try:
            return basic_client_id(self.headers) or self._form.get("client_id") or None
        except ValueError:
            return None

    def has_credentials(self) -> bool:
        """Whether it carries a client id and a secret, by either method."""
        if self._form.get("client_id") and self._form.get("client_secret"):
            return True
        try:
            return basic_client_id(self.headers) is not None
        except ValueError:
            return False


async def read_request(request: Request, issuer: str) -> FormRequest:
    """Read the form ahead, in the event loop. Raises InsecureTransportError for a plain http
    issuer on a non-loopback host."""
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    # Starlette's Headers, not a dict: authlib asks for "Authorization" in that case.
    return FormRequest(request.method, issuer + request.url.path, request.headers, items)


def is_form_encoded(request: Request) -> bool:
    media = request.headers.get("content-type", "").partition(";")[0]
    return media.strip().lower() == FORM


def basic_client_id(headers: Mapping[str, str]) -> str | None:
    """The client id of a well-formed Basic header; None when absent. Raises on a bad one."""
    value = headers.get("authorization")
    if not value or not value.lower().startswith("basic"):
        return None
    try:
        decoded = base64.b64decode(value[5:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("malformed Basic credentials") from exc
    client_id, colon, _ = decoded.partition(":")
    if not colon or not client_id:
        raise ValueError("malformed Basic credentials")
    return unquote(client_id)
