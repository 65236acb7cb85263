"""One mailbox's Outlook contacts: the default Contacts folder, named ``contactFolders``
beneath it, and ``contact`` resources with ``changeKey``/``@odata.etag`` that change on every
update (so delta shows an updated contact again, in full).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest_pipeline_tests.fakes.graph_wire import GraphError, change_key, graph_time, opaque_id

# Every property Graph returns for a contact, with the value it has when not set.
CONTACT_DEFAULTS: dict[str, Any] = {
    "categories": [],
    "birthday": None,
    "fileAs": "",
    "displayName": "",
    "givenName": None,
    "initials": None,
    "middleName": None,
    "nickName": None,
    "surname": None,
    "title": None,
    "yomiGivenName": None,
    "yomiSurname": None,
    "yomiCompanyName": None,
    "generation": None,
    "imAddresses": [],
    "jobTitle": None,
    "companyName": None,
    "department": None,
    "officeLocation": None,
    "profession": None,
    "businessHomePage": None,
    "assistantName": None,
    "manager": None,
    "homePhones": [],
    "mobilePhone": None,
    "businessPhones": [],
    "spouseName": None,
    "personalNotes": "",
    "children": [],
    "emailAddresses": [],
    "homeAddress": {},
    "businessAddress": {},
    "otherAddress": {},
}
_SERVER_OWNED = frozenset(
    {"id", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId"}
)


@dataclass(frozen=True)
class ContactFolder:
    id: str
    display_name: str
    parent_id: str

    def resource(self) -> dict[str, Any]:
        return {"id": self.id, "displayName": self.display_name, "parentFolderId": self.parent_id}


@dataclass
class StoredContact:
    id: str
    folder_id: str
    fields: dict[str, Any]
    created: dt.datetime
    modified: dt.datetime
    change_key: str
    sequence: int
    deleted: bool = False

    def resource(self) -> dict[str, Any]:
        return {
            "@odata.etag": f'W/"{self.change_key}"',
            "id": self.id,
            "createdDateTime": graph_time(self.created),
            "lastModifiedDateTime": graph_time(self.modified),
            "changeKey": self.change_key,
            "parentFolderId": self.folder_id,
            **self.fields,
        }


@dataclass
class ContactStore:
    """Contact folders and contacts of one mailbox (callers hold the server lock)."""

    rng: random.Random
    next_sequence: Callable[[], int]
    now: Callable[[], dt.datetime]
    default_folder_id: str = ""
    folders: dict[str, ContactFolder] = field(default_factory=dict)
    contacts: dict[str, StoredContact] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.default_folder_id = opaque_id(self.rng, size=68, prefix="AQMkAD")

    def folder_id(self, ref: str | None) -> str:
        """The default folder for None, else a named folder by id (or display name)."""
        if ref is None or ref == self.default_folder_id:
            return self.default_folder_id
        if ref in self.folders:
            return ref
        for folder in self.folders.values():
            if folder.display_name == ref:
                return folder.id
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    def add_folder(self, name: str) -> str:
        for folder in self.folders.values():
            if folder.display_name == name:
                return folder.id
        folder = ContactFolder(
            opaque_id(self.rng, size=68, prefix="AQMkAD"), name, self.default_folder_id
        )
        self.folders[folder.id] = folder
        return folder.id

    def add(self, fields: dict[str, Any], folder: str | None) -> str:
        folder_id = self.default_folder_id if folder is None else self._named(folder)
        contact_id = opaque_id(self.rng)
        now = self.now()
        self.contacts[contact_id] = StoredContact(
            id=contact_id,
            folder_id=folder_id,
            fields={**CONTACT_DEFAULTS, **_client_fields(fields)},
            created=now,
            modified=now,
            change_key=change_key(self.rng),
            sequence=self.next_sequence(),
        )
        return contact_id

    def update(self, contact_id: str, fields: dict[str, Any]) -> None:
        contact = self.live(contact_id)
        contact.fields = {**contact.fields, **_client_fields(fields)}
        contact.modified = self.now()
        contact.change_key = change_key(self.rng)
        contact.sequence = self.next_sequence()

    def delete(self, contact_id: str) -> None:
        contact = self.live(contact_id)
        contact.deleted = True
        contact.sequence = self.next_sequence()

    def live(self, contact_id: str) -> StoredContact:
        contact = self.contacts.get(contact_id)
        if contact is None or contact.deleted:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return contact

    def in_folder(self, folder_id: str, *, with_deleted: bool = False) -> list[StoredContact]:
        return [
            c
            for c in self.contacts.values()
            if c.folder_id == folder_id and (with_deleted or not c.deleted)
        ]

    def _named(self, name: str) -> str:
        """A folder given to `add` by name (created on first use) or by id."""
        return name if name in self.folders else self.add_folder(name)


def _client_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CONTACT_DEFAULTS)
    if unknown & _SERVER_OWNED:
        raise ValueError(f"the server sets {sorted(unknown & _SERVER_OWNED)} itself")
    if unknown:
        raise ValueError(f"not Graph contact properties: {sorted(unknown)}")
    return dict(fields)
