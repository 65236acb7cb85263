"""The Graph v1.0 resources the fake serves, one function per route, called once the server
has authenticated the caller and opened the target mailbox.

Routes (``{u}`` is ``/me`` or ``/users/{id | userPrincipalName | mail}``):

- ``user.get``: ``GET {u}``;
- ``messages.list``: ``GET {u}/messages``, ``GET {u}/mailFolders/{f}/messages``;
- ``message.get`` / ``message.value``: ``GET {u}/messages/{id}`` and ``.../{id}/$value``;
- ``messages.delta``: ``GET {u}/mailFolders/{f}/messages/delta``;
- ``mailFolders.list`` / ``mailFolder.get``: ``GET {u}/mailFolders[/{f}]``;
- ``contacts.list`` / ``contact.get`` / ``contacts.delta``: ``GET {u}[/contactFolders/{cf}]
  /contacts[/{id} | /delta]`` (the list takes ``$orderby=lastModifiedDateTime [asc|desc]``
  and ``$count=true``);
- ``contactFolders.list`` / ``contactFolder.get``: ``GET {u}/contactFolders[/{cf}]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ingest_pipeline_tests.fakes.graph_delta import DeltaSource, DeltaTokens, delta_page
from ingest_pipeline_tests.fakes.graph_mailbox import Mailbox
from ingest_pipeline_tests.fakes.graph_oauth import Principal
from ingest_pipeline_tests.fakes.graph_query import (
    decode_offset,
    next_link,
    page_size,
    parse_count,
    parse_filter,
    parse_order,
    parse_orderby,
    parse_search,
    parse_select,
    parse_top,
    select_fields,
)
from ingest_pipeline_tests.fakes.graph_wire import GraphError, Reply, json_reply

DEFAULT_DELTA_PAGE = 10
_USER = r"/v1\.0/(?:me|users/(?P<user>[^/]+))"
_MAIL_FOLDER = r"/mailFolders/(?P<folder>[^/]+)"
_CONTACT_FOLDER = r"/contactFolders/(?P<cfolder>[^/]+)"
_DELTA = r"/delta(?:\(\))?"
ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(_USER + pattern, re.IGNORECASE))
    for name, pattern in [
        ("user.get", ""),
        ("messages.list", r"(?:" + _MAIL_FOLDER + r")?/messages"),
        ("messages.delta", _MAIL_FOLDER + r"/messages" + _DELTA),
        ("messages.delta", r"/messages" + _DELTA),
        ("message.value", r"(?:" + _MAIL_FOLDER + r")?/messages/(?P<message>[^/]+)/\$value"),
        ("message.get", r"(?:" + _MAIL_FOLDER + r")?/messages/(?P<message>[^/]+)"),
        ("mailFolders.list", r"/mailFolders"),
        ("mailFolder.get", _MAIL_FOLDER),
        ("contacts.delta", r"(?:" + _CONTACT_FOLDER + r")?/contacts" + _DELTA),
        ("contacts.list", r"(?:" + _CONTACT_FOLDER + r")?/contacts"),
        ("contact.get", r"(?:" + _CONTACT_FOLDER + r")?/contacts/(?P<contact>[^/]+)"),
        ("contactFolders.list", r"/contactFolders"),
        ("contactFolder.get", _CONTACT_FOLDER),
    ]
]


def route(path: str) -> tuple[str, dict[str, str | None]] | None:
    """The route name and path parameters for a decoded Graph path, or None."""
    for name, pattern in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            return name, match.groupdict()
    return None


@dataclass(frozen=True)
class GraphCall:
    """One Graph call, authenticated and aimed at a mailbox (a request or a batch part)."""

    route: str
    path: str
    params: dict[str, str]
    groups: dict[str, str | None]
    headers: dict[str, str]
    principal: Principal
    mailbox: Mailbox


@dataclass
class GraphApi:
    """Route handlers; ``on_value`` hears of every ``$value`` served (for stats)."""

    base_url: str
    tokens: DeltaTokens
    on_value: Callable[[str], None]
    expired_code: Callable[[], str]

    def run(self, call: GraphCall) -> Reply:
        handlers: dict[str, Callable[[GraphCall], Reply]] = {
            "user.get": self._user_get,
            "messages.list": self._messages_list,
            "message.get": self._message_get,
            "message.value": self._message_value,
            "messages.delta": self._messages_delta,
            "mailFolders.list": self._mail_folders_list,
            "mailFolder.get": self._mail_folder_get,
            "contacts.list": self._contacts_list,
            "contact.get": self._contact_get,
            "contacts.delta": self._contacts_delta,
            "contactFolders.list": self._contact_folders_list,
            "contactFolder.get": self._contact_folder_get,
        }
        return handlers[call.route](call)

    def _user_get(self, call: GraphCall) -> Reply:
        context = {"@odata.context": f"{self.base_url}/v1.0/$metadata#users/$entity"}
        return json_reply(200, {**context, **call.mailbox.resource()})

    def _messages_list(self, call: GraphCall) -> Reply:
        store, params = call.mailbox.mail_store, call.params
        folder = call.groups.get("folder")
        search = params.get("$search")
        if search is not None and ("$filter" in params or "$orderby" in params):
            option = "$filter" if "$filter" in params else "$orderby"
            raise GraphError(
                400,
                "ErrorInvalidUrlQuery",
                f"The query parameter '{option}' is not supported with '$search'.",
            )
        select, top, offset = parse_select(params), parse_top(params), decode_offset(params)
        items = store.in_folder(store.folder(folder).id if folder else None)
        if "$filter" in params:
            received_filter = parse_filter(params["$filter"])
            items = [m for m in items if received_filter.matches(m.received)]
        if search is not None:
            keywords = parse_search(search)
            items = [m for m in items if keywords.matches(m.search_text, m.received)]
        items.sort(key=lambda m: (m.received, m.sequence), reverse=parse_orderby(params))
        value = [select_fields(m.resource(), select, "message") for m in items[offset:][:top]]
        answer: dict[str, Any] = {"@odata.context": self._context(call, "messages"), "value": value}
        if offset + top < len(items):
            answer["@odata.nextLink"] = next_link(self._url(call), params, offset + top)
        return json_reply(200, answer)

    def _message_get(self, call: GraphCall) -> Reply:
        message = call.mailbox.mail_store.live(call.groups["message"] or "")
        resource = select_fields(message.resource(), parse_select(call.params), "message")
        return json_reply(200, resource)

    def _message_value(self, call: GraphCall) -> Reply:
        message = call.mailbox.mail_store.live(call.groups["message"] or "")
        self.on_value(message.id)
        return Reply(200, message.raw, [("Content-Type", "text/plain")])

    def _messages_delta(self, call: GraphCall) -> Reply:
        folder_ref = call.groups.get("folder")
        if folder_ref is None:
            raise GraphError(
                400,
                "ErrorInvalidRequest",
                "Change tracking of messages needs a folder: use /mailFolders/{id}/messages/delta.",
            )
        store, mailbox = call.mailbox.mail_store, call.mailbox
        folder = store.folder(folder_ref)
        received_filter = parse_filter(call.params["$filter"]) if "$filter" in call.params else None

        def ordered(with_deleted: bool) -> list[Any]:
            items = store.in_folder(folder.id, with_deleted=with_deleted)
            return sorted(items, key=lambda m: m.sequence)

        def render(message_id: str, select: tuple[str, ...] | None) -> dict[str, Any] | None:
            message = store.messages[message_id]
            if message.deleted or message.folder_id != folder.id:
                return None
            return select_fields(message.resource(), select, "message")

        source = DeltaSource(
            mailbox=mailbox.key,
            collection="messages:" + folder.id,
            live_ids=lambda: [
                m.id
                for m in ordered(False)
                if received_filter is None or received_filter.matches(m.received)
            ],
            changed_since=lambda since: [m.id for m in ordered(True) if m.sequence > since],
            current=mailbox.sequence,
            render=render,
            odata_type="#microsoft.graph.message",
        )
        return self._delta(call, source)

    def _mail_folders_list(self, call: GraphCall) -> Reply:
        store = call.mailbox.mail_store
        value = [f.resource(len(store.in_folder(f.id))) for f in store.folders.values()]
        context = self._context(call, "mailFolders")
        return json_reply(200, {"@odata.context": context, "value": value})

    def _mail_folder_get(self, call: GraphCall) -> Reply:
        store = call.mailbox.mail_store
        folder = store.folder(call.groups["folder"] or "")
        return json_reply(200, folder.resource(len(store.in_folder(folder.id))))

    def _contacts_list(self, call: GraphCall) -> Reply:
        contacts, params = call.mailbox.contacts, call.params
        folder_id = contacts.folder_id(call.groups.get("cfolder"))
        select, top, offset = parse_select(params), parse_top(params), decode_offset(params)
        descending = parse_order(params, "lastModifiedDateTime", "contacts")
        counted = parse_count(params)
        items = contacts.in_folder(folder_id)
        if descending is not None:
            # Equal times (Graph's are whole seconds) fall back to the order of the changes.
            items.sort(key=lambda c: (c.modified, c.sequence), reverse=descending)
        value = [select_fields(c.resource(), select, "contact") for c in items[offset:][:top]]
        answer: dict[str, Any] = {"@odata.context": self._context(call, "contacts")}
        if counted:
            answer["@odata.count"] = len(items)
        answer["value"] = value
        if offset + top < len(items):
            answer["@odata.nextLink"] = next_link(self._url(call), params, offset + top)
        return json_reply(200, answer)

    def _contact_get(self, call: GraphCall) -> Reply:
        contact = call.mailbox.contacts.live(call.groups["contact"] or "")
        return json_reply(
            200, select_fields(contact.resource(), parse_select(call.params), "contact")
        )

    def _contacts_delta(self, call: GraphCall) -> Reply:
        contacts, mailbox = call.mailbox.contacts, call.mailbox
        folder_id = contacts.folder_id(call.groups.get("cfolder"))

        def ordered(with_deleted: bool) -> list[Any]:
            items = contacts.in_folder(folder_id, with_deleted=with_deleted)
            return sorted(items, key=lambda c: c.sequence)

        def render(contact_id: str, select: tuple[str, ...] | None) -> dict[str, Any] | None:
            contact = contacts.contacts[contact_id]
            if contact.deleted:
                return None
            return select_fields(contact.resource(), select, "contact")

        source = DeltaSource(
            mailbox=mailbox.key,
            collection="contacts:" + folder_id,
            live_ids=lambda: [c.id for c in ordered(False)],
            changed_since=lambda since: [c.id for c in ordered(True) if c.sequence > since],
            current=mailbox.sequence,
            render=render,
            odata_type="#microsoft.graph.contact",
        )
        return self._delta(call, source)

    def _contact_folders_list(self, call: GraphCall) -> Reply:
        folders = [f.resource() for f in call.mailbox.contacts.folders.values()]
        context = self._context(call, "contactFolders")
        return json_reply(200, {"@odata.context": context, "value": folders})

    def _contact_folder_get(self, call: GraphCall) -> Reply:
        contacts = call.mailbox.contacts
        folder_id = contacts.folder_id(call.groups["cfolder"] or "")
        if folder_id == contacts.default_folder_id:
            return json_reply(
                200, {"id": folder_id, "displayName": "Contacts", "parentFolderId": None}
            )
        return json_reply(200, contacts.folders[folder_id].resource())

    def _delta(self, call: GraphCall, source: DeltaSource) -> Reply:
        prefer = call.headers.get("prefer", "")
        size = page_size(prefer, default=DEFAULT_DELTA_PAGE)
        answer = delta_page(
            self.tokens,
            source,
            url=self._url(call),
            params=call.params,
            select=parse_select(call.params),
            size=size,
            expired_code=self.expired_code(),
        )
        kind = source.odata_type.rsplit(".", 1)[-1]
        context = {"@odata.context": f"{self.base_url}/v1.0/$metadata#Collection({kind})"}
        headers = [("Preference-Applied", f"odata.maxpagesize={size}")] if prefer else []
        return json_reply(200, {**context, **answer}, headers)

    def _url(self, call: GraphCall) -> str:
        return self.base_url + quote(call.path, safe="/$()'=@")

    def _context(self, call: GraphCall, what: str) -> str:
        return f"{self.base_url}/v1.0/$metadata#users('{call.mailbox.user_id}')/{what}"
