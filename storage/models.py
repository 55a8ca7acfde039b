"""The tables of DESIGN §2 that the walking skeleton needs.

Record values are kept as JSON (one dict per person) because the field catalogue is data: a new
field must not need a migration. Everything is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in and out on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ma_dinh_danh: Mapped[str] = mapped_column(String(32), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    values: Mapped[dict[str, Any]]
    source_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PersonPhone(Base):
    """Phones on a record in canonical form, so a parent or teacher can be found by phone."""

    __tablename__ = "person_phones"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    role: Mapped[str] = mapped_column(String(16))
    __table_args__ = (UniqueConstraint("person_id", "phone", "role"),)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(20))
    consent_given: Mapped[bool | None] = mapped_column(Boolean)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    #: Identifiers of the notice the person answered: its short first screen and its full text
    #: (one tap away), so the exact wording consented to can be shown later.
    consent_short_version: Mapped[str | None] = mapped_column(String(40))
    consent_full_version: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_proofs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class AccountLink(Base):
    __tablename__ = "account_links"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: Indexed: reminders and review notices go from a record to the accounts linked to it.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    proof: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("account_id", "person_id"),)


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class InboxItem(Base):
    """Every inbound update once: the unique key turns a redelivery into a no-op."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[str] = mapped_column(String(128))
    #: Who sent it and what (a serialised neutral input), for updates accepted now and processed
    #: later (webhooks); empty for updates processed in the same transaction.
    external_id: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    #: The turn worker that claimed this update (and the rest of its chat's pending ones) and
    #: until when: a second worker leaves the chat alone, a killed worker's claim runs out.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    #: Failed turns on this update, kept here so any worker knows when to give up on it.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (
        UniqueConstraint("channel", "update_id"),
        Index("ix_inbox_pending", "processed_at", "id"),
        # "Is there an older pending update of this chat?" for every claim.
        Index("ix_inbox_chat", "channel", "external_id", "processed_at", "id"),
    )


class ChangeSet(Base):
    __tablename__ = "change_sets"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    source_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    #: The verifier's verdict (DESIGN: every change set is verified before a reviewer sees it):
    #: {"verifier": name, "outcome": match|mismatch|error, "fields": {field: match|mismatch}}.
    verification: Mapped[dict[str, Any] | None]
    verified_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    exported_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_change_sets_status", "status", "id"),)


class Change(Base):
    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    change_set_id: Mapped[int] = mapped_column(ForeignKey("change_sets.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    how: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime]
    #: None until reviewed, then "approved" or "returned" (with the reviewer's reason).
    review_status: Mapped[str | None] = mapped_column(String(16))
    review_reason: Mapped[str | None] = mapped_column(Text)
    #: The source changed this field (a re-import) after the person answered it: the new source
    #: value waits here for a reviewer instead of overwriting either side.
    conflict_value: Mapped[str | None] = mapped_column(Text)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    __table_args__ = (UniqueConstraint("change_set_id", "field"),)


class OutboxItem(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    #: The export batch (file sink) this row was written into, so a batch interrupted by a crash
    #: is rewritten with the same rows and name instead of duplicated in the next one.
    batch: Mapped[str | None] = mapped_column(String(64))
    #: ``channel:external_id`` of a message for one chat (a reply): a chat's messages are
    #: claimed head first, so two senders never reorder them.
    chat: Mapped[str | None] = mapped_column(String(160))
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_chat", "chat", "status", "id"),
        # (batch, status): SQLite would otherwise pick ix_outbox_due for "batch = ? AND status
        # = ?" and scan every pending row of the outbox per batch.
        Index("ix_outbox_batch", "batch", "status"),
    )


class AuditEntry(Base):
    """Who did what, when, through which channel; details never hold personal data."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]


class Invitation(Base):
    """A one-time code handed out by the school; only its keyed hash is stored."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class AdminScope(Base):
    """An account that administers a unit (a school, an area, the department) and what is below."""

    __tablename__ = "admin_scopes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("account_id", "unit_id"),)


class AdminInvitation(Base):
    """A one-time code that makes whoever sends it admin of a unit (``hoso grant-admin --link``);
    only its keyed hash is stored, as for the people's invitations."""

    __tablename__ = "admin_invitations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class DataRequest(Base):
    """A data subject's request (correct, delete, withdraw, unlink), tracked to its deadline."""

    __tablename__ = "data_requests"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    acknowledge_by: Mapped[datetime]
    complete_by: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class AppSecret(Base):
    """Per-installation secrets kept in the shared database, so every worker uses the same."""

    __tablename__ = "app_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class Campaign(Base):
    """A run of reminders (a phase's slot, or an admin's ad hoc reminder) or of digests for unit
    heads; its deliveries are made as the run walks the accounts (``cursor``: the last account
    id it has planned), so a restart picks up where it stopped."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    #: "phase:<phase>:<deadline>:<slot>", "digest:<phase>:<deadline>" or "adhoc:<random>".
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "phase" | "adhoc" | "digest"
    phase: Mapped[str | None] = mapped_column(String(64))
    #: Who is reached: {"units": [unit ids, each with what is below it], "class": name | null};
    #: empty units = everyone.
    scope: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # running | done | expired | superseded
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Accounts passed over because nothing was due at send time, or because of a cap.
    not_due: Mapped[int] = mapped_column(Integer, default=0)
    capped: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_campaigns_status", "status", "id"),)


class Delivery(Base):
    """One message of a campaign to one account, recorded before it is sent ("sending"), then
    with its outcome: sent, retry (429 or a passing failure), blocked, failed, skipped (nothing
    due any more when retried) or unknown (the sender died between the call and the record)."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    records: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("campaign_id", "account_id"),
        Index("ix_deliveries_campaign_status", "campaign_id", "status"),
    )


class ChannelLimit(Base):
    """The shared pace of one channel (every process sending on it reserves its slots here):
    ``next_free`` is the epoch second from which the next message may go."""

    __tablename__ = "channel_limits"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    interval: Mapped[float]
    next_free: Mapped[float]


class Lease(Base):
    """A named job only one process may run at a time (the reminder scheduler)."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]


class ZaloToken(Base):
    """The Zalo OA's current token pair. The refresh token is single-use, so it is only ever
    replaced under a lock on this row, in the same transaction that stores its successor."""

    __tablename__ = "zalo_tokens"
    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    #: sha256 of the configured refresh token the chain started from: another one in the
    #: configuration (after the OA was authorized again) starts a new chain.
    seed_hash: Mapped[str] = mapped_column(String(64))
    #: Refreshes since the seed, so a broken or forked chain shows in the data.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime]


class ZaloUser(Base):
    """What the Zalo channel must remember per person: when they last wrote (Zalo lets an OA
    answer only within a window after that) and the buttons last shown (taps come back as text;
    a numbered list is answered with the number)."""

    __tablename__ = "zalo_users"
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_interaction_at: Mapped[datetime | None]
    #: {"numbered": bool, "buttons": [[label, payload], ...]}; None when the last message had none.
    menu: Mapped[dict[str, Any] | None]
    menu_at: Mapped[datetime | None]


class PhoneReach(Base):
    """One reminder by SMS or ZNS to a phone on file for a record whose person never opened
    the bot, written ("sending") BEFORE the gateway is called and marked with its outcome
    after: ``key`` (``reach:<via>:<person>:<phone>:<round>``) is unique, so one round never
    messages a number twice for a record, and it is the request id the gateway dedupes on.
    ``code_seed`` re-derives the invitation code the message carried
    (``bot.reminders.reach_codes``): only
    the invitation's hash is stored, as for slips."""

    __tablename__ = "phone_reach"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    via: Mapped[str] = mapped_column(String(8))  # "sms" | "zns"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    round: Mapped[str] = mapped_column(String(32))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL")
    )
    code_seed: Mapped[str] = mapped_column(String(64))
    #: sending | sent | failed | unknown (a crash between the call and its record, not resent
    #: unless the gateway dedupes on ``key``)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    owner: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        Index("ix_phone_reach_phone", "phone", "created_at"),
        Index("ix_phone_reach_person", "person_id", "phone"),
        Index("ix_phone_reach_status", "status", "id"),
    )


class PhoneOptOut(Base):
    """A phone number whose owner asked the school for no more SMS or ZNS reminders: never
    messaged again (``hoso remind-optout``)."""

    __tablename__ = "phone_optouts"
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
