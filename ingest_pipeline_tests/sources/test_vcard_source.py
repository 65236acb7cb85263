"""The vCard source: ids, versions, cursors and fetches over real files on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest_pipeline.domain import FetchError, ItemRef, RawItem, sha256_hex
from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.vcard.vcard_source import VCardSource


def card(name: str, *, uid: str | None = None, email: str | None = None) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{name}"]
    if uid:
        lines.append(f"UID:{uid}")
    lines.append(f"EMAIL:{email or name.lower().replace(' ', '.') + '@example.com'}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def write(path: Path, *cards: str, prefix: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(prefix + "".join(cards).encode("utf-8"))
    return path


def listing(source: VCardSource, cursor: str | None = None) -> list[ItemRef]:
    return [ref for page in source.enumerate(None, cursor) for ref in page.items]


def fetched(source: VCardSource, refs: list[ItemRef]) -> dict[str, RawItem | FetchError]:
    return {item.external_id: item for item in source.fetch(refs)}


def raw(item: RawItem | FetchError) -> bytes:
    assert isinstance(item, RawItem), item
    return item.data


def test_check_says_what_is_wrong_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        VCardSource(tmp_path / "nowhere.vcf").check()
    notes = tmp_path / "notes.vcf"
    notes.write_text("just some notes\n")
    with pytest.raises(SourceError, match="holds no vCard"):
        VCardSource(notes).check()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text(card("Not Read"))
    with pytest.raises(SourceError, match=r"holds no \.vcf or \.vcard file"):
        VCardSource(empty).check()
    write(empty / "blank.vcf")
    with pytest.raises(SourceError, match="none of its 1 files has BEGIN:VCARD"):
        VCardSource(empty).check()
    utf16 = tmp_path / "outlook.vcf"
    utf16.write_bytes(card("Wide Text").encode("utf-16"))
    with pytest.raises(SourceError, match="UTF-16"):
        VCardSource(utf16).check()


def test_ids_are_stable_and_versions_are_card_hashes(tmp_path: Path) -> None:
    book = write(tmp_path / "book.vcf", card("Ann Lee", uid="a-1"), card("Bo Park"))
    first, second = listing(VCardSource(book)), listing(VCardSource(book))
    assert first == second
    bo_card = card("Bo Park").encode()
    assert [ref.external_id for ref in first] == ["uid:a-1", f"sha256:{sha256_hex(bo_card)}"]
    assert first[1].version == sha256_hex(bo_card)
    assert all(ref.received_at is None for ref in first)


def test_cursor_resumes_after_the_last_page_without_loss_or_repeat(tmp_path: Path) -> None:
    book = write(tmp_path / "big.vcf", *(card(f"Person {n}", uid=f"p{n}") for n in range(1203)))
    source = VCardSource(book)
    pages = list(source.enumerate(None, None))
    assert [len(page.items) for page in pages] == [500, 500, 203]
    assert [page.cursor for page in pages] == ["500", "1000", "1203"]
    resumed = listing(VCardSource(book), pages[0].cursor)
    everything = [ref.external_id for ref in pages[0].items] + [r.external_id for r in resumed]
    assert everything == [f"uid:p{n}" for n in range(1203)]
    assert listing(source, pages[-1].cursor) == []
    with pytest.raises(SourceError, match="cursor"):
        listing(source, "page-two")


def test_editing_one_card_changes_only_its_version(tmp_path: Path) -> None:
    path = tmp_path / "book.vcf"
    write(path, card("Ann Lee", uid="a"), card("Bo Park", uid="b"))
    before = {ref.external_id: ref.version for ref in listing(VCardSource(path))}
    write(path, card("Ann Lee", uid="a"), card("Bo Park", uid="b", email="bo@new.example.com"))
    after = {ref.external_id: ref.version for ref in listing(VCardSource(path))}
    assert before.keys() == after.keys()
    assert before["uid:a"] == after["uid:a"]
    assert before["uid:b"] != after["uid:b"]


def test_repeated_uids_and_identical_cards_are_all_listed(tmp_path: Path) -> None:
    twin = card("No Uid")
    book = write(
        tmp_path / "book.vcf",
        card("Ann Lee", uid="same"),
        card("Ann Lee (work)", uid="same", email="ann@work.example.com"),
        twin,
        twin,
    )
    source = VCardSource(book)
    ids = [ref.external_id for ref in listing(source)]
    hashed = f"sha256:{sha256_hex(twin.encode())}"
    assert ids == ["uid:same", "uid:same#2", hashed, f"{hashed}#2"]
    items = fetched(source, listing(source))
    assert b"ann@work.example.com" in raw(items["uid:same#2"])
    assert raw(items[f"{hashed}#2"]) == twin.encode()


def test_fetch_returns_each_card_byte_for_byte(tmp_path: Path) -> None:
    cards = [card("Ann Lee", uid="a"), card("Bo Park")]
    source = VCardSource(write(tmp_path / "book.vcf", *cards))
    refs = listing(source)
    items = list(source.fetch(refs))
    assert [item.data for item in items if isinstance(item, RawItem)] == [c.encode() for c in cards]
    assert [item.content_hash for item in items if isinstance(item, RawItem)] == [
        ref.version for ref in refs
    ]


def test_fetch_of_an_unknown_id_is_a_fetch_error(tmp_path: Path) -> None:
    source = VCardSource(write(tmp_path / "book.vcf", card("Ann Lee", uid="a")))
    [error] = source.fetch([ItemRef(external_id="uid:never-listed")])
    assert isinstance(error, FetchError)
    assert error.reason.startswith("card uid:never-listed is no longer in")
    assert not error.retryable


def test_fetch_after_a_card_was_removed_says_it_is_gone(tmp_path: Path) -> None:
    path = write(tmp_path / "book.vcf", card("Ann Lee", uid="a"), card("Bo Park", uid="b"))
    source = VCardSource(path)
    refs = listing(source)
    write(path, card("Bo Park", uid="b"))
    items = fetched(source, refs)
    gone = items["uid:a"]
    assert isinstance(gone, FetchError)
    assert gone.reason == f"card uid:a is no longer in {path}"
    assert isinstance(items["uid:b"], RawItem)
    path.unlink()
    [missing] = source.fetch(refs[1:])
    assert isinstance(missing, FetchError)
    assert "the path does not exist" in missing.reason


def test_a_folder_is_read_recursively_in_path_order(tmp_path: Path) -> None:
    write(tmp_path / "b" / "team.VCF", card("Cy Diaz", uid="c"))
    write(tmp_path / "a.vcard", card("Ann Lee", uid="a"), card("Bo Park", uid="b"))
    write(tmp_path / "notes.txt", card("Not Listed", uid="x"))
    write(tmp_path / "._a.vcf", card("Resource Fork", uid="y"))
    source = VCardSource(tmp_path)
    source.check()
    refs = listing(source)
    assert [ref.external_id for ref in refs] == ["uid:a", "uid:b", "uid:c"]
    assert b"Cy Diaz" in raw(fetched(source, refs)["uid:c"])


def test_byte_order_mark_stray_text_and_line_ends_are_tolerated(tmp_path: Path) -> None:
    lf_card = card("Lf Only", uid="lf").replace("\r\n", "\n")
    ios_card = card("Cr Cr Lf", uid="ios").replace("\r\n", "\r\r\n")
    lower = card("Lower Case", uid="low").replace("BEGIN:VCARD", "begin:vCard")
    book = write(
        tmp_path / "book.vcf",
        "exported by some tool\r\n",
        lf_card,
        "\r\n-- separator --\r\n",
        ios_card,
        lower,
        prefix=b"\xef\xbb\xbf",
    )
    source = VCardSource(book)
    items = fetched(source, listing(source))
    assert list(items) == ["uid:lf", "uid:ios", "uid:low"]
    assert raw(items["uid:lf"]) == lf_card.encode()
    assert raw(items["uid:ios"]) == ios_card.encode()


def test_an_agent_card_stays_inside_its_card(tmp_path: Path) -> None:
    outer = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Boss;Pat\r\nAGENT:\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Assistant;Sam\r\nUID:inner\r\nEND:VCARD\r\n"
        "UID:outer\r\nEND:VCARD\r\n"
    )
    source = VCardSource(write(tmp_path / "book.vcf", outer, card("Ann Lee", uid="a")))
    items = fetched(source, listing(source))
    assert list(items) == ["uid:outer", "uid:a"]
    assert raw(items["uid:outer"]) == outer.encode()


def test_a_card_without_end_is_listed_and_does_not_swallow_the_next(tmp_path: Path) -> None:
    cut = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Short\r\nUID:cut\r\n"
    source = VCardSource(write(tmp_path / "book.vcf", cut, card("Ann Lee", uid="a"), cut))
    items = fetched(source, listing(source))
    assert list(items) == ["uid:cut", "uid:a", "uid:cut#2"]
    assert raw(items["uid:cut"]) == cut.encode()


def test_probe_signature_changes_with_the_files_only(tmp_path: Path) -> None:
    path = write(tmp_path / "book.vcf", card("Ann Lee", uid="a"))
    source = VCardSource(tmp_path)
    signature = source.probe_signature()
    assert VCardSource(tmp_path).probe_signature() == signature
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    touched = source.probe_signature()
    assert touched != signature
    write(tmp_path / "more.vcf", card("Bo Park", uid="b"))
    assert source.probe_signature() != touched
    assert source.sync_state() is None


def test_a_card_rewritten_with_the_same_size_and_mtime_is_retried(tmp_path: Path) -> None:
    path = write(tmp_path / "book.vcf", card("Ann Lee", uid="a", email="ann@example.com"))
    source = VCardSource(path)
    refs = listing(source)
    stat = path.stat()
    # Tools that preserve timestamps (cp -p, rsync -t) can leave size and mtime unchanged.
    write(path, card("Ann Lex", uid="a", email="ann@example.com"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    [error] = source.fetch(refs)
    assert isinstance(error, FetchError)
    assert error.retryable and "changed while it was read" in error.reason
    [again] = source.fetch(refs)
    assert b"FN:Ann Lex" in raw(again)
