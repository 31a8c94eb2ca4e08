# hub.auth's records: clients, signing keys, revoked tokens, trusted issuers, the audit log.
from hub.storage.audit import append_audit
from hub.storage.clients import (
    client_id_of,
    client_row,
    client_rows,
    insert_client,
    update_client,
)
from hub.storage.issuers import add_trusted_issuer, trusted_issuer_rows
from hub.storage.revocations import add_revocation, is_revoked
from hub.storage.signing_keys import add_signing_key, signing_key_rows

__all__ = [
    "add_revocation",
    "add_signing_key",
    "add_trusted_issuer",
    "append_audit",
    "client_id_of",
    "client_row",
    "client_rows",
    "insert_client",
    "is_revoked",
    "signing_key_rows",
    "trusted_issuer_rows",
    "update_client",
]
