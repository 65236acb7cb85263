"""A user of the fake tenant and their mailbox: identity (GUID id, user principal name, mail
address, tenant), mail, contacts, and the change sequence number delta tokens point into."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from ingest_pipeline_tests.fakes.graph_contacts import ContactStore
from ingest_pipeline_tests.fakes.graph_mail import MailStore


@dataclass
class Mailbox:
    """``key`` is the user principal name as first given (stats are keyed by it); ``tenant``
    None means every tenant's apps may open it (tests with a single tenant need not say)."""

    key: str
    user_id: str
    mail: str
    display_name: str
    tenant: str | None
    rng: random.Random
    sequence: int = 0
    mail_store: MailStore = field(init=False)
    contacts: ContactStore = field(init=False)

    def __post_init__(self) -> None:
        self.mail_store = MailStore(self.rng, self.next_sequence)
        self.contacts = ContactStore(self.rng, self.next_sequence, _now)

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    def refs(self) -> set[str]:
        """What ``/users/{ref}`` may say for this user (compared case-insensitively)."""
        return {self.key.lower(), self.mail.lower(), self.user_id.lower()}

    def resource(self) -> dict[str, Any]:
        given, _, surname = self.display_name.partition(" ")
        return {
            "businessPhones": [],
            "displayName": self.display_name,
            "givenName": given or None,
            "jobTitle": None,
            "mail": self.mail,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-US",
            "surname": surname or None,
            "userPrincipalName": self.key,
            "id": self.user_id,
        }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
