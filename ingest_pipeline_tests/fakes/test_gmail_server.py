"""The fake Gmail server against the real googleapiclient, google-auth and httplib2."""

from __future__ import annotations

import base64
import datetime as dt
import email
import mailbox
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
import httpx
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ingest_pipeline_tests.fakes.gmail_server import FakeGmail, FaultPlan, ServerStats

ANN = "ann@example.com"
BOB = "bob@example.com"
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLE_MBOX = ROOT / "ingest_pipeline" / "sample_data" / "sample.mbox"
DAY1 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def make_raw(
    subject: str,
    body: str = "hello",
    *,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    attachment: bytes | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = "Carol <carol@example.org>"
    message["To"] = ANN
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid()
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename="blob.bin"
        )
    return message.as_bytes()


def epoch(when: dt.datetime) -> int:
    return int(when.timestamp())


_OPEN_HTTP: list[httplib2.Http] = []


def plain_http() -> httplib2.Http:
    """An httplib2.Http closed after the test."""
    http = httplib2.Http(timeout=10)
    _OPEN_HTTP.append(http)
    return http


@pytest.fixture(autouse=True)
def _close_client_connections() -> Iterator[None]:
    yield
    while _OPEN_HTTP:
        _OPEN_HTTP.pop().close()


class Client:
    """The real client stack pointed at the fake: credentials, service, batch factory."""

    def __init__(self, fake: FakeGmail, refresh_token: str, secret: str = "test-secret") -> None:
        self.fake = fake
        self.creds = Credentials(
            token=None,
            refresh_token=refresh_token,
            client_id="test-client",
            client_secret=secret,
            token_uri=fake.token_uri,
        )
        self.service = build(
            "gmail",
            "v1",
            http=google_auth_httplib2.AuthorizedHttp(self.creds, http=plain_http()),
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": fake.base_url},
        )
        self.users = self.service.users()

    def batch(self, requests: list[Any]) -> dict[str, tuple[Any, HttpError | None]]:
        """Run ``requests`` as one batch; {request id: (response, exception)}."""
        results: dict[str, tuple[Any, HttpError | None]] = {}

        def collect(request_id: str, response: Any, exception: HttpError | None) -> None:
            results[request_id] = (response, exception)

        batch = BatchHttpRequest(callback=collect, batch_uri=self.fake.base_url + "batch/gmail/v1")
        for request in requests:
            batch.add(request)
        batch.execute()
        return results

    def get(self, message_id: str, fmt: str = "raw", **kwargs: Any) -> Any:
        return self.users.messages().get(userId="me", id=message_id, format=fmt, **kwargs)


@pytest.fixture
def gmail() -> Iterator[FakeGmail]:
    with FakeGmail(seed=7) as fake:
        yield fake
        assert fake.server_errors == []


@pytest.fixture
def ann(gmail: FakeGmail) -> Client:
    return Client(gmail, gmail.add_user(ANN))


def add_days(fake: FakeGmail, count: int) -> list[str]:
    """``count`` messages a day apart from DAY1, subjects "day 1".."day N"."""
    return [
        fake.add_message(
            ANN, make_raw(f"day {n}", f"body of day {n}"), internal_date=DAY1 + dt.timedelta(n - 1)
        )
        for n in range(1, count + 1)
    ]


def test_get_profile_through_refreshed_credentials(gmail: FakeGmail) -> None:
    refresh = gmail.add_user(ANN)
    add_days(gmail, 2)
    creds = Credentials(
        token=None,
        refresh_token=refresh,
        client_id="test-client",
        client_secret="test-secret",
        token_uri=gmail.token_uri,
    )
    service = build(
        "gmail",
        "v1",
        credentials=creds,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": gmail.base_url},
    )
    try:
        profile = service.users().getProfile(userId="me").execute()
        assert profile["emailAddress"] == ANN
        assert (profile["messagesTotal"], profile["threadsTotal"]) == (2, 2)
        assert profile["historyId"] == str(gmail.history_id(ANN))
        assert creds.valid and creds.token and creds.token.startswith("ya29.")
        by_address = service.users().getProfile(userId=ANN).execute()
        assert by_address["emailAddress"] == ANN
    finally:
        service.close()
    assert gmail.stats.token_refreshes == 1
    assert gmail.stats.by_method["getProfile"] == 2
    assert gmail.stats.requests == 3


def test_list_after_before_windows_and_paging(gmail: FakeGmail, ann: Client) -> None:
    ids = add_days(gmail, 5)
    messages = ann.users.messages()
    day2, day4 = DAY1 + dt.timedelta(1), DAY1 + dt.timedelta(3)
    window = messages.list(userId="me", q=f"after:{epoch(day2)} before:{epoch(day4)}").execute()
    assert [m["id"] for m in window["messages"]] == [ids[2], ids[1]]  # after >=, before <
    assert window["resultSizeEstimate"] == 2
    # Dates are midnight PST: 2024/03/02 00:00 PST = 08:00 UTC, before day 2's noon.
    by_date = messages.list(userId="me", q="after:2024/03/02 before:2024/03/04").execute()
    assert [m["id"] for m in by_date["messages"]] == [ids[2], ids[1]]
    empty = messages.list(userId="me", q=f"after:{epoch(DAY1) + 10 * 86_400}").execute()
    assert empty == {"resultSizeEstimate": 0}

    pages = []
    request = messages.list(userId="me", maxResults=2)
    while request is not None:
        page = request.execute()
        pages.append([m["id"] for m in page["messages"]])
        if len(pages) == 1:  # a newer message arriving mid-listing does not shift later pages
            gmail.add_message(ANN, make_raw("late"), internal_date=DAY1 + dt.timedelta(30))
        request = messages.list_next(request, page)
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]
    assert "nextPageToken" not in page


def test_list_search_labels_and_spam(gmail: FakeGmail, ann: Client) -> None:
    invoice = gmail.add_message(
        ANN, make_raw("Your INVOICE 42", "please pay"), internal_date=DAY1, labels=["INBOX", "Work"]
    )
    note = gmail.add_message(ANN, make_raw("note", "the Invoice is attached"), internal_date=DAY1)
    spam = gmail.add_message(ANN, make_raw("invoice!!!"), internal_date=DAY1, labels=["SPAM"])
    sent = gmail.add_message(ANN, make_raw("re: lunch"), internal_date=DAY1, labels=["SENT"])

    def found(**params: Any) -> set[str]:
        answer = ann.users.messages().list(userId="me", **params).execute()
        return {m["id"] for m in answer.get("messages", [])}

    assert found(q="invoice") == {invoice, note}
    assert found(q="invoice", includeSpamTrash=True) == {invoice, note, spam}
    assert found(q="invoice in:spam") == {spam}
    assert found(q="invoice please") == {invoice}
    assert found(q='"is attached"') == {note}
    assert found(q="invoice -subject:invoice") == {note}
    assert found(q="label:work") == {invoice}
    assert found(q="in:inbox") == {invoice, note}
    assert found(labelIds=["SENT"]) == {sent}
    assert found(q="from:carol@example.org in:sent") == {sent}
    labels = ann.users.labels().list(userId="me").execute()["labels"]
    work = next(label for label in labels if label["name"] == "Work")
    assert work["type"] == "user"
    assert found(labelIds=[work["id"]]) == {invoice}


def test_get_raw_round_trips_bytes_and_other_formats(gmail: FakeGmail, ann: Client) -> None:
    raw = make_raw("Grüße", "Ünïcode body\nline two", attachment=b"\x00\x01binary")
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.UTC)
    message_id = gmail.add_message(ANN, raw, internal_date=when, labels=["INBOX", "UNREAD"])
    got = ann.get(message_id).execute()
    assert base64.urlsafe_b64decode(got["raw"]) == raw
    assert got["internalDate"] == str(int(when.timestamp() * 1000))
    assert got["labelIds"] == ["INBOX", "UNREAD"]
    assert got["sizeEstimate"] == len(raw)
    assert got["snippet"].startswith("Ünïcode body line two")

    minimal = ann.get(message_id, "minimal").execute()
    assert "raw" not in minimal and "payload" not in minimal
    metadata = ann.get(message_id, "metadata", metadataHeaders=["Subject"]).execute()
    assert metadata["payload"]["headers"] == [{"name": "Subject", "value": "Grüße"}]
    full = ann.users.messages().get(userId="me", id=message_id).execute()  # default: full
    text, blob = full["payload"]["parts"]
    assert base64.urlsafe_b64decode(text["body"]["data"]).decode().startswith("Ünïcode body")
    assert (blob["filename"], blob["partId"]) == ("blob.bin", "1")
    attachment = (
        ann.users.messages()
        .attachments()
        .get(userId="me", messageId=message_id, id=blob["body"]["attachmentId"])
        .execute()
    )
    assert base64.urlsafe_b64decode(attachment["data"]) == b"\x00\x01binary"

    for bad_id, status, reason in (("0123456789abcdef", 404, "notFound"), ("nope", 400, None)):
        with pytest.raises(HttpError) as caught:
            ann.get(bad_id).execute()
        assert caught.value.status_code == status
        if reason:
            assert caught.value.error_details[0]["reason"] == reason


def test_threads_follow_in_reply_to(gmail: FakeGmail, ann: Client) -> None:
    first = gmail.add_message(ANN, make_raw("plan", message_id="<a@x>"), internal_date=DAY1)
    reply = gmail.add_message(
        ANN, make_raw("re: plan", message_id="<b@x>", in_reply_to="<a@x>"), internal_date=DAY1
    )
    other = gmail.add_message(ANN, make_raw("other"), internal_date=DAY1)
    assert ann.get(reply, "minimal").execute()["threadId"] == first
    assert ann.get(other, "minimal").execute()["threadId"] == other
    assert ann.users.getProfile(userId="me").execute()["threadsTotal"] == 2


def test_batch_of_50_gets(gmail: FakeGmail, ann: Client) -> None:
    raws = {}
    for n in range(50):
        raw = make_raw(f"message {n}", f"text {n}")
        raws[gmail.add_message(ANN, raw, internal_date=DAY1 + dt.timedelta(minutes=n))] = raw
    results = ann.batch([ann.get(message_id) for message_id in raws])
    assert len(results) == 50
    assert all(exception is None for _, exception in results.values())
    got = {
        response["id"]: base64.urlsafe_b64decode(response["raw"])
        for response, _ in results.values()
    }
    assert got == raws
    stats = gmail.stats
    assert (stats.batch_requests, stats.max_batch_size, stats.api_calls) == (1, 50, 50)
    assert stats.by_method["messages.get"] == 50
    assert stats.status_counts[200] == 50
    assert stats.units_used == 250
    assert stats.requests == 2  # the token refresh and the batch


def test_injected_faults_reach_batch_callbacks(gmail: FakeGmail, ann: Client) -> None:
    ids = add_days(gmail, 40)
    gmail.faults.share = 0.4
    results = ann.batch([ann.get(message_id) for message_id in ids])
    failed = {rid: exc for rid, (_, exc) in results.items() if exc is not None}
    succeeded = [response for response, exc in results.values() if exc is None]
    assert failed and succeeded and len(failed) + len(succeeded) == 40
    assert all(response["raw"] for response in succeeded)
    seen = set()
    for exc in failed.values():
        assert isinstance(exc, HttpError)
        reason = exc.error_details[0]["reason"]
        seen.add((exc.status_code, reason))
        if exc.status_code == 429:
            assert exc.resp["retry-after"] == "1"
            assert reason == "rateLimitExceeded"
        elif exc.status_code == 403:
            assert reason in ("rateLimitExceeded", "userRateLimitExceeded")
            assert exc.error_details[0]["domain"] == "usageLimits"
            assert exc._get_reason() in ("Rate Limit Exceeded", "User Rate Limit Exceeded")
        else:
            assert exc.status_code in (500, 503)
            assert reason == "backendError"
    assert len(seen) >= 3
    assert gmail.stats.faults_injected == len(failed)
    assert gmail.stats.status_counts[200] == len(succeeded)
    assert gmail.stats.rate_limited == 0


def test_quota_window_answers_429_with_retry_after() -> None:
    with FakeGmail(quota_units_per_minute=50) as fake:
        client = Client(fake, fake.add_user(ANN))
        ids = add_days(fake, 3)
        for _ in range(10):
            client.get(ids[0]).execute()
        with pytest.raises(HttpError) as caught:
            client.get(ids[0]).execute()
        error = caught.value
        assert error.status_code == 429
        assert 1 <= int(error.resp["retry-after"]) <= 60
        assert error.error_details[0]["reason"] == "rateLimitExceeded"
        assert (fake.stats.rate_limited, fake.stats.units_used) == (1, 50)

        fake.clock = lambda: time.monotonic() + 61  # the window slides past the 10 calls
        results = client.batch([client.get(message_id) for message_id in ids * 4])  # 12 gets
        statuses = sorted(200 if exc is None else exc.status_code for _, exc in results.values())
        assert statuses == [200] * 10 + [429] * 2
        assert fake.stats.rate_limited == 3
        assert fake.server_errors == []


def test_history_lists_added_messages_then_404_when_expired(gmail: FakeGmail, ann: Client) -> None:
    start = ann.users.getProfile(userId="me").execute()["historyId"]
    ids = add_days(gmail, 3)
    history = ann.users.history()
    answer = history.list(userId="me", startHistoryId=start, historyTypes="messageAdded").execute()
    added = [a["message"]["id"] for record in answer["history"] for a in record["messagesAdded"]]
    assert added == ids
    assert answer["historyId"] == str(gmail.history_id(ANN))
    assert all(int(record["id"]) > int(start) for record in answer["history"])

    request = history.list(userId="me", startHistoryId=start, maxResults=2)
    paged = []
    while request is not None:
        page = request.execute()
        paged += [record["messages"][0]["id"] for record in page.get("history", [])]
        request = history.list_next(request, page)
    assert paged == ids

    current = answer["historyId"]
    assert "history" not in history.list(userId="me", startHistoryId=current).execute()
    with pytest.raises(HttpError) as caught:  # older than the mailbox's history
        history.list(userId="me", startHistoryId=str(int(start) - 1)).execute()
    assert caught.value.status_code == 404
    gmail.expire_history(ANN)
    with pytest.raises(HttpError) as caught:
        history.list(userId="me", startHistoryId=start).execute()
    assert caught.value.status_code == 404
    assert caught.value.error_details[0]["reason"] == "notFound"
    assert history.list(userId="me", startHistoryId=current).execute()["historyId"] == current


def test_revoke_makes_refresh_fail_with_invalid_grant(gmail: FakeGmail) -> None:
    refresh = gmail.add_user(ANN)
    client = Client(gmail, refresh)
    client.users.getProfile(userId="me").execute()
    gmail.revoke(refresh)
    with pytest.raises(RefreshError, match="invalid_grant"):
        client.users.getProfile(userId="me").execute()  # 401, then the refresh is refused
    assert gmail.stats.status_counts[401] == 1

    request = google_auth_httplib2.Request(plain_http())
    with pytest.raises(RefreshError, match="invalid_grant"):
        Client(gmail, refresh).creds.refresh(request)
    with pytest.raises(RefreshError, match="invalid_client"):
        Client(gmail, gmail.add_user(BOB), secret="wrong").creds.refresh(request)
    assert gmail.stats.token_errors == 3


def test_expired_access_tokens_are_refreshed_by_batch_redo(gmail: FakeGmail, ann: Client) -> None:
    ids = add_days(gmail, 3)
    ann.users.getProfile(userId="me").execute()
    gmail.clock = lambda: time.monotonic() + 3600  # every issued access token has expired
    results = ann.batch([ann.get(message_id) for message_id in ids])
    assert all(exc is None for _, exc in results.values())
    assert gmail.stats.status_counts[401] == 3
    assert gmail.stats.token_refreshes == 2
    assert gmail.stats.batch_requests == 2  # the client re-sent the 401 parts


def test_next_statuses_fail_the_next_requests(gmail: FakeGmail, ann: Client) -> None:
    ids = add_days(gmail, 2)
    gmail.faults.next_statuses = [503]
    with pytest.raises(HttpError) as caught:
        ann.users.getProfile(userId="me").execute()
    assert caught.value.status_code == 503
    assert caught.value.error_details[0]["reason"] == "backendError"
    assert gmail.faults.next_statuses == []
    assert ann.users.getProfile(userId="me").execute()["emailAddress"] == ANN

    gmail.faults.next_statuses = [429, 500]
    request = ann.users.getProfile(userId="me")
    request._sleep = lambda seconds: None  # the client's own backoff, skipped
    assert request.execute(num_retries=2)["emailAddress"] == ANN  # retried past 429 and 500

    gmail.faults.next_statuses = [503]  # a batch fails as a whole
    with pytest.raises(HttpError) as caught:
        ann.batch([ann.get(message_id) for message_id in ids])
    assert caught.value.status_code == 503
    assert gmail.stats.status_counts[503] == 2


def test_dropped_connections_raise_connection_errors(gmail: FakeGmail, ann: Client) -> None:
    ann.users.getProfile(userId="me").execute()
    gmail.faults.drop_share = 1.0
    with pytest.raises(ConnectionError):
        ann.users.getProfile(userId="me").execute()
    assert gmail.stats.dropped == 2  # httplib2 re-sends once on a dropped connection
    gmail.faults = FaultPlan()
    assert ann.users.getProfile(userId="me").execute()["emailAddress"] == ANN


def test_latency_once_per_batch_and_slow_requests() -> None:
    with FakeGmail(latency=0.1) as fake:
        client = Client(fake, fake.add_user(ANN))
        ids = add_days(fake, 10)
        client.creds.refresh(google_auth_httplib2.Request(plain_http()))
        started = time.monotonic()
        client.batch([client.get(message_id) for message_id in ids])
        assert 0.1 <= time.monotonic() - started < 0.5
        fake.latency = 0.0
        fake.faults.slow_share, fake.faults.slow_seconds = 1.0, 0.3
        started = time.monotonic()
        client.users.getProfile(userId="me").execute()
        assert time.monotonic() - started >= 0.3
        assert fake.stats.slowed == 1


def test_stats_count_what_happened(gmail: FakeGmail, ann: Client) -> None:
    ids = add_days(gmail, 3)
    start = ann.users.getProfile(userId="me").execute()["historyId"]
    ann.users.messages().list(userId="me").execute()
    for message_id in ids:
        ann.get(message_id).execute()
    ann.users.history().list(userId="me", startHistoryId=start).execute()
    stats = gmail.stats
    assert stats.requests == 7 and stats.api_calls == 6 and stats.token_refreshes == 1
    assert stats.units_used == 1 + 5 + 3 * 5 + 2
    assert stats.by_method == {
        "getProfile": 1,
        "messages.list": 1,
        "messages.get": 3,
        "history.list": 1,
    }
    assert stats.status_counts == {200: 6}
    gmail.stats = ServerStats()
    ann.users.getProfile(userId="me").execute()
    assert gmail.stats.api_calls == 1


def test_concurrent_clients(gmail: FakeGmail, ann: Client) -> None:
    ids = add_days(gmail, 20)

    def worker(_: int) -> int:
        client = Client(gmail, str(ann.creds.refresh_token))  # httplib2 is per thread
        fetched = 0
        for _ in range(3):
            results = client.batch([client.get(message_id, "minimal") for message_id in ids])
            fetched += sum(exc is None for _, exc in results.values())
            client.users.messages().list(userId="me", maxResults=5).execute()
        return fetched

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(worker, range(6))) == [60] * 6
    assert gmail.stats.api_calls == 6 * 3 * 21
    assert gmail.stats.token_refreshes == 6
    assert gmail.stats.status_counts == {200: 6 * 3 * 21}


def test_wire_level_auth_and_batch_rules(gmail: FakeGmail, ann: Client) -> None:
    gmail.add_user(BOB)
    message_id = add_days(gmail, 1)[0]
    ann.users.getProfile(userId="me").execute()
    bearer = {"Authorization": f"Bearer {ann.creds.token}"}
    with httpx.Client(base_url=gmail.base_url) as http:
        unauthenticated = http.get("gmail/v1/users/me/profile")
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["error"]["status"] == "UNAUTHENTICATED"
        assert "invalid_token" in unauthenticated.headers["www-authenticate"]
        assert http.get(f"gmail/v1/users/{BOB}/profile", headers=bearer).status_code == 403

        def batch(parts: list[str], headers: dict[str, str]) -> httpx.Response:
            body = "".join(
                f"--b1\r\nContent-Type: application/http\r\nContent-ID: <item{n}>\r\n\r\n"
                f"GET /gmail/v1/users/me/{part} HTTP/1.1\r\n\r\n"
                for n, part in enumerate(parts)
            )
            content_type = {"Content-Type": "multipart/mixed; boundary=b1"}
            return http.post(
                "batch/gmail/v1", content=body + "--b1--\r\n", headers={**headers, **content_type}
            )

        answer = batch(["profile", f"messages/{message_id}?format=minimal"], bearer)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("multipart/mixed; boundary=")
        text = answer.text
        assert "Content-ID: <response-item0>" in text and "Content-ID: <response-item1>" in text
        assert text.count("HTTP/1.1 200 OK") == 2  # outer Authorization applies to each part
        assert batch(["profile"], {}).text.count("HTTP/1.1 401 Unauthorized") == 1
        legacy_path = http.post(
            "batch",
            content="--b1\r\nContent-Type: application/http\r\nContent-ID: <x+1>\r\n\r\n"
            "GET /gmail/v1/users/me/labels HTTP/1.1\r\n\r\n--b1--\r\n",
            headers={**bearer, "Content-Type": "multipart/mixed; boundary=b1"},
        )
        assert "Content-ID: <response-x+1>" in legacy_path.text
        assert '"INBOX"' in legacy_path.text
        unknown = http.get("gmail/v1/users/me/drafts", headers=bearer)
        assert unknown.status_code == 404
        assert batch(["profile"] * 101, bearer).status_code == 400
        not_multipart = http.post("batch/gmail/v1", content=b"{}", headers=bearer)
        assert not_multipart.status_code == 400
    assert gmail.stats.max_batch_size == 101


def _load_and_check(
    gmail: FakeGmail, client: Client, raws: list[bytes], dates: list[dt.datetime]
) -> list[str]:
    ids = [
        gmail.add_message(ANN, raw, internal_date=when)
        for raw, when in zip(raws, dates, strict=True)
    ]
    for start in range(0, len(ids), 50):
        chunk = ids[start : start + 50]
        for fmt in ("raw", "full"):
            results = client.batch([client.get(message_id, fmt) for message_id in chunk])
            assert all(exc is None for _, exc in results.values())
            if fmt == "raw":
                got = {r["id"]: base64.urlsafe_b64decode(r["raw"]) for r, _ in results.values()}
                assert got == {mid: raws[ids.index(mid)] for mid in chunk}
    listed = client.users.messages().list(userId="me", maxResults=500).execute()
    assert listed["resultSizeEstimate"] == len(ids)
    return ids


def test_corpus_messages_round_trip(gmail: FakeGmail, ann: Client) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"no shared corpus at {CORPUS}")
    files = sorted(CORPUS.rglob("*.eml"))
    if not files:
        pytest.skip("the shared corpus has no .eml files")
    raws = [path.read_bytes() for path in files]
    dates = [DAY1 + dt.timedelta(hours=n) for n in range(len(raws))]
    _load_and_check(gmail, ann, raws, dates)


def test_sample_mbox_round_trip_and_search(gmail: FakeGmail, ann: Client) -> None:
    box = mailbox.mbox(SAMPLE_MBOX, create=False)
    raws, dates = [], []
    for key in box.iterkeys():
        raws.append(box.get_bytes(key))
        stamp = " ".join(box[key].get_from().split()[-5:])  # "Mon Nov  2 00:04:10 2026"
        dates.append(dt.datetime.strptime(stamp, "%a %b %d %H:%M:%S %Y").replace(tzinfo=dt.UTC))
    box.close()
    ids = _load_and_check(gmail, ann, raws, dates)
    latest = max(dates)
    newest = ann.users.messages().list(userId="me", q=f"after:{epoch(latest)}").execute()
    assert {m["id"] for m in newest["messages"]} == {
        mid for mid, when in zip(ids, dates, strict=True) if when == latest
    }
    subject = email.message_from_bytes(raws[0])["Subject"].split()[-1]
    hits = ann.users.messages().list(userId="me", q=subject).execute()
    assert ids[0] in {m["id"] for m in hits["messages"]}
