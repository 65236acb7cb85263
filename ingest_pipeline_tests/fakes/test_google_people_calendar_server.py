"""The fake Google server's People API v1 and Calendar API v3, through the real
googleapiclient (bundled discovery documents), google-auth and httplib2."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
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

from ingest_pipeline_tests.fakes.gmail_server import FakeGmail

ANN = "ann@example.com"
BOB = "bob@example.com"
NOW = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
TEAM = "team@group.calendar.google.com"
FIELDS = "names,emailAddresses,metadata"

_OPEN_HTTP: list[httplib2.Http] = []


@pytest.fixture(autouse=True)
def _close_client_connections() -> Iterator[None]:
    yield
    while _OPEN_HTTP:
        _OPEN_HTTP.pop().close()


class Client:
    """The real People and Calendar services of one user, pointed at the fake."""

    def __init__(self, fake: FakeGmail, refresh_token: str) -> None:
        self.fake = fake
        self.creds = Credentials(
            token=None,
            refresh_token=refresh_token,
            client_id="test-client",
            client_secret="test-secret",
            token_uri=fake.token_uri,
        )
        http = httplib2.Http(timeout=10)
        _OPEN_HTTP.append(http)
        authorized = google_auth_httplib2.AuthorizedHttp(self.creds, http=http)
        options = {"api_endpoint": fake.base_url}
        self.people = build(
            "people",
            "v1",
            http=authorized,
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )
        self.calendar = build(
            "calendar",
            "v3",
            http=authorized,
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )
        self.connections = self.people.people().connections()
        self.events = self.calendar.events()

    def list_people(self, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every page of people.connections.list: (connections, pages)."""
        params.setdefault("resourceName", "people/me")
        return _all_pages(self.connections, params, "connections")

    def list_events(self, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every page of events.list: (items, pages)."""
        params.setdefault("calendarId", "primary")
        return _all_pages(self.events, params, "items")


def _all_pages(
    resource: Any, params: dict[str, Any], key: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    request = resource.list(**params)
    while request is not None:
        page = request.execute()
        pages.append(page)
        items += page.get(key, [])
        request = resource.list_next(request, page)
    return items, pages


@pytest.fixture
def google() -> Iterator[FakeGmail]:
    with FakeGmail(seed=3) as fake:
        fake.wall_clock = lambda: NOW
        yield fake
        assert fake.server_errors == []


@pytest.fixture
def ann(google: FakeGmail) -> Client:
    return Client(google, google.add_user(ANN))


def person(given: str, family: str, email: str, phone: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "names": [{"givenName": given, "familyName": family}],
        "emailAddresses": [{"value": email, "type": "work"}],
        "organizations": [{"name": "Acme", "title": "Engineer"}],
    }
    if phone:
        fields["phoneNumbers"] = [{"value": phone, "type": "mobile"}]
    return fields


def error_json(error: HttpError) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.content)
    return body


def timed(start: str, end: str, time_zone: str | None = None, **fields: Any) -> dict[str, Any]:
    start_value = {"dateTime": start, **({"timeZone": time_zone} if time_zone else {})}
    end_value = {"dateTime": end, **({"timeZone": time_zone} if time_zone else {})}
    return {"start": start_value, "end": end_value, **fields}


def test_connections_full_listing_pages_fields_and_sync_token(
    google: FakeGmail, ann: Client
) -> None:
    names = [("Cleo", "Ames"), ("Abe", "Zorn"), ("Bea", "Moss"), ("Dan", "Bell"), ("Eve", "Cole")]
    added = [
        google.add_person(ANN, person(g, f, f"{g.lower()}@x.test", phone="+1 555 0100"))
        for g, f in names
    ]
    found, pages = ann.list_people(personFields=FIELDS, pageSize=2, requestSyncToken=True)
    assert [p["resourceName"] for p in found] == added  # LAST_MODIFIED_ASCENDING by default
    assert len(pages) == 3
    assert ["nextSyncToken" in page for page in pages] == [False, False, True]
    assert ["nextPageToken" in page for page in pages] == [True, True, False]
    assert all(page["totalPeople"] == page["totalItems"] == 5 for page in pages)

    cleo = found[0]
    assert cleo["resourceName"].startswith("people/c") and cleo["resourceName"][8:].isdigit()
    assert set(cleo) == {"resourceName", "etag", "names", "emailAddresses", "metadata"}
    source = cleo["metadata"]["sources"][0]
    assert source["type"] == "CONTACT"
    assert source["id"] == f"{int(cleo['resourceName'][8:]):x}"
    assert source["updateTime"] == "2024-03-01T12:00:00.000Z"
    assert cleo["names"][0]["displayName"] == "Cleo Ames"
    assert cleo["names"][0]["displayNameLastFirst"] == "Ames, Cleo"
    email = cleo["emailAddresses"][0]
    assert (email["value"], email["type"], email["formattedType"]) == (
        "cleo@x.test",
        "work",
        "Work",
    )
    assert email["metadata"]["primary"] is True

    by_first, _ = ann.list_people(personFields="names", sortOrder="FIRST_NAME_ASCENDING")
    assert [p["names"][0]["givenName"] for p in by_first] == ["Abe", "Bea", "Cleo", "Dan", "Eve"]
    no_token, _ = ann.list_people(personFields="phoneNumbers,organizations")
    assert no_token[0]["phoneNumbers"][0]["value"] == "+1 555 0100"
    assert "names" not in no_token[0] and "metadata" not in no_token[0]
    assert (
        "nextSyncToken"
        not in ann.connections.list(resourceName="people/me", personFields="names").execute()
    )

    with pytest.raises(HttpError) as caught:  # personFields is required by the server
        ann.connections.list(resourceName="people/me").execute()
    assert caught.value.status_code == 400
    assert error_json(caught.value)["error"]["status"] == "INVALID_ARGUMENT"
    assert "personFields" in caught.value.reason
    with pytest.raises(HttpError) as caught:
        ann.connections.list(resourceName="people/me", personFields="names,nope").execute()
    assert caught.value.status_code == 400
    assert google.stats.by_method["people.connections.list"] == 3 + 1 + 1 + 1 + 2
    assert google.stats.people_calls_by_user == {ANN: 8}


def test_incremental_sync_reports_changes_and_deletions(google: FakeGmail, ann: Client) -> None:
    kept, changed, dropped = (
        google.add_person(ANN, person(g, "Lee", f"{g}@x.test")) for g in ("kim", "max", "sam")
    )
    full, pages = ann.list_people(personFields=FIELDS, requestSyncToken=True)
    assert len(full) == 3
    token = pages[-1]["nextSyncToken"]
    etag_before = next(p["etag"] for p in full if p["resourceName"] == changed)

    google.update_person(ANN, changed, {"names": [{"givenName": "Maxine", "familyName": "Lee"}]})
    google.delete_person(ANN, dropped)
    new = google.add_person(ANN, person("Ola", "Lee", "ola@x.test"))

    delta, pages = ann.list_people(personFields=FIELDS, syncToken=token, pageSize=2)
    assert len(pages) == 2  # an incremental sync pages like a full one
    by_name = {p["resourceName"]: p for p in delta}
    assert list(by_name) == [changed, dropped, new]  # in change order; kept is unchanged
    assert by_name[changed]["names"][0]["displayName"] == "Maxine Lee"
    assert by_name[changed]["etag"] != etag_before
    tombstone = by_name[dropped]
    assert set(tombstone) == {"resourceName", "etag", "metadata"}
    assert tombstone["metadata"]["deleted"] is True
    assert tombstone["metadata"]["sources"][0]["type"] == "CONTACT"
    assert "deleted" not in by_name[new]["metadata"]
    assert kept not in by_name

    quiet = ann.connections.list(
        resourceName="people/me", personFields=FIELDS, syncToken=pages[-1]["nextSyncToken"]
    ).execute()
    assert "connections" not in quiet and quiet["nextSyncToken"]
    assert quiet["totalItems"] == 0
    current, _ = ann.list_people(personFields="names")
    assert {p["resourceName"] for p in current} == {kept, changed, new}


def test_paging_parameters_must_match_the_first_call(google: FakeGmail, ann: Client) -> None:
    for n in range(3):
        google.add_person(ANN, person(f"p{n}", "Roe", f"p{n}@x.test"))
    first = ann.connections.list(resourceName="people/me", personFields="names", pageSize=2)
    page = first.execute()
    token = page["nextPageToken"]
    for changed in ({"personFields": "names,emailAddresses"}, {"pageSize": 1}):
        params = {"personFields": "names", "pageSize": 2, **changed}
        request = ann.connections.list(resourceName="people/me", pageToken=token, **params)
        with pytest.raises(HttpError) as caught:
            request.execute()
        assert caught.value.status_code == 400
        assert error_json(caught.value)["error"]["status"] == "INVALID_ARGUMENT"
    with pytest.raises(HttpError) as caught:
        ann.connections.list(
            resourceName="people/me", personFields="names", pageSize=2, pageToken="bogus"
        ).execute()
    assert caught.value.status_code == 400
    last = ann.connections.list_next(first, page).execute()  # the same parameters: fine
    assert len(last["connections"]) == 1 and "nextPageToken" not in last


def test_expired_sync_token_answers_error_info(google: FakeGmail, ann: Client) -> None:
    google.add_person(ANN, person("Ida", "Ray", "ida@x.test"))
    _, pages = ann.list_people(personFields="names", requestSyncToken=True)
    token = pages[-1]["nextSyncToken"]
    google.expire_sync_tokens()
    for stale in (token, "not-a-token"):
        request = ann.connections.list(
            resourceName="people/me", personFields="names", syncToken=stale
        )
        with pytest.raises(HttpError) as caught:
            request.execute()
        assert caught.value.status_code == 400
        assert error_json(caught.value) == {
            "error": {
                "code": 400,
                "message": "Sync token is expired. Clear local cache and retry call without "
                "the sync token.",
                "status": "FAILED_PRECONDITION",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "EXPIRED_SYNC_TOKEN",
                        "domain": "people.googleapis.com",
                        "metadata": {
                            "service": "people.googleapis.com",
                            "method": "google.people.v1.PeopleService.ListConnections",
                        },
                    }
                ],
            }
        }
        assert caught.value.error_details[0]["reason"] == "EXPIRED_SYNC_TOKEN"
    google.add_person(ANN, person("Jo", "Ray", "jo@x.test"))
    request = ann.connections.list(
        resourceName="people/me", personFields="names", pageSize=1, requestSyncToken=True
    )
    page = request.execute()  # a full sync again, with tokens expiring between its pages
    google.expire_sync_tokens()
    fresh = ann.connections.list_next(request, page).execute()["nextSyncToken"]
    again = ann.connections.list(resourceName="people/me", personFields="names", syncToken=fresh)
    assert "nextSyncToken" in again.execute()  # minted with the last page, so still valid


def test_calendar_list_and_its_sync(google: FakeGmail, ann: Client) -> None:
    assert google.add_calendar(ANN, "primary", summary="Ann", time_zone="Europe/Berlin") == ANN
    google.add_calendar(ANN, TEAM, summary="Team")
    listing = ann.calendar.calendarList().list().execute()
    assert [entry["id"] for entry in listing["items"]] == [ANN, TEAM]
    primary, team = listing["items"]
    assert (primary["primary"], primary["timeZone"], primary["summary"]) == (
        True,
        "Europe/Berlin",
        "Ann",
    )
    assert "primary" not in team and team["accessRole"] == "owner"
    paged, pages = _all_pages(ann.calendar.calendarList(), {"maxResults": 1}, "items")
    assert [entry["id"] for entry in paged] == [ANN, TEAM] and len(pages) == 2

    google.add_calendar(ANN, "trips@group.calendar.google.com", summary="Trips")
    delta = ann.calendar.calendarList().list(syncToken=listing["nextSyncToken"]).execute()
    assert [entry["id"] for entry in delta["items"]] == ["trips@group.calendar.google.com"]
    google.expire_sync_tokens()
    with pytest.raises(HttpError) as caught:
        ann.calendar.calendarList().list(syncToken=delta["nextSyncToken"]).execute()
    assert caught.value.status_code == 410
    assert google.stats.by_method["calendar.calendarList.list"] == 5


def test_weekly_series_expands_once_per_week_in_the_window(google: FakeGmail, ann: Client) -> None:
    series = google.add_event(
        ANN,
        "primary",
        timed(
            "2024-03-04T10:00:00+01:00",
            "2024-03-04T11:00:00+01:00",
            "Europe/Berlin",
            summary="Standup",
            recurrence=["RRULE:FREQ=WEEKLY;COUNT=10"],
            attendees=[
                {"email": ANN, "responseStatus": "accepted", "organizer": True},
                {"email": BOB, "displayName": "Bob", "responseStatus": "tentative"},
            ],
        ),
    )
    lunch = google.add_event(
        ANN, "primary", timed("2024-03-20T12:00:00Z", "2024-03-20T13:00:00Z", summary="Lunch")
    )
    window = {"timeMin": "2024-03-10T00:00:00Z", "timeMax": "2024-04-02T00:00:00Z"}
    items, _ = ann.list_events(singleEvents=True, orderBy="startTime", **window)
    # Berlin moves to summer time on 31 March: the meeting stays at 10:00 local.
    assert [item["id"] for item in items] == [
        f"{series}_20240311T090000Z",
        f"{series}_20240318T090000Z",
        lunch,
        f"{series}_20240325T090000Z",
        f"{series}_20240401T080000Z",
    ]
    last = items[-1]
    assert last["start"] == {"dateTime": "2024-04-01T08:00:00Z", "timeZone": "Europe/Berlin"}
    assert last["end"]["dateTime"] == "2024-04-01T09:00:00Z"
    assert last["recurringEventId"] == series
    assert last["originalStartTime"] == last["start"]
    assert last["iCalUID"] == f"{series}@google.com" == items[0]["iCalUID"]
    assert "recurrence" not in last
    assert last["attendees"][0]["self"] is True and "self" not in last["attendees"][1]
    assert last["organizer"] == {"email": ANN, "self": True}
    assert (last["status"], last["sequence"], last["summary"]) == ("confirmed", 0, "Standup")
    assert last["created"] == last["updated"] == "2024-03-01T12:00:00.000Z"
    assert last["htmlLink"].startswith("https://www.google.com/calendar/event?eid=")

    berlin, _ = ann.list_events(singleEvents=True, timeZone="Europe/Berlin", **window)
    assert berlin[-1]["start"]["dateTime"] == "2024-04-01T10:00:00+02:00"
    collapsed, _ = ann.list_events(**window)  # without singleEvents: the series itself
    assert [item["id"] for item in collapsed] == [series, lunch]
    assert collapsed[0]["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=10"]
    everything, _ = ann.list_events(singleEvents=True, maxResults=4)
    assert len(everything) == 11  # all 10 instances and the lunch, over three pages
    with pytest.raises(HttpError) as caught:
        ann.events.list(calendarId="primary", orderBy="startTime").execute()
    assert caught.value.status_code == 400


def test_endless_and_all_day_series(google: FakeGmail, ann: Client) -> None:
    daily = google.add_event(
        ANN,
        "primary",
        timed(
            "2019-01-01T07:00:00Z", "2019-01-01T07:15:00Z", "UTC", recurrence=["RRULE:FREQ=DAILY"]
        ),
    )
    gym = google.add_event(
        ANN,
        "primary",
        {
            "summary": "gym",
            "start": {"date": "2024-03-04"},
            "end": {"date": "2024-03-05"},
            "recurrence": ["RRULE:FREQ=WEEKLY;UNTIL=20240401", "EXDATE;VALUE=DATE:20240318"],
        },
    )
    window = {"timeMin": "2024-03-10T00:00:00Z", "timeMax": "2024-03-26T00:00:00Z"}
    items, _ = ann.list_events(singleEvents=True, orderBy="startTime", **window)
    days = [item["id"] for item in items if item["recurringEventId"] == daily]
    assert len(days) == 16  # five years of instances before the window do not crowd it out
    assert days[0] == f"{daily}_20240310T070000Z"
    weekly = [item for item in items if item["recurringEventId"] == gym]
    assert [item["id"] for item in weekly] == [f"{gym}_20240311", f"{gym}_20240325"]
    assert weekly[0]["start"] == {"date": "2024-03-11"} and weekly[0]["end"] == {
        "date": "2024-03-12"
    }
    assert weekly[0]["originalStartTime"] == {"date": "2024-03-11"}


def test_time_window_overlap_semantics(google: FakeGmail, ann: Client) -> None:
    def add(summary: str, **times: Any) -> str:
        return google.add_event(ANN, "primary", {"summary": summary, **times})

    early = add("early", **timed("2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z"))
    late = add("late", **timed("2024-03-04T10:00:00Z", "2024-03-04T11:00:00Z"))
    all_day = add("all day", start={"date": "2024-03-05"}, end={"date": "2024-03-06"})
    night = add("night", **timed("2024-03-04T23:00:00Z", "2024-03-05T01:00:00Z"))

    def between(time_min: str, time_max: str) -> list[str]:
        return [i["id"] for i in ann.list_events(timeMin=time_min, timeMax=time_max)[0]]

    # timeMin bounds the end, timeMax the start, both exclusive.
    assert between("2024-03-04T10:00:00Z", "2024-03-04T11:00:00Z") == [late]
    assert between("2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z") == [early]
    assert between("2024-03-04T09:59:59Z", "2024-03-04T10:00:01Z") == [early, late]
    assert between("2024-03-05T00:30:00Z", "2024-03-05T00:45:00Z") == [night, all_day]
    assert between("2024-03-05T12:00:00+01:00", "2024-03-05T13:00:00+01:00") == [all_day]
    assert between("2024-03-06T00:00:00Z", "2024-03-07T00:00:00Z") == []
    whole_day = ann.events.list(calendarId="primary", timeMin="2024-03-05T01:00:00Z").execute()
    assert whole_day["items"][0]["start"] == {"date": "2024-03-05"}

    for time_min, time_max, reason in (
        ("2024-03-05T00:00:00Z", "2024-03-05T00:00:00Z", "timeRangeEmpty"),
        ("2024-03-05T00:00:00", "2024-03-06T00:00:00Z", "badRequest"),  # no offset
    ):
        request = ann.events.list(calendarId="primary", timeMin=time_min, timeMax=time_max)
        with pytest.raises(HttpError) as caught:
            request.execute()
        assert caught.value.status_code == 400
        assert caught.value.error_details[0]["reason"] == reason


def test_sync_reports_moved_and_cancelled_events(google: FakeGmail, ann: Client) -> None:
    meeting = google.add_event(
        ANN, "primary", timed("2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z", summary="1:1")
    )
    review = google.add_event(
        ANN, "primary", timed("2024-03-05T09:00:00Z", "2024-03-05T10:00:00Z", summary="review")
    )
    series = google.add_event(
        ANN,
        "primary",
        timed(
            "2024-03-06T09:00:00Z",
            "2024-03-06T09:30:00Z",
            "UTC",
            summary="sync",
            recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        ),
    )
    full, pages = ann.list_events(singleEvents=True)
    assert len(full) == 5 and "nextSyncToken" in pages[-1]

    google.update_event(
        ANN, "primary", meeting, timed("2024-03-08T15:00:00Z", "2024-03-08T16:00:00Z")
    )
    google.cancel_event(ANN, "primary", review)
    google.cancel_event(ANN, "primary", f"{series}_20240307T090000Z")
    moved_instance = f"{series}_20240308T090000Z"
    google.update_event(
        ANN, "primary", moved_instance, timed("2024-03-08T11:00:00Z", "2024-03-08T11:30:00Z")
    )

    delta, pages = ann.list_events(singleEvents=True, syncToken=pages[-1]["nextSyncToken"])
    by_id = {item["id"]: item for item in delta}
    assert list(by_id) == [meeting, review, f"{series}_20240307T090000Z", moved_instance]
    assert by_id[meeting]["start"]["dateTime"] == "2024-03-08T15:00:00Z"
    assert by_id[meeting]["sequence"] == 1 and by_id[meeting]["summary"] == "1:1"
    assert by_id[review] == {
        "kind": "calendar#event",
        "etag": by_id[review]["etag"],
        "id": review,
        "status": "cancelled",
    }
    cancelled_instance = by_id[f"{series}_20240307T090000Z"]
    assert cancelled_instance["status"] == "cancelled"
    assert cancelled_instance["recurringEventId"] == series
    assert cancelled_instance["originalStartTime"]["dateTime"] == "2024-03-07T09:00:00Z"
    assert by_id[moved_instance]["start"]["dateTime"] == "2024-03-08T11:00:00Z"
    assert by_id[moved_instance]["originalStartTime"]["dateTime"] == "2024-03-08T09:00:00Z"

    old_day, _ = ann.list_events(timeMin="2024-03-04T00:00:00Z", timeMax="2024-03-05T00:00:00Z")
    assert old_day == []  # the meeting moved away
    visible, _ = ann.list_events(singleEvents=True)
    assert [item["id"] for item in visible] == [
        f"{series}_20240306T090000Z",
        moved_instance,
        meeting,
    ]
    with_deleted, _ = ann.list_events(singleEvents=True, showDeleted=True)
    assert {review, f"{series}_20240307T090000Z"} <= {item["id"] for item in with_deleted}
    quiet, _ = ann.list_events(singleEvents=True, syncToken=pages[-1]["nextSyncToken"])
    assert quiet == []

    google.cancel_event(ANN, "primary", series)  # a cancelled series: each instance cancelled
    gone, _ = ann.list_events(singleEvents=True, syncToken=pages[-1]["nextSyncToken"])
    assert {item["status"] for item in gone} == {"cancelled"}
    assert len(gone) == 3 and all(item["recurringEventId"] == series for item in gone)


def test_expired_calendar_sync_token_is_410_full_sync_required(
    google: FakeGmail, ann: Client
) -> None:
    google.add_event(ANN, "primary", timed("2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z"))
    _, pages = ann.list_events()
    token = pages[-1]["nextSyncToken"]
    assert ann.events.list(calendarId="primary", syncToken=token).execute()["items"] == []
    google.expire_sync_tokens()
    for stale in (token, "CPDAlvWDx70CEPDAlvWDx70CGAU="):
        with pytest.raises(HttpError) as caught:
            ann.events.list(calendarId="primary", syncToken=stale).execute()
        assert caught.value.status_code == 410
        message = "Sync token is no longer valid, a full sync is required."
        assert error_json(caught.value) == {
            "error": {
                "errors": [{"domain": "global", "reason": "fullSyncRequired", "message": message}],
                "code": 410,
                "message": message,
            }
        }
        assert caught.value.error_details[0]["reason"] == "fullSyncRequired"
    google.add_calendar(ANN, TEAM)
    with pytest.raises(HttpError) as caught:  # a token is bound to its calendar
        ann.events.list(
            calendarId=TEAM, syncToken=ann.list_events()[1][-1]["nextSyncToken"]
        ).execute()
    assert caught.value.status_code == 410


def test_sync_token_cannot_be_combined_with_filters(google: FakeGmail, ann: Client) -> None:
    _, pages = ann.list_events(timeMin="2024-03-01T00:00:00Z")  # a windowed full sync
    token = pages[-1]["nextSyncToken"]
    for extra in (
        {"timeMin": "2024-03-01T00:00:00Z"},
        {"timeMax": "2024-04-01T00:00:00Z"},
        {"orderBy": "updated"},
        {"q": "lunch"},
        {"showDeleted": False},
    ):
        with pytest.raises(HttpError) as caught:
            ann.events.list(calendarId="primary", syncToken=token, **extra).execute()
        assert caught.value.status_code == 400, extra
        assert caught.value.error_details[0]["location"] == next(iter(extra))
    ordered = ann.events.list(calendarId="primary", orderBy="updated").execute()
    assert "nextSyncToken" not in ordered  # a filtered listing cannot seed a sync
    with pytest.raises(HttpError) as caught:
        ann.events.list(calendarId="nobody@example.com").execute()
    assert caught.value.status_code == 404


def test_faults_and_batches_reach_the_new_endpoints(google: FakeGmail, ann: Client) -> None:
    google.add_person(ANN, person("Ada", "Poe", "ada@x.test"))
    google.add_event(ANN, "primary", timed("2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z"))
    people = ann.connections.list(resourceName="people/me", personFields="names")
    events = ann.events.list(calendarId="primary")

    google.faults.next_statuses = [503]
    with pytest.raises(HttpError) as caught:
        people.execute()
    assert caught.value.status_code == 503
    google.faults.next_statuses = [429, 500]
    events._sleep = lambda seconds: None  # the client's own backoff, skipped
    assert len(events.execute(num_retries=2)["items"]) == 1

    google.faults.share, google.faults.kinds = 1.0, ("403-rateLimitExceeded",)
    for request in (people, events):
        with pytest.raises(HttpError) as caught:
            request.execute()
        assert caught.value.status_code == 403
        assert caught.value.error_details[0]["domain"] == "usageLimits"
    assert google.stats.faults_injected == 2
    google.faults.share = 0.0

    results: dict[str, Any] = {}
    batch = BatchHttpRequest(
        callback=lambda rid, response, exc: results.update({rid: (response, exc)}),
        batch_uri=google.base_url + "batch/calendar/v3",
    )
    batch.add(ann.events.list(calendarId="primary"), request_id="events")
    batch.add(ann.calendar.calendarList().list(), request_id="calendars")
    batch.add(people, request_id="people")
    batch.execute()
    assert results["events"][0]["items"][0]["kind"] == "calendar#event"
    assert results["calendars"][0]["items"][0]["id"] == ANN
    assert results["people"][0]["totalItems"] == 1
    assert google.stats.batch_requests == 1


def test_per_user_calendar_and_people_quotas() -> None:
    with FakeGmail(calendar_requests_per_minute=3, people_requests_per_minute=2) as fake:
        ann, bob = Client(fake, fake.add_user(ANN)), Client(fake, fake.add_user(BOB))
        now = time.monotonic()
        fake.clock = lambda: now
        for _ in range(3):
            ann.calendar.calendarList().list().execute()
        with pytest.raises(HttpError) as caught:
            ann.events.list(calendarId="primary").execute()
        assert caught.value.status_code == 403
        detail = caught.value.error_details[0]
        assert (detail["reason"], detail["domain"]) == ("rateLimitExceeded", "usageLimits")
        assert bob.events.list(calendarId="primary").execute()["items"] == []  # per user
        assert fake.stats.calendar_calls_by_user == {ANN: 4, BOB: 1}

        fake.calendar_quota_status = 429
        with pytest.raises(HttpError) as caught:
            ann.events.list(calendarId="primary").execute()
        assert caught.value.status_code == 429
        assert 1 <= int(caught.value.resp["retry-after"]) <= 60

        for _ in range(2):
            ann.connections.list(resourceName="people/me", personFields="names").execute()
        with pytest.raises(HttpError) as caught:
            ann.connections.list(resourceName="people/me", personFields="names").execute()
        assert caught.value.status_code == 429
        assert error_json(caught.value)["error"]["status"] == "RESOURCE_EXHAUSTED"
        assert caught.value.error_details[0]["reason"] == "RATE_LIMIT_EXCEEDED"
        assert fake.stats.rate_limited == 3

        fake.clock = lambda: now + 61  # the window slides past every charged call
        assert ann.events.list(calendarId="primary").execute()["kind"] == "calendar#events"
        assert fake.server_errors == []


def test_revoked_grant_fails_people_and_calendar(google: FakeGmail) -> None:
    refresh = google.add_user(ANN)
    client = Client(google, refresh)
    client.events.list(calendarId="primary").execute()
    google.revoke(refresh)
    calls: list[Callable[[], Any]] = [
        client.events.list(calendarId="primary").execute,
        client.connections.list(resourceName="people/me", personFields="names").execute,
    ]
    for call in calls:
        with pytest.raises(RefreshError, match="invalid_grant"):
            call()  # 401, then the refresh is refused
    assert google.stats.status_counts[401] == 2
    assert google.stats.token_errors == 2


def test_wire_paths_and_refusals(google: FakeGmail, ann: Client) -> None:
    ann.calendar.calendarList().list().execute()
    bearer = {"Authorization": f"Bearer {ann.creds.token}"}
    with httpx.Client(base_url=google.base_url, headers=bearer) as http:
        assert http.get("calendar/v3/users/me/calendarList").status_code == 200
        assert http.get(f"calendar/v3/calendars/{ANN}/events").json()["items"] == []
        other = http.get("v1/people/c123/connections", params={"personFields": "names"})
        assert other.status_code == 400
        assert http.post("calendar/v3/calendars/primary/events").status_code == 405
        profile = http.get("v1/people/me", params={"personFields": "emailAddresses"})
        assert profile.json()["emailAddresses"][0]["value"] == ANN
        assert http.get("v1/people/me/photos").status_code == 404
        unauthenticated = http.get("users/me/calendarList", headers={"Authorization": ""})
        assert unauthenticated.status_code == 401
