"""Interactions from one partition of mail: a row per stored message and person other than
the account, with direction, thread and why it is no relationship when it is not.

A partition's rows are rewritten to match its messages exactly: a re-run with nothing new
writes nothing, a message gone from the partition loses its rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest_pipeline.derived.mail_people import MailPeople, mail_people, own_addresses
from ingest_pipeline.domain import Address, ParsedMessage
from ingest_pipeline.store import interactions
from ingest_pipeline.store.ledger import PartitionKey, in_partition
from ingest_pipeline.store.models import IngestItem, Integration, Message, ParsedItemRow
from ingest_pipeline.streams.registry import get_stream

MAIL = "mail"
OWN_ADDRESSES_OPTION = "own_addresses"


@dataclass(frozen=True)
class StoredMessage:
    """A message stored from one ledger item of the partition, with what its parse said."""

    external_id: str
    received_at: dt.datetime | None
    people: MailPeople


def _parsed_by_hash(session: Session, hashes: set[str]) -> dict[str, ParsedMessage]:
    """Each raw hash's parse result, the current parser's when stored, else an older one."""
    current = get_stream(MAIL).parser_version
    found: dict[str, tuple[bool, ParsedMessage]] = {}
    if not hashes:
        return {}
    rows = session.execute(
        sa.select(ParsedItemRow.content_hash, ParsedItemRow.parser_version, ParsedItemRow.data)
        .where(ParsedItemRow.content_hash.in_(hashes))
        .order_by(ParsedItemRow.parser_version)
    )
    for content_hash, version, data in rows:
        is_current = version == current
        if content_hash in found and found[content_hash][0] and not is_current:
            continue
        try:
            found[content_hash] = (is_current, ParsedMessage.from_json(data))
        except (KeyError, TypeError, ValueError):
            continue
    return {h: parsed for h, (_, parsed) in found.items()}


def _from_columns(message: Message) -> ParsedMessage:
    """What the messages table alone says (no parse result kept): sender and recipients."""
    return ParsedMessage(
        message_id=message.message_key if message.message_key.startswith("<") else None,
        subject=message.subject,
        sender=Address(message.sender_name or "", message.sender_email)
        if message.sender_email
        else None,
        to=tuple(Address("", e) for e in message.recipients or []),
        cc=(),
        date=message.sent_at,
        in_reply_to=None,
        body_text="",
        body_html_present=False,
    )


def stored_messages(
    session: Session, integration: Integration, part: PartitionKey
) -> list[StoredMessage]:
    """The partition's stored messages with their people, in ledger order."""
    own = own_addresses(integration.account, integration.options.get(OWN_ADDRESSES_OPTION, ()))
    rows = session.execute(
        sa.select(Message, IngestItem.external_id, IngestItem.received_at)
        .join(IngestItem, IngestItem.id == Message.source_item_id)
        .where(in_partition(part))
        .order_by(IngestItem.id)
    ).all()
    parsed = _parsed_by_hash(session, {m.content_hash for m, _, _ in rows})
    return [
        StoredMessage(
            external_id=external_id,
            received_at=received_at or message.received_at,
            people=mail_people(parsed.get(message.content_hash) or _from_columns(message), own),
        )
        for message, external_id, received_at in rows
    ]


def derive_mail_interactions(
    session: Session, integration: Integration, day: dt.date
) -> Counter[str]:
    """Make the partition's mail interactions match its stored messages; returns
    ``interactions_inserted``/``_updated``/``_deleted``, ``messages``, ``people`` and
    ``automated`` (rows that are no relationship)."""
    part = PartitionKey(integration_id=integration.id, day=day, stream=MAIL)
    messages = stored_messages(session, integration, part)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    participants = [
        interactions.Participant(
            external_id=m.external_id,
            email=person.email,
            role=person.role,
            occurred_at=m.people.occurred_at or m.received_at or midnight,
            title=m.people.title,
            direction=m.people.direction,
            thread_key=(m.people.thread_key or "")[:512] or None,
            automated=person.automated,
            display_name=person.name or None,
        )
        for m in messages
        for person in m.people.people
    ]
    # Every item of the partition: one whose message is gone (removed, now a duplicate)
    # loses its rows.
    external_ids = list(
        session.scalars(sa.select(IngestItem.external_id).where(in_partition(part)))
    )
    changed = interactions.replace_for_items(
        session,
        tenant_id=integration.tenant_id,
        integration_id=integration.id,
        stream=MAIL,
        kind="email",
        external_ids=external_ids,
        participants=participants,
    )
    counts: Counter[str] = Counter(
        {f"interactions_{name}": value for name, value in changed.items()}
    )
    counts["messages"] = len(messages)
    counts["people"] = len({p.email for p in participants})
    counts["automated"] = sum(1 for p in participants if p.automated)
    return counts
