"""The store: the only package that touches the tables (hub.storage.tables is private to it).

Others use what is exported here: the engine factory and migrations, the read repository, the
mission writer's functions (called by hub.ingest.service, the one write service), and the small
stores of partners, sync runs, persisted documents and hub.auth's records.
"""

from hub.storage.absence import absent_from, mission_count, open_external_ids
from hub.storage.audit import append_audit
from hub.storage.clients import (
    client_id_of,
    client_row,
    client_rows,
    insert_client,
    update_client,
)
from hub.storage.db import make_engine, refresh_statistics
from hub.storage.documents import add_document, all_documents, find_document
from hub.storage.expiry import ended_open_missions, expire_created, stored_statuses
from hub.storage.issuers import add_trusted_issuer, trusted_issuer_rows
from hub.storage.labels import (
    LabelMapping,
    UnmappedLabel,
    delete_mapping,
    forget_unmapped,
    label_map,
    label_maps,
    mappings,
    partner_pks,
    set_mapping,
    unmapped,
)
from hub.storage.locks import named_lock, partner_lock
from hub.storage.migrate import upgrade
from hub.storage.partners import (
    configure_partner,
    find_partner,
    last_good_snapshot_size,
    pulled_partner_rows,
    record_failure,
    record_success,
    set_last_good_snapshot_size,
)
from hub.storage.refusals import count_unmapped, record_refusals
from hub.storage.relabel import relabel_missions
from hub.storage.repository import MissionRepository
from hub.storage.revocations import add_revocation, is_revoked
from hub.storage.signing_keys import add_signing_key, signing_key_rows
from hub.storage.sync_runs import (
    AbandonedRun,
    abandoned_runs,
    beat,
    fail_abandoned,
    finish_run,
    last_runs,
    record_counts,
    run_row,
    start_run,
)
from hub.storage.writer import (
    WriteBatch,
    WriteOutcome,
    WriteResult,
    close_missions,
    ensure_partner,
    fewer_collections,
    mission_id,
    upsert_missions,
)

__all__ = [
    "AbandonedRun",
    "LabelMapping",
    "MissionRepository",
    "UnmappedLabel",
    "WriteBatch",
    "WriteOutcome",
    "WriteResult",
    "abandoned_runs",
    "absent_from",
    "add_document",
    "add_revocation",
    "add_signing_key",
    "add_trusted_issuer",
    "all_documents",
    "append_audit",
    "beat",
    "client_id_of",
    "client_row",
    "client_rows",
    "close_missions",
    "configure_partner",
    "count_unmapped",
    "delete_mapping",
    "ended_open_missions",
    "ensure_partner",
    "expire_created",
    "fail_abandoned",
    "fewer_collections",
    "find_document",
    "find_partner",
    "finish_run",
    "forget_unmapped",
    "insert_client",
    "is_revoked",
    "label_map",
    "label_maps",
    "last_good_snapshot_size",
    "last_runs",
    "make_engine",
    "mappings",
    "mission_count",
    "mission_id",
    "named_lock",
    "open_external_ids",
    "partner_lock",
    "partner_pks",
    "pulled_partner_rows",
    "record_counts",
    "record_failure",
    "record_refusals",
    "record_success",
    "refresh_statistics",
    "relabel_missions",
    "run_row",
    "set_last_good_snapshot_size",
    "set_mapping",
    "signing_key_rows",
    "start_run",
    "stored_statuses",
    "trusted_issuer_rows",
    "unmapped",
    "update_client",
    "upgrade",
    "upsert_missions",
]
