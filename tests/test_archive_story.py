"""The two-month story, at library level, as a user lives it.

Month 1: the first export. Month 2: the phone has deleted one message and the owner
edited another; the archive must still show the deleted message (flagged, with the date
of the backup that first lacked it) and both texts of the edited one. Month 2 again, on
the same backup: nothing is rendered, nothing rewritten.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from coldtexts.archive import Archive, Reason, status, verify
from test_archive_factory import conversation, edited, message, run_once, source


def test_two_months_of_backups(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    mom = conversation(1, name="Mom")
    month1 = [
        message("hello", mom, 0, "Are you coming Sunday?"),
        message("reply", mom, 5, "Yes, at 2", from_me=True),
        message("secret", mom, 9, "The gift is in the garage"),
    ]
    first_ingest, first_render = run_once(root, [mom], month1, src=source(0))
    assert first_ingest.messages_new == 3 and first_render.rendered > 0

    month2 = [month1[0], edited(month1[1], "Yes, at 3"),
              message("later", mom, 60 * 24 * 20, "See you then")]
    second_ingest, second_render = run_once(root, [mom], month2, src=source(30))
    assert second_ingest.marked_no_longer_on_device == 1
    page = (root / "conversations" / "Mom" / "2019.txt").read_text()
    backup2_day = (source(30).backup_date).date().isoformat()
    assert f"m-secret Person 1 'The gift is in the garage' gone={backup2_day}" in page
    assert "m-reply Me 'Yes, at 3' rev[edited]='Yes, at 2'" in page
    assert second_render.rendered > 0

    before = {p: p.stat().st_mtime_ns for p in (root / "conversations").rglob("*")}
    third_ingest, third_render = run_once(root, [mom], month2, src=source(30))
    assert third_ingest.messages_new == third_ingest.messages_changed == 0
    assert third_render.rendered == 0
    assert {d.reason for d in third_render.decisions} == {Reason.UNCHANGED}
    assert {p: p.stat().st_mtime_ns for p in (root / "conversations").rglob("*")} == before

    info = status(root)
    assert (info.messages, info.messages_no_longer_on_device, len(info.sources)) == (4, 1, 2)
    assert verify(root).ok


def test_a_backup_from_the_new_phone_keeps_the_old_phones_history(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    mom = conversation(1, name="Mom")
    old_phone = [message(f"old-{i}", mom, i, f"old phone {i}") for i in range(3)]
    run_once(root, [mom], old_phone, src=source(0, udid="OLD-PHONE"))
    new_phone = [message("new-0", mom, 100, "first on the new phone")]
    ingest, _ = run_once(root, [mom], new_phone, src=source(60, udid="NEW-PHONE"))
    assert ingest.marked_no_longer_on_device == 0  # another device proves nothing
    with Archive.open(root) as archive:
        assert archive.attachments_needing_files() == []
    text = (root / "conversations" / "Mom" / "2019.txt").read_text()
    assert all(f"old phone {i}" in text for i in range(3)) and "gone=" not in text
    assert source(60).backup_date - source(0).backup_date == timedelta(days=60)
