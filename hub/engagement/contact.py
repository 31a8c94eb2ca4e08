"""Employees' contact details, encrypted at rest with rotatable keys (Fernet).

The first key of HUB_CONTACT_KEYS encrypts; every key decrypts, so an operator rotates by
putting a new key first, running `entraide-hub engagements reseal-contacts` (every kept contact
sealed again with it), then dropping the old keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["Contact", "ContactCipher", "ContactUnreadable"]


class ContactUnreadable(Exception):
    """Sealed with a key the hub no longer holds."""


@dataclass(frozen=True, slots=True)
class Contact:
    """What the employee agreed to give the association: each part optional."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.name or self.email or self.phone)


class ContactCipher:
    def __init__(self, keys: Sequence[str]) -> None:
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys]) if keys else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, contact: Contact) -> str:
        if self._fernet is None:
            raise ContactUnreadable("no contact key is configured (HUB_CONTACT_KEYS)")
        plain = json.dumps({"name": contact.name, "email": contact.email, "phone": contact.phone})
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> Contact:
        if self._fernet is None:
            raise ContactUnreadable("no contact key is configured (HUB_CONTACT_KEYS)")
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise ContactUnreadable("sealed with a key the hub no longer holds") from exc
        return Contact(data.get("name"), data.get("email"), data.get("phone"))

    def rotate(self, sealed: str) -> str:
        """The same details sealed with the first key."""
        if self._fernet is None:
            raise ContactUnreadable("no contact key is configured (HUB_CONTACT_KEYS)")
        return self._fernet.rotate(sealed.encode()).decode()
