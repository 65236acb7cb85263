"""The IMAP source against a real Dovecot: the UTC receipt day, read-only fetching, several
folders, a renumbered folder, the change probe, the ways of connecting, and a server that
goes away in the middle of a fetch."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from ingest_pipeline.domain import FetchError, RawItem, Window
from ingest_pipeline.sources.base import CredentialsRevoked, SourceError
from ingest_pipeline.sources.imap.imap_source import parse_key
from ingest_pipeline.steps.change_probes import ProbeTarget, probe_one
from ingest_pipeline.store.credentials_vault import encrypt, new_key
from ingest_pipeline_tests.dovecot_server import DovecotServer, dovecot
from ingest_pipeline_tests.imap_fixtures import (
    GOOD_TOKEN,
    PASSWORD,
    USER,
    append,
    client,
    expunge,
    imap_server,
    imap_source,
    options,
    token_introspection,
)

__all__ = ["imap_server"]

DAY = dt.date(2026, 11, 2)
PLUS_5 = dt.timezone(dt.timedelta(hours=5))
KEY = new_key()


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment in November 2026, UTC."""
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=dt.UTC)


def message(subject: str) -> bytes:
    return (
        f"From: Neha <neha@example.test>\r\nTo: ann@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.test>\r\n\r\nHello.\r\n"
    ).encode()


def subjects(items: list[RawItem | FetchError]) -> list[str]:
    found = []
    for item in items:
        assert isinstance(item, RawItem), item
        found.append(item.data.split(b"Subject: ")[1].split(b"\r\n")[0].decode())
    return found


def listed(source: object, day: dt.date) -> list:  # type: ignore[type-arg]
    return [ref for page in source.enumerate(Window.for_day(day), None) for ref in page.items]  # type: ignore[attr-defined]


def test_a_message_lands_on_the_utc_day_of_its_internaldate(imap_server: DovecotServer) -> None:
    append(imap_server, message("late on the 1st"), utc(1, 23, 59, 59))
    append(imap_server, message("first second"), utc(2, 0, 0))
    # 02:30 on the 3rd at +05:00 is 21:30 UTC on the 2nd.
    append(imap_server, message("from the east"), dt.datetime(2026, 11, 3, 2, 30, tzinfo=PLUS_5))
    append(imap_server, message("on the 3rd"), utc(3, 0, 0))
    source = imap_source(imap_server)

    refs = listed(source, DAY)

    assert subjects(list(source.fetch(refs))) == ["first second", "from the east"]
    assert [r.received_at for r in refs] == [
        utc(2, 0, 0),
        utc(2, 21, 30),
    ]
    assert all(parse_key(r.external_id)[0] == "INBOX" for r in refs)


def test_importing_never_marks_mail_as_read(imap_server: DovecotServer) -> None:
    append(imap_server, message("unread"), utc(2, 9, 0))
    source = imap_source(imap_server)

    [item] = list(source.fetch(listed(source, DAY)))

    assert isinstance(item, RawItem) and b"unread" in item.data
    imap = client(imap_server)
    imap.select_folder("INBOX", readonly=True)
    flags = imap.get_flags(imap.search(["ALL"]))
    imap.logout()
    assert all(b"\\Seen" not in f for f in flags.values()), flags


def test_several_folders_are_read_and_a_renumbered_folder_is_listed_again(
    imap_server: DovecotServer,
) -> None:
    append(imap_server, message("in the inbox"), utc(2, 9, 0))
    imap = client(imap_server)
    imap.create_folder("Archive")
    imap.logout()
    append(imap_server, message("archived"), utc(2, 10, 0), "Archive")
    source = imap_source(imap_server, folders=["INBOX", "Archive"])
    before = listed(source, DAY)
    assert subjects(list(source.fetch(before))) == ["in the inbox", "archived"]
    state = source.sync_state()

    # The folder is deleted and made again: the server gives it a new UIDVALIDITY.
    imap = client(imap_server)
    imap.delete_folder("Archive")
    imap.create_folder("Archive")
    imap.logout()
    append(imap_server, message("archived"), utc(2, 10, 0), "Archive")
    later = imap_source(imap_server, folders=["INBOX", "Archive"], sync_state=state)
    after = listed(later, DAY)

    old_archive = [r for r in before if parse_key(r.external_id)[0] == "Archive"]
    [gone] = list(later.fetch(old_archive))
    assert isinstance(gone, FetchError) and gone.skip and "renumbered 'Archive'" in gone.reason
    renumbered = later.sync_state()
    assert renumbered is not None and state is not None
    assert renumbered["uidvalidity"]["Archive"] != state["uidvalidity"]["Archive"]
    new_archive = [r for r in after if parse_key(r.external_id)[0] == "Archive"]
    assert new_archive[0].external_id != old_archive[0].external_id
    assert subjects(list(later.fetch(new_archive))) == ["archived"]


def test_the_probe_changes_with_new_or_deleted_mail_and_not_with_reading(
    imap_server: DovecotServer,
) -> None:
    append(imap_server, message("one"), utc(2, 9, 0))
    source = imap_source(imap_server)
    first = source.probe_signature()
    assert source.probe_signature() == first

    imap = client(imap_server)
    imap.select_folder("INBOX")
    imap.add_flags(imap.search(["ALL"]), [b"\\Seen"])  # read in a mail client
    imap.logout()
    assert imap_source(imap_server).probe_signature() == first

    append(imap_server, message("two"), utc(2, 10, 0))
    with_new = imap_source(imap_server).probe_signature()
    assert with_new != first
    expunge(imap_server, parse_key(listed(source, DAY)[0].external_id)[2])
    assert imap_source(imap_server).probe_signature() not in (first, with_new)


@pytest.mark.parametrize("security", ["starttls", "plain"])
def test_starttls_and_plain_on_this_machine_connect(
    imap_server: DovecotServer, security: str
) -> None:
    append(imap_server, message("hello"), utc(2, 9, 0))
    source = imap_source(imap_server, port=imap_server.starttls_port, security=security)
    source.check()
    assert subjects(list(source.fetch(listed(source, DAY)))) == ["hello"]


def test_a_server_that_stops_mid_fetch_fails_the_batch_retryably_and_heals(
    imap_server: DovecotServer,
) -> None:
    for hour in range(6):
        append(imap_server, message(f"m{hour}"), utc(2, hour, 0))
    source = imap_source(imap_server)
    refs = listed(source, DAY)

    imap_server.stop()
    down = list(source.fetch(refs))
    imap_server.start()
    healed = list(source.fetch(refs))

    assert all(isinstance(e, FetchError) and e.retryable for e in down), down
    assert subjects(healed) == [f"m{hour}" for hour in range(6)]


def test_an_unknown_security_mode_is_refused(imap_server: DovecotServer) -> None:
    with pytest.raises(SourceError, match="tls, starttls or plain"):
        imap_source(imap_server, security="ssl3").check()


def test_xoauth2_logs_in_with_a_live_token_and_a_dead_one_asks_to_reconnect() -> None:
    with token_introspection() as url, dovecot({USER: PASSWORD}, introspection_url=url) as server:
        append(server, message("by token"), utc(2, 9))
        source = imap_source(server, token=GOOD_TOKEN)

        assert subjects(list(source.fetch(listed(source, DAY)))) == ["by token"]
        with pytest.raises(CredentialsRevoked, match=r"refused the login of ann@example\.test"):
            imap_source(server, token="ya29.expired").check()


def test_a_probe_logs_out_instead_of_leaving_its_session_open(imap_server: DovecotServer) -> None:
    """Servers cap sessions per account (Gmail at 15): the 15-minute probe must not hold one."""
    append(imap_server, message("one"), utc(2, 9))
    target = ProbeTarget(
        key="imap-1",
        provider="imap",
        account=USER,
        options=options(imap_server),
        credentials=encrypt({"password": PASSWORD}, key=KEY),
        sync_state={},
        last_token=None,
        last_status=None,
        last_success_at=None,
    )

    def sessions() -> tuple[int, int]:
        """(sessions logged in, sessions that ended with LOGOUT) so far, from Dovecot's log."""
        log = imap_server.log_tail(100_000)
        return log.count("imap-login: Info: Login:"), log.count("Disconnected: Logged out")

    def settled(logins: int) -> tuple[int, int]:
        """Wait until ``logins`` sessions have logged in and every one of them has ended."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            log = imap_server.log_tail(100_000)
            ended = len(re.findall(r"imap\(\S*: Info: Disconnected", log))
            if log.count("imap-login: Info: Login:") >= logins and ended >= logins:
                break
            time.sleep(0.05)  # Dovecot writes its log line as the session ends
        return sessions()

    # The append above logged in once; its LOGOUT line may still be on its way.
    logged_in, logged_out = settled(1)
    outcome = probe_one(target, credentials_key=KEY)

    assert outcome.token and outcome.error is None
    assert settled(logged_in + 1) == (logged_in + 1, logged_out + 1)
