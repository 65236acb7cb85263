"""Who took part in one email, as the account sees it: the people other than the account,
each with their role, the message's direction and thread, and whether it is a relationship.

Pure: the store-facing code (`mail_interactions`) reads messages and writes the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ingest_pipeline.derived.display_names import clean_display_name, machine_reason, role_reason
from ingest_pipeline.domain import Address, ParsedMessage
from ingest_pipeline.streams.contacts.email_address import normalize_email

INBOUND = "inbound"
OUTBOUND = "outbound"


@dataclass(frozen=True)
class MailPerson:
    """One person (not the account) in one message: normalised address, cleaned name,
    role (``from``, ``to``, ``cc``), and why it is no relationship (None when it is one)."""

    email: str
    name: str
    role: str
    automated: str | None


@dataclass(frozen=True)
class MailPeople:
    """The people of one message and what holds for all of them."""

    direction: str
    thread_key: str | None
    occurred_at: dt.datetime | None
    title: str
    people: tuple[MailPerson, ...]


def own_addresses(account: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The account's own addresses, normalised: its account name when that is an address,
    and the ``own_addresses`` the integration lists (aliases, send-as addresses)."""
    found = {normalize_email(a) for a in (account, *extra)}
    return frozenset(a for a in found if a)


def message_automation(message: ParsedMessage) -> str | None:
    """Why the whole message is no relationship: a bounce, an auto-reply, list or bulk
    mail (from its headers), or a machine sender; None when a person wrote it."""
    if message.automation:
        return message.automation[0]
    sender = normalize_email(message.sender.email) if message.sender else None
    return machine_reason(sender) if sender else None


def mail_people(message: ParsedMessage, own: frozenset[str]) -> MailPeople:
    """The people of ``message`` other than the account (``own``), each address once in
    its first role (from, then to, then cc); outbound when the account sent it."""
    sender = normalize_email(message.sender.email) if message.sender else None
    direction = OUTBOUND if sender is not None and sender in own else INBOUND
    whole = message_automation(message)
    people: dict[str, MailPerson] = {}
    roles: list[tuple[str, Iterable[Address]]] = [
        ("from", [message.sender] if message.sender else []),
        ("to", message.to),
        ("cc", message.cc),
    ]
    for role, addresses in roles:
        for address in addresses:
            email = normalize_email(address.email)
            if email is None or email in own or email in people:
                continue
            people[email] = MailPerson(
                email=email,
                name=clean_display_name(address.name, email),
                role=role,
                automated=whole or machine_reason(email) or role_reason(email),
            )
    return MailPeople(
        direction=direction,
        thread_key=message.thread_key,
        occurred_at=message.date,
        title=message.subject,
        people=tuple(people.values()),
    )
