"""The CardDAV requests the contacts source needs, over httpx (the ``caldav`` library speaks
CalDAV only): discovery (RFC 6764 / 6352), ``sync-collection`` (RFC 6578), a PROPFIND
etag listing where sync is not offered, and ``addressbook-multiget``.

Answers are WebDAV multistatus XML, read with the standard library's ElementTree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx

from ingest_pipeline.sources.base import CredentialsRevoked, SourceError
from ingest_pipeline.sources.dav.dav_endpoint import DavEndpoint

DAV = "{DAV:}"
CARD = "{urn:ietf:params:xml:ns:carddav}"
CS = "{http://calendarserver.org/ns/}"
_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"'
MULTIGET_SIZE = 100


class SyncTokenRefused(Exception):
    """The server no longer accepts the saved sync token (RFC 6578 ``valid-sync-token``)."""


class SyncNotOffered(Exception):
    """The address book does not answer ``sync-collection``."""


@dataclass(frozen=True)
class AddressBook:
    """One address book: its path, display name, and change tokens (empty when not offered)."""

    path: str
    name: str
    sync_token: str
    ctag: str


@dataclass(frozen=True)
class Member:
    """A card in a listing: its path and etag, or ``removed`` (a sync answer's 404)."""

    path: str
    etag: str
    removed: bool = False


@dataclass(frozen=True)
class SyncAnswer:
    """One ``sync-collection`` answer: the cards changed or removed, the new token, and
    whether the server cut the answer short (507: ask again with the new token)."""

    members: list[Member]
    token: str
    truncated: bool


class CardDavClient:
    """An HTTP session signed in to one CardDAV account."""

    def __init__(self, endpoint: DavEndpoint, user: str, password: str) -> None:
        self.endpoint = endpoint
        self.user = user
        self.base = endpoint.checked_url()
        self._http = httpx.Client(
            auth=(user, password),
            verify=endpoint.verify,
            timeout=endpoint.timeout_seconds,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._http.close()

    # -- discovery ------------------------------------------------------------------------

    def address_books(self) -> list[AddressBook]:
        """Every address book in the user's address-book home, by path."""
        principal = self._href_prop(self.base, DAV + "current-user-principal")
        home = self._href_prop(principal or self.base, CARD + "addressbook-home-set")
        if home is None:
            raise SourceError(
                f"{self.endpoint.url} names no CardDAV address-book home for {self.user} "
                "(is it a CardDAV server's URL?)"
            )
        body = (
            f"{_HEAD}<D:propfind {_NS}><D:prop><D:resourcetype/><D:displayname/>"
            "<D:sync-token/><CS:getctag/></D:prop></D:propfind>"
        )
        books = []
        for path, props in self._multistatus(self._request("PROPFIND", home, body, depth="1")):
            kind = props.get(DAV + "resourcetype")
            if kind is None or kind.find(CARD + "addressbook") is None:
                continue
            books.append(
                AddressBook(
                    path=path,
                    name=_text(props.get(DAV + "displayname")),
                    sync_token=_text(props.get(DAV + "sync-token")),
                    ctag=_text(props.get(CS + "getctag")),
                )
            )
        return sorted(books, key=lambda b: b.path)

    # -- listing --------------------------------------------------------------------------

    def sync(self, book: AddressBook, token: str) -> SyncAnswer:
        """The cards changed (and removed) since ``token`` ("" for all of them)."""
        body = (
            f"{_HEAD}<D:sync-collection {_NS}><D:sync-token>{_escape(token)}</D:sync-token>"
            "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
        )
        answer = self._request("REPORT", book.path, body, depth="0", expect_refusal=True)
        if answer.status_code in (403, 409) and b"valid-sync-token" in answer.content:
            raise SyncTokenRefused(book.path)
        if answer.status_code in (400, 403, 405, 501):
            raise SyncNotOffered(f"{book.path}: {answer.status_code}")
        _raise_for(answer, self.endpoint, self.user)
        root = _parse(answer)
        members, truncated = [], False
        for response in root.iter(DAV + "response"):
            path = _href(response)
            status = _status(response.find(DAV + "status"))
            if path.rstrip("/") == book.path.rstrip("/"):
                truncated = truncated or status == 507
                continue
            if status == 404:
                members.append(Member(path, "", removed=True))
                continue
            etag = _text(response.find(f"{DAV}propstat/{DAV}prop/{DAV}getetag"))
            members.append(Member(path, etag))
        new_token = _text(root.find(DAV + "sync-token"))
        return SyncAnswer(members=members, token=new_token, truncated=truncated)

    def etags(self, book: AddressBook) -> list[Member]:
        """Every card of ``book`` with its etag (a PROPFIND of depth 1)."""
        body = (
            f"{_HEAD}<D:propfind {_NS}><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>"
        )
        members = []
        for path, props in self._multistatus(self._request("PROPFIND", book.path, body, depth="1")):
            kind = props.get(DAV + "resourcetype")
            if path.rstrip("/") == book.path.rstrip("/") or (
                kind is not None and kind.find(DAV + "collection") is not None
            ):
                continue
            members.append(Member(path, _text(props.get(DAV + "getetag"))))
        return members

    # -- fetching -------------------------------------------------------------------------

    def multiget(self, book_path: str, paths: Sequence[str]) -> dict[str, bytes | int]:
        """Each card's vCard bytes, or the HTTP status the server gave for it."""
        found: dict[str, bytes | int] = {}
        for at in range(0, len(paths), MULTIGET_SIZE):
            hrefs = "".join(
                f"<D:href>{_escape(_quoted(p))}</D:href>" for p in paths[at : at + MULTIGET_SIZE]
            )
            body = (
                f"{_HEAD}<C:addressbook-multiget {_NS}><D:prop><D:getetag/><C:address-data/>"
                f"</D:prop>{hrefs}</C:addressbook-multiget>"
            )
            answer = self._request("REPORT", book_path, body, depth="1")
            for response in _parse(answer).iter(DAV + "response"):
                path = _href(response)
                data = response.find(f"{DAV}propstat/{DAV}prop/{CARD}address-data")
                if data is not None and data.text:
                    found[path] = data.text.encode("utf-8")
                else:
                    status = _status(response.find(DAV + "status"))
                    found[path] = status or _status(response.find(f"{DAV}propstat/{DAV}status"))
        return found

    # -- plumbing -------------------------------------------------------------------------

    def _href_prop(self, url: str, prop: str) -> str | None:
        body = f"{_HEAD}<D:propfind {_NS}><D:prop><{_short(prop)}/></D:prop></D:propfind>"
        for _, props in self._multistatus(self._request("PROPFIND", url, body, depth="0")):
            element = props.get(prop)
            href = element.find(DAV + "href") if element is not None else None
            if href is not None and href.text:
                return urljoin(self.base, href.text.strip())
        return None

    def _request(
        self, method: str, url: str, body: str, *, depth: str, expect_refusal: bool = False
    ) -> httpx.Response:
        answer = self._http.request(
            method,
            urljoin(self.base, _quoted(url)),
            content=body.encode("utf-8"),
            headers={"Depth": depth, "Content-Type": 'application/xml; charset="utf-8"'},
        )
        if not expect_refusal or answer.status_code in (401,) or answer.status_code >= 500:
            _raise_for(answer, self.endpoint, self.user)
        return answer

    def _multistatus(self, answer: httpx.Response) -> Iterator[tuple[str, dict[str, ET.Element]]]:
        """Each response's path and its properties that came back 200."""
        for response in _parse(answer).iter(DAV + "response"):
            props: dict[str, ET.Element] = {}
            for propstat in response.iter(DAV + "propstat"):
                if _status(propstat.find(DAV + "status")) not in (200, 0):
                    continue
                prop = propstat.find(DAV + "prop")
                for element in prop if prop is not None else []:
                    props[element.tag] = element
            yield _href(response), props


def _raise_for(answer: httpx.Response, endpoint: DavEndpoint, user: str) -> None:
    if answer.status_code == 401:
        raise CredentialsRevoked(
            f"the CardDAV server {endpoint.url} refused the login of {user}; give the "
            "integration a new (app) password"
        )
    if answer.status_code == 404:
        raise SourceError(f"the CardDAV server has no {answer.request.url}")
    answer.raise_for_status()


def _parse(answer: httpx.Response) -> ET.Element:
    try:
        return ET.fromstring(answer.content)
    except ET.ParseError as exc:
        raise SourceError(
            f"the CardDAV server answered {answer.request.method} {answer.request.url} with "
            f"something that is not XML: {exc}"
        ) from exc


def _href(response: ET.Element) -> str:
    return unquote(urlsplit(_text(response.find(DAV + "href"))).path)


def _status(element: ET.Element | None) -> int:
    """The code of an ``HTTP/1.1 404 Not Found`` status line; 0 when absent."""
    parts = _text(element).split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _short(tag: str) -> str:
    prefix = {DAV: "D:", CARD: "C:", CS: "CS:"}
    for namespace, short in prefix.items():
        if tag.startswith(namespace):
            return short + tag[len(namespace) :]
    raise ValueError(tag)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(path: str) -> str:
    if "://" in path:
        return path
    return quote(path, safe="/@:+!$&'()*,;=~")
