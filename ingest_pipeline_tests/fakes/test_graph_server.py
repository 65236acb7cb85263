"""The fake Microsoft Graph against the real msal (over requests) and httpx, through TLS."""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx
import msal
import pytest
import requests

from ingest_pipeline_tests.fakes.graph_server import FakeGraph, GraphFaults, GraphStats

TENANT = "contoso"
APP_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
APP_SECRET = "app-secret-value"
ANN = "ann@contoso.com"
BOB = "bob@contoso.com"
GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]
MAIL_READ = ["https://graph.microsoft.com/Mail.Read"]
DAY = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def make_raw(subject: str, body: str = "hello") -> bytes:
    message = EmailMessage()
    message["From"] = "Carol <carol@example.org>"
    message["To"] = ANN
    message["Subject"] = subject
    message["Message-ID"] = make_msgid()
    message.set_content(body)
    return message.as_bytes()


def trusting_session(graph: FakeGraph) -> requests.Session:
    """A requests session that trusts the fake's CA and nothing else."""
    session = requests.Session()
    # With trust_env, REQUESTS_CA_BUNDLE (set on these machines) silently replaces .verify.
    session.trust_env = False
    session.verify = str(graph.ca_path)
    return session


def confidential_app(
    graph: FakeGraph,
    *,
    client_id: str = APP_ID,
    secret: str = APP_SECRET,
    tenant: str = TENANT,
    session: requests.Session | None = None,
    instance_discovery: bool | str = False,
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=graph.authority(tenant),
        http_client=session or trusting_session(graph),
        instance_discovery=instance_discovery,
    )


def app_token(graph: FakeGraph) -> str:
    result = confidential_app(graph).acquire_token_for_client(GRAPH_DEFAULT)
    return str(result["access_token"])


_OPEN: list[httpx.Client] = []


def graph_client(graph: FakeGraph, token: str | None) -> httpx.Client:
    """httpx over TLS trusting only the fake's CA, closed after the test."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(
        base_url=graph.graph_url,
        verify=ssl.create_default_context(cafile=str(graph.ca_path)),
        headers=headers,
        timeout=10,
    )
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        fake.add_app(TENANT, APP_ID, APP_SECRET)
        fake.add_mailbox(ANN, tenant=TENANT)
        fake.add_mailbox(BOB, tenant=TENANT)
        yield fake
        assert fake.server_errors == []


@pytest.fixture
def app_client(graph: FakeGraph) -> httpx.Client:
    return graph_client(graph, app_token(graph))


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


class Gate:
    """A `sleep` for FakeGraph that holds every caller until opened, so a test knows exactly
    how many requests are in flight instead of racing timers."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._waiting = 0
        self._open = False

    def sleep(self, seconds: float) -> None:
        with self._condition:
            self._waiting += 1
            self._condition.notify_all()
            self._condition.wait_for(lambda: self._open, timeout=10)

    def wait_for_sleepers(self, count: int) -> None:
        with self._condition:
            assert self._condition.wait_for(lambda: self._waiting >= count, timeout=10)

    def open(self) -> None:
        with self._condition:
            self._open = True
            self._condition.notify_all()


def test_msal_gets_tokens_for_both_grants_through_tls(graph: FakeGraph) -> None:
    refresh = graph.add_delegated_user(TENANT, APP_ID, APP_SECRET, ANN)
    app = confidential_app(graph)
    app_only = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert app_only["token_type"] == "Bearer" and app_only["expires_in"] == 3599
    assert app.acquire_token_for_client(GRAPH_DEFAULT)["token_source"] == "cache"

    delegated = app.acquire_token_by_refresh_token(refresh, MAIL_READ)
    assert "access_token" in delegated, delegated
    assert delegated["refresh_token"] != refresh  # rotated, as Entra ID does
    assert delegated["id_token_claims"]["preferred_username"] == ANN
    again = app.acquire_token_by_refresh_token(delegated["refresh_token"], MAIL_READ)
    assert "access_token" in again

    me = graph_client(graph, delegated["access_token"]).get("/me")
    assert me.status_code == 200
    assert me.json()["userPrincipalName"] == ANN
    assert me.headers["request-id"] and me.headers["client-request-id"]
    user_id = me.json()["id"]
    by_guid = graph_client(graph, app_only["access_token"]).get(f"/users/{user_id}")
    assert by_guid.json() | {"@odata.context": None} == me.json() | {"@odata.context": None}

    discovered = confidential_app(graph, instance_discovery=graph.instance_discovery_url)
    assert "access_token" in discovered.acquire_token_for_client(GRAPH_DEFAULT)
    stats = graph.stats
    assert stats.token_grants == {"client_credentials": 2, "refresh_token": 2}
    assert stats.requests["instance_discovery"] == 1


def test_tls_is_verified_against_the_test_ca_only(graph: FakeGraph) -> None:
    untrusting = requests.Session()
    untrusting.trust_env = False  # the system bundle only: it does not know the test CA
    with pytest.raises(requests.exceptions.SSLError):
        confidential_app(graph, session=untrusting)
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE"):
        client.get(graph.graph_url + "/me")
    assert graph.ca_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_token_errors_have_entra_shape(graph: FakeGraph) -> None:
    refresh = graph.add_delegated_user(TENANT, APP_ID, APP_SECRET, ANN)
    app = confidential_app(graph)
    granted = app.acquire_token_by_refresh_token(refresh, MAIL_READ)
    graph.revoke_refresh_token(refresh)
    for token in (refresh, granted["refresh_token"]):  # the rotated token goes with it
        revoked = app.acquire_token_by_refresh_token(token, MAIL_READ)
        assert revoked["error"] == "invalid_grant"
        assert 70008 in revoked["error_codes"]
        assert revoked["error_description"].startswith("AADSTS70008:")
        assert {"timestamp", "trace_id", "correlation_id"} <= revoked.keys()
    still_valid = graph_client(graph, granted["access_token"]).get("/me")
    assert still_valid.status_code == 200  # issued access tokens live until they expire

    wrong = confidential_app(graph, secret="not-the-secret").acquire_token_for_client(GRAPH_DEFAULT)
    assert (wrong["error"], wrong["error_codes"]) == ("invalid_client", [7000215])
    bad_scope = confidential_app(graph).acquire_token_for_client(MAIL_READ)
    assert (bad_scope["error"], bad_scope["error_codes"]) == ("invalid_scope", [1002012])
    stranger = confidential_app(graph, client_id="unknown-app").acquire_token_for_client(
        GRAPH_DEFAULT
    )
    assert (stranger["error"], stranger["error_codes"]) == ("unauthorized_client", [700016])

    graph.revoke_app(APP_ID)
    expired = confidential_app(graph).acquire_token_for_client(GRAPH_DEFAULT)
    assert (expired["error"], expired["error_codes"]) == ("invalid_client", [7000222])
    assert graph.stats.token_grants == {"refresh_token": 1}


def test_graph_checks_token_and_mailbox_access() -> None:
    now = [1_000.0]
    with FakeGraph(clock=lambda: now[0]) as graph:
        graph.add_app(TENANT, APP_ID, APP_SECRET)
        graph.add_app("fabrikam", "fabrikam-app", "fabrikam-secret")
        graph.add_mailbox(BOB, tenant=TENANT)
        refresh = graph.add_delegated_user(TENANT, APP_ID, APP_SECRET, ANN)
        delegated = confidential_app(graph).acquire_token_by_refresh_token(refresh, MAIL_READ)
        as_ann = graph_client(graph, delegated["access_token"])

        assert as_ann.get(f"/users/{ANN}/messages").status_code == 200
        foreign = as_ann.get(f"/users/{BOB}/messages")
        assert (foreign.status_code, error_code(foreign)) == (403, "ErrorAccessDenied")
        inner = foreign.json()["error"]["innerError"]
        assert inner["request-id"] == foreign.headers["request-id"]

        anonymous = graph_client(graph, None).get("/me")
        assert (anonymous.status_code, error_code(anonymous)) == (401, "InvalidAuthenticationToken")
        assert "WWW-Authenticate" in anonymous.headers

        as_app = graph_client(graph, app_token(graph))
        unknown = as_app.get("/users/nobody@contoso.com/messages")
        assert (unknown.status_code, error_code(unknown)) == (404, "ErrorInvalidUser")
        me_as_app = as_app.get("/me")
        assert (me_as_app.status_code, error_code(me_as_app)) == (400, "BadRequest")
        fabrikam = confidential_app(
            graph, client_id="fabrikam-app", secret="fabrikam-secret", tenant="fabrikam"
        )
        other_tenant = graph_client(
            graph, fabrikam.acquire_token_for_client(GRAPH_DEFAULT)["access_token"]
        )
        assert other_tenant.get(f"/users/{BOB}").status_code == 404

        now[0] += 3600  # every token issued above has expired
        stale = as_app.get(f"/users/{BOB}")
        assert (stale.status_code, error_code(stale)) == (401, "InvalidAuthenticationToken")
        assert "expired" in stale.json()["error"]["message"]
        assert graph.server_errors == []


def test_day_window_listing_with_filter_select_top_and_paging(
    graph: FakeGraph, app_client: httpx.Client
) -> None:
    def deliver(when: dt.datetime, folder: str = "inbox") -> str:
        return graph.add_message(ANN, make_raw(f"at {when:%d %H:%M}"), when, folder)

    deliver(DAY - dt.timedelta(seconds=1))
    wanted = [
        deliver(DAY),
        deliver(DAY + dt.timedelta(hours=9)),
        deliver(DAY + dt.timedelta(hours=12)),
        deliver(DAY + dt.timedelta(hours=23, minutes=59, seconds=59)),
        deliver(DAY + dt.timedelta(hours=15), folder="archive"),
    ]
    deliver(DAY + dt.timedelta(days=1))
    assert all(
        len(mid) > 100 and mid.startswith("AAMkAD") and mid.endswith("=") and "-" in mid
        for mid in wanted
    )
    params = {
        "$filter": (
            "receivedDateTime ge 2026-11-02T00:00:00Z and receivedDateTime lt 2026-11-03T00:00:00Z"
        ),
        "$select": "id,receivedDateTime",
        "$top": "2",
        "$orderby": "receivedDateTime",
    }
    pages = []
    response = app_client.get(f"/users/{ANN}/messages", params=params)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json()["value"])
        link = response.json().get("@odata.nextLink")
        if link is None:
            break
        assert link.startswith(graph.graph_url) and "$skiptoken=" in link
        response = app_client.get(link)
    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [item for page in pages for item in page]
    by_time = [wanted[0], wanted[1], wanted[2], wanted[4], wanted[3]]
    assert [item["id"] for item in listed] == by_time
    assert all(set(item) == {"@odata.etag", "id", "receivedDateTime"} for item in listed)
    times = [item["receivedDateTime"] for item in listed]
    assert times == sorted(times) and times[0] == "2026-11-02T00:00:00Z"

    inbox_params = params | {"$top": "10"}
    inbox = app_client.get(f"/users/{ANN}/mailFolders/inbox/messages", params=inbox_params)
    assert [m["id"] for m in inbox.json()["value"]] == [wanted[0], wanted[1], wanted[2], wanted[3]]
    assert "@odata.nextLink" not in inbox.json()
    archive_id = graph.mail_folder_id(ANN, "archive")
    archived = app_client.get(f"/users/{ANN}/mailFolders/{archive_id}/messages").json()
    assert [m["id"] for m in archived["value"]] == [wanted[4]]
    newest_first = app_client.get(f"/users/{ANN}/messages", params={"$top": "1"}).json()
    assert newest_first["value"][0]["receivedDateTime"] == "2026-11-03T00:00:00Z"
    bad = app_client.get(f"/users/{ANN}/messages", params={"$filter": "subject eq 'x'"})
    assert (bad.status_code, error_code(bad)) == (400, "ErrorInvalidUrlQuery")


def test_value_returns_the_exact_bytes(graph: FakeGraph, app_client: httpx.Client) -> None:
    raw = make_raw("Grüße aus Köln", "Ünïcode body\r\nline two").replace(b"\n", b"\r\n")
    message_id = graph.add_message(ANN, raw, DAY)
    response = app_client.get(f"/users/{ANN}/messages/{message_id}/$value")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain"
    assert response.content == raw
    as_json = app_client.get(f"/users/{ANN}/messages/{message_id}").json()
    assert as_json["subject"] == "Grüße aus Köln"
    assert as_json["from"]["emailAddress"]["address"] == "carol@example.org"

    graph.delete_message(ANN, message_id)
    gone = app_client.get(f"/users/{ANN}/messages/{message_id}/$value")
    assert (gone.status_code, error_code(gone)) == (404, "ErrorItemNotFound")
    assert graph.stats.value_served == {message_id: 1}


def test_batch_of_20_values_and_21_refused(graph: FakeGraph, app_client: httpx.Client) -> None:
    raws = {}
    for n in range(20):
        raw = make_raw(f"message {n}", f"body {n}")
        raws[graph.add_message(ANN, raw, DAY + dt.timedelta(minutes=n))] = raw
    by_part = {str(n): mid for n, mid in enumerate(raws)}
    requests_ = [
        {"id": part, "method": "GET", "url": f"/users/{ANN}/messages/{mid}/$value"}
        for part, mid in by_part.items()
    ]
    response = app_client.post("/$batch", json={"requests": requests_})
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert sorted(a["id"] for a in answers) == sorted(by_part)
    for answer in answers:
        assert answer["status"] == 200
        assert answer["headers"]["Content-Type"] == "text/plain"
        assert base64.b64decode(answer["body"]) == raws[by_part[answer["id"]]]

    too_many = [*requests_, {"id": "20", "method": "GET", "url": f"/users/{ANN}"}]
    refused = app_client.post("/$batch", json={"requests": too_many})
    assert (refused.status_code, error_code(refused)) == (400, "BadRequest")
    stats = graph.stats
    assert (stats.requests["batch"], stats.batch_parts, stats.requests["message.value"]) == (
        2,
        20,
        20,
    )
    assert sum(stats.value_served.values()) == 20
    assert stats.requests_per_mailbox[ANN] == 20
    parts_seen = [target for _, target in graph.requests if target.startswith("$batch:")]
    assert len(parts_seen) == 20


def test_throttle_fault_answers_per_batch_part(graph: FakeGraph, app_client: httpx.Client) -> None:
    ids = [graph.add_message(ANN, make_raw(f"m{n}"), DAY) for n in range(20)]
    batch = {
        "requests": [
            {"id": str(n), "method": "GET", "url": f"/users/{ANN}/messages/{mid}/$value"}
            for n, mid in enumerate(ids)
        ]
    }

    def statuses() -> dict[str, int]:
        graph.faults = GraphFaults(seed=3, throttle_rate=0.4, retry_after_seconds=7)
        answers = app_client.post("/$batch", json=batch).json()["responses"]
        for answer in answers:
            if answer["status"] == 429:
                assert answer["headers"]["Retry-After"] == "7"
                assert answer["body"]["error"]["code"] == "TooManyRequests"
        return {answer["id"]: answer["status"] for answer in answers}

    first = statuses()
    assert set(first.values()) == {200, 429}
    assert statuses() == first  # the same seed throttles the same parts
    assert graph.stats.throttled["TooManyRequests"] == 2 * list(first.values()).count(429)

    graph.faults = GraphFaults(unavailable_rate=1.0, retry_after_seconds=2)
    unavailable = app_client.get(f"/users/{ANN}")
    assert (unavailable.status_code, error_code(unavailable)) == (503, "ServiceUnavailable")
    assert unavailable.headers["Retry-After"] == "2"
    graph.faults = GraphFaults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        app_client.get(f"/users/{ANN}")
    slept: list[float] = []
    graph.sleep = slept.append
    graph.faults = GraphFaults(slow_rate=1.0, slow_seconds=2.5)
    assert app_client.get(f"/users/{ANN}").status_code == 200
    assert slept == [2.5]
    stats = graph.stats
    assert (stats.dropped, stats.slowed, stats.throttled["ServiceUnavailable"]) == (1, 1, 1)


def test_mailbox_concurrency_limit_answers_429() -> None:
    gate = Gate()
    with FakeGraph(latency_seconds=1.0, sleep=gate.sleep) as graph:
        graph.add_app(TENANT, APP_ID, APP_SECRET)
        graph.add_mailbox(ANN)
        graph.add_mailbox(BOB)
        token = app_token(graph)
        clients = [graph_client(graph, token) for _ in range(6)]
        with ThreadPoolExecutor(max_workers=5) as pool:
            held = [pool.submit(c.get, f"/users/{ANN}/messages") for c in clients[:4]]
            gate.wait_for_sleepers(4)

            fifth = clients[4].get(f"/users/{ANN}/messages")
            assert (fifth.status_code, error_code(fifth)) == (429, "ApplicationThrottled")
            assert "MailboxConcurrency" in fifth.json()["error"]["message"]
            assert int(fifth.headers["Retry-After"]) >= 1

            parts = [
                {"id": "ann", "method": "GET", "url": f"/users/{ANN}"},
                {"id": "bob", "method": "GET", "url": f"/users/{BOB}"},
            ]
            batch = pool.submit(clients[5].post, "/$batch", json={"requests": parts})
            gate.wait_for_sleepers(5)
            gate.open()
            assert [f.result().status_code for f in held] == [200] * 4
            answers = {a["id"]: a for a in batch.result().json()["responses"]}
        assert answers["bob"]["status"] == 200
        assert answers["ann"]["status"] == 429
        assert "MailboxConcurrency" in answers["ann"]["body"]["error"]["message"]
        assert "Retry-After" in answers["ann"]["headers"]
        stats = graph.stats
        assert stats.max_in_flight == {ANN: 4, BOB: 1}
        assert stats.throttled == {"MailboxConcurrency": 2}
        assert graph.server_errors == []


def test_mailbox_request_window_uses_the_injected_clock() -> None:
    now = [5_000.0]
    with FakeGraph(clock=lambda: now[0], mailbox_requests_per_window=5) as graph:
        graph.add_app(TENANT, APP_ID, APP_SECRET)
        graph.add_mailbox(ANN)
        client = graph_client(graph, app_token(graph))
        assert [client.get(f"/users/{ANN}").status_code for _ in range(5)] == [200] * 5
        now[0] += 100
        over = client.get(f"/users/{ANN}")
        assert (over.status_code, error_code(over)) == (429, "ApplicationThrottled")
        assert over.headers["Retry-After"] == "500"

        now[0] += 500  # the first five leave the 600 s window
        parts = [{"id": str(n), "method": "GET", "url": f"/users/{ANN}"} for n in range(7)]
        answers = client.post("/$batch", json={"requests": parts}).json()["responses"]
        assert sorted(a["status"] for a in answers) == [200] * 5 + [429] * 2
        stats = graph.stats
        assert stats.throttled == {"MailboxQuota": 3}
        assert stats.requests_per_mailbox[ANN] == 13
        graph.stats = GraphStats()
        assert graph.stats.requests_per_mailbox[ANN] == 0


def delta_round(client: httpx.Client, url: str, *, page: int = 2) -> tuple[list[dict], str]:
    """Follow nextLinks to the deltaLink: (items, deltaLink)."""
    items: list[dict[str, Any]] = []
    headers = {"Prefer": f"odata.maxpagesize={page}"}
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["value"]) <= page
        items += body["value"]
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]


def test_message_delta_rounds_removals_and_expiry(
    graph: FakeGraph, app_client: httpx.Client
) -> None:
    ids = [graph.add_message(ANN, make_raw(f"m{n}"), DAY + dt.timedelta(hours=n)) for n in range(5)]
    graph.add_message(ANN, make_raw("elsewhere"), DAY, folder="archive")
    start = f"/users/{ANN}/mailFolders/inbox/messages/delta?$select=subject,receivedDateTime"
    items, delta_link = delta_round(app_client, start)
    assert sorted(item["id"] for item in items) == sorted(ids)
    assert all(
        set(item) == {"@odata.type", "@odata.etag", "id", "subject", "receivedDateTime"}
        for item in items
    )
    assert "$deltatoken=" in delta_link

    added = graph.add_message(ANN, make_raw("late arrival"), DAY + dt.timedelta(days=1))
    graph.delete_message(ANN, ids[1])
    changes, next_link = delta_round(app_client, delta_link)
    by_id = {item["id"]: item for item in changes}
    assert set(by_id) == {added, ids[1]}
    assert by_id[added]["subject"] == "late arrival"  # the $select of the first round
    assert by_id[ids[1]]["@removed"] == {"reason": "deleted"}
    assert delta_round(app_client, next_link)[0] == []
    assert {item["id"] for item in delta_round(app_client, delta_link)[0]} == set(by_id)

    graph.expire_deltas()
    expired = app_client.get(next_link)
    assert (expired.status_code, error_code(expired)) == (410, "syncStateNotFound")
    graph.delta_expired_code = "resyncRequired"
    assert error_code(app_client.get(delta_link)) == "resyncRequired"
    fresh, _ = delta_round(app_client, start, page=10)
    assert len(fresh) == 5 and ids[1] not in {item["id"] for item in fresh}


def test_contacts_delta_with_updates_deletes_and_folders(
    graph: FakeGraph, app_client: httpx.Client
) -> None:
    carol = graph.add_contact(
        ANN,
        {
            "displayName": "Carol Danvers",
            "givenName": "Carol",
            "surname": "Danvers",
            "emailAddresses": [{"name": "Carol", "address": "carol@example.org"}],
            "businessPhones": ["+1 555 0100"],
            "mobilePhone": "+1 555 0101",
            "companyName": "Example",
            "jobTitle": "Pilot",
        },
    )
    dave = graph.add_contact(ANN, {"displayName": "Dave", "homePhones": ["+44 20 7946 0000"]})
    erin = graph.add_contact(ANN, {"displayName": "Erin"}, folder="Work")

    initial, delta_link = delta_round(app_client, f"/users/{ANN}/contacts/delta")
    first = {item["id"]: item for item in initial}
    assert set(first) == {carol, dave}
    assert first[carol]["emailAddresses"] == [{"name": "Carol", "address": "carol@example.org"}]
    assert first[carol]["@odata.etag"] == f'W/"{first[carol]["changeKey"]}"'
    assert {"createdDateTime", "lastModifiedDateTime", "jobTitle"} <= first[carol].keys()

    graph.update_contact(ANN, carol, {"jobTitle": "Captain"})
    graph.delete_contact(ANN, dave)
    changes = {item["id"]: item for item in delta_round(app_client, delta_link)[0]}
    assert changes[dave] == {
        "@odata.type": "#microsoft.graph.contact",
        "id": dave,
        "@removed": {"reason": "deleted"},
    }
    assert changes[carol]["jobTitle"] == "Captain"
    assert changes[carol]["companyName"] == "Example"  # all fields, not just the changed one
    assert changes[carol]["changeKey"] != first[carol]["changeKey"]

    folders = app_client.get(f"/users/{ANN}/contactFolders").json()["value"]
    assert [folder["displayName"] for folder in folders] == ["Work"]
    work = folders[0]["id"]
    assert work == graph.contact_folder_id(ANN, "Work")
    in_work, _ = delta_round(app_client, f"/users/{ANN}/contactFolders/{work}/contacts/delta")
    assert [item["id"] for item in in_work] == [erin]
    listed = app_client.get(f"/users/{ANN}/contacts", params={"$select": "displayName"}).json()
    assert [c["displayName"] for c in listed["value"]] == ["Carol Danvers"]


def test_search_keywords(graph: FakeGraph, app_client: httpx.Client) -> None:
    invoice = graph.add_message(ANN, make_raw("Your INVOICE 42", "please pay"), DAY)
    receipt = graph.add_message(ANN, make_raw("thanks", "here is the Receipt"), DAY)
    paid = graph.add_message(ANN, make_raw("invoice paid", "done"), DAY)
    graph.add_message(ANN, make_raw("lunch?", "noon"), DAY)

    def found(expression: str) -> set[str]:
        response = app_client.get(f"/users/{ANN}/messages", params={"$search": expression})
        assert response.status_code == 200, response.text
        return {m["id"] for m in response.json()["value"]}

    assert found('"invoice OR receipt"') == {invoice, receipt, paid}
    assert found('"invoice AND paid"') == {paid}
    assert found('"invoice paid"') == {paid}
    assert len(found('"CAROL@example.org"')) == 4  # the sender is searched too
    with_filter = app_client.get(
        f"/users/{ANN}/messages",
        params={"$search": '"invoice"', "$filter": "receivedDateTime ge 2026-11-01T00:00:00Z"},
    )
    assert (with_filter.status_code, error_code(with_filter)) == (400, "ErrorInvalidUrlQuery")
    unquoted = app_client.get(f"/users/{ANN}/messages", params={"$search": "invoice"})
    assert unquoted.status_code == 400
