"""The background service with real watchdog observers on temp folders."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from scry.indexer.engine import Engine
from scry.indexer.service import IndexService
from tests.conftest import make_image


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def service(home: Path, clip_dir: Path):
    svc = IndexService(Engine(home=home, model=str(clip_dir)), settle_s=0.3)
    yield svc
    svc.stop()


def test_new_changed_moved_deleted_files_are_followed(service: IndexService, photos: Path) -> None:
    service.start()
    service.add_folder(photos)
    assert service.wait_idle(60)
    eng = service.engine
    assert eng.status()["files"] == 6
    embedded_before = eng.status()["vectors"]

    make_image(photos / "new.png", (5, 5, 5))
    assert wait_for(lambda: eng.inspect(photos / "new.png")["status"] == "ok")
    assert service.wait_idle(60)

    shutil.move(photos / "trip", photos / "holiday")  # a folder move: no re-embedding
    assert wait_for(lambda: eng.inspect(photos / "holiday" / "blue.png")["status"] == "ok")
    assert service.wait_idle(60)
    assert eng.inspect(photos / "trip" / "blue.png")["status"] == "not_indexed"
    assert eng.status()["vectors"] == embedded_before + 1  # only new.png was embedded

    (photos / "notes" / "tax.md").unlink()
    assert wait_for(lambda: eng.inspect(photos / "notes" / "tax.md")["status"] == "not_indexed")

    # an editor's save: write a temp file, rename it over the original
    tmp = photos / "notes" / ".dogs.txt.swp"
    tmp.write_text("My dog now prefers the lake to the beach.", encoding="utf-8")
    tmp.replace(photos / "notes" / "dogs.txt")
    assert wait_for(
        lambda: any(
            "lake" in h.path or Path(h.path).name == "dogs.txt"
            for h in eng.query("lake", options=None).hits
        )
    )
    st = service.status()
    assert st.state in ("idle", "indexing") and st.last_error is None
    assert {r.watch for r in st.roots} == {"events"}


def test_pause_resume_and_status_snapshot(service: IndexService, photos: Path) -> None:
    service.start()
    service.pause()
    service.add_folder(photos)
    assert wait_for(lambda: service.status().state == "paused")
    time.sleep(0.5)
    assert service.engine.status()["files"] == 0  # nothing happens while paused
    service.resume()
    assert service.wait_idle(60)
    assert service.engine.status()["files"] == 6
    st = service.status()
    assert st.passes >= 1 and st.last_report is not None and st.state == "idle"


def test_polling_fallback_is_reported_and_works(home: Path, clip_dir: Path, photos: Path) -> None:
    svc = IndexService(
        Engine(home=home, model=str(clip_dir)),
        settle_s=0.2,
        poll_interval_s=0.5,
        force_polling=True,
    )
    try:
        svc.start()
        svc.add_folder(photos)
        assert svc.wait_idle(60)
        assert [r.watch for r in svc.status().roots] == ["polling"]
        make_image(photos / "polled.png", (1, 2, 3))
        assert wait_for(lambda: svc.engine.inspect(photos / "polled.png")["status"] == "ok")
    finally:
        svc.stop()


def test_vanished_root_is_kept_offline_and_comes_back_without_reembedding(
    service: IndexService, photos: Path, tmp_path: Path
) -> None:
    service.start()
    service.add_folder(photos)
    assert service.wait_idle(60)
    vectors = service.engine.status()["vectors"]
    parked = tmp_path / "unplugged"
    shutil.move(photos, parked)  # the drive is unplugged
    assert wait_for(lambda: [r.watch for r in service.status().roots] == ["offline"])
    service.rescan()
    assert service.wait_idle(60)
    assert service.engine.status()["files"] == 6  # nothing de-indexed
    shutil.move(parked, photos)  # plugged back in
    assert wait_for(lambda: [r.watch for r in service.status().roots] == ["events"])
    assert service.wait_idle(60)
    assert service.engine.status()["vectors"] == vectors


def test_model_switch_runs_in_background_and_swaps_when_complete(
    home: Path, clip_dir: Path, minilm_dir: Path, photos: Path
) -> None:
    svc = IndexService(Engine(home=home, model=str(clip_dir)), settle_s=0.2)
    try:
        svc.start()
        svc.add_folder(photos)
        assert svc.wait_idle(60)
        old_engine = svc.engine
        svc.switch_model(str(minilm_dir))
        # the old index answers while the new one is built
        assert old_engine.query("type:photo").hits
        assert wait_for(lambda: (svc.status().switch or {}).get("state") == "done", 120)
        st = svc.status()
        assert st.model == str(minilm_dir) and svc.engine is not old_engine
        assert svc.engine.status()["dimension"] == 384
        assert Engine(home=home).settings.model == str(minilm_dir)  # persisted
        hits = svc.engine.query("puppy playing by the sea").hits
        assert Path(hits[0].path).name == "dogs.txt"
    finally:
        svc.stop()


def test_cancelled_model_switch_leaves_the_old_index(
    home: Path, clip_dir: Path, minilm_dir: Path, photos: Path
) -> None:
    svc = IndexService(Engine(home=home, model=str(clip_dir)), settle_s=0.2)
    try:
        svc.start()
        svc.add_folder(photos)
        assert svc.wait_idle(60)
        old_engine = svc.engine
        before = old_engine.status()
        svc.switch_model(str(minilm_dir))
        svc.cancel_switch()
        assert svc.engine is old_engine and svc.status().model == str(clip_dir)
        assert (svc.status().switch or {}).get("state") in ("cancelled", "done")
        if svc.status().switch["state"] == "cancelled":
            after = old_engine.status()
            assert (after["vectors"], after["dimension"]) == (
                before["vectors"],
                before["dimension"],
            )
            assert Engine(home=home).settings.model is None
    finally:
        svc.stop()


def test_inotify_limit_falls_back_to_polling(
    home: Path, clip_dir: Path, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from watchdog.observers import Observer

    def refuse(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(Observer, "schedule", refuse)  # what the kernel answers past the limit
    svc = IndexService(Engine(home=home, model=str(clip_dir)), settle_s=0.2, poll_interval_s=0.5)
    try:
        svc.start()
        svc.add_folder(photos)
        assert svc.wait_idle(60)
        (root,) = svc.status().roots
        assert root.watch == "polling" and "refused more watches" in (root.note or "")
        make_image(photos / "after-limit.png", (9, 9, 9))
        assert wait_for(lambda: svc.engine.inspect(photos / "after-limit.png")["status"] == "ok")
    finally:
        svc.stop()
