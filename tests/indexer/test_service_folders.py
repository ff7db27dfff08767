"""Scoped passes (a change is looked at where it happened) and removing a folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scry.indexer.catalog import Catalog
from scry.indexer.engine import Engine
from scry.indexer.errors import BadInput
from scry.indexer.service import IndexService
from scry.indexer.vectors import VectorStore
from tests.conftest import make_image
from tests.indexer.test_service import wait_for

# watchdog 7 warns (in its observer thread) when a new folder's watch is registered twice, which
# is harmless; with warnings as errors it would kill the observer thread.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")


def paths(eng: Engine) -> set[str]:
    from sqlalchemy import select

    from scry.indexer.schema import File

    with eng.catalog.session() as s:
        return set(s.scalars(select(File.path)))


def test_scoped_pass_looks_only_where_asked(home: Path, clip_dir: Path, photos: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    root = str(photos.resolve())
    make_image(photos / "trip" / "new.png", (1, 200, 3), pattern=4)
    make_image(photos / "elsewhere.png", (200, 1, 3), pattern=6)
    (photos / "notes" / "tax.md").unlink()

    report = eng.index([photos], scopes={root: [str(photos / "trip")]})
    assert (report.new, report.deleted, report.seen) == (1, 0, 3)  # the 2 old + 1 new in trip/
    indexed = paths(eng)
    assert str(photos / "trip" / "new.png") in indexed
    assert str(photos / "elsewhere.png") not in indexed  # not in the scope: not looked at
    assert str(photos / "notes" / "tax.md") in indexed  # not in the scope: not forgotten

    report = eng.index([photos], scopes={root: [str(photos / "notes" / "tax.md")]})
    assert (report.deleted, report.seen) == (1, 0)
    report = eng.index([photos])  # a whole pass catches up with the rest
    assert report.new == 1 and str(photos / "elsewhere.png") in paths(eng)


def test_moves_between_scopes_keep_their_vectors(home: Path, clip_dir: Path, photos: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    root = str(photos.resolve())
    vectors = eng.status()["vectors"]

    (photos / "archive").mkdir()
    (photos / "trip").rename(photos / "archive" / "2023")  # a folder: one scope at each end
    report = eng.index([photos], scopes={root: [str(photos / "trip"), str(photos / "archive")]})
    assert (report.moved, report.new, report.deleted, report.embedded) == (2, 0, 0, 0)
    # only the new place is looked at; the old path vanished, so this is the same file
    (photos / "red.png").rename(photos / "archive" / "red.png")
    report = eng.index([photos], scopes={root: [str(photos / "archive" / "red.png")]})
    assert (report.moved, report.new, report.embedded) == (1, 0, 0)
    assert eng.status()["vectors"] == vectors
    assert eng.inspect(photos / "archive" / "red.png")["status"] == "ok"
    assert eng.inspect(photos / "archive" / "2023" / "yellow.webp")["status"] == "ok"
    assert eng.inspect(photos / "trip" / "blue.png")["status"] == "not_indexed"


def test_scoped_pass_on_an_offline_root_forgets_nothing(
    home: Path, clip_dir: Path, photos: Path, tmp_path: Path
) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    root = str(photos.resolve())
    shutil.move(photos, tmp_path / "unplugged")
    report = eng.index([Path(root)], scopes={root: [str(Path(root) / "trip")]})
    assert report.offline_roots == [root] and report.deleted == 0
    assert eng.status()["files"] == 6


def test_scopes_in_hidden_folders_are_ignored(home: Path, clip_dir: Path, photos: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    make_image(photos / ".cache" / "thumb.png", (9, 9, 9))
    report = eng.index(
        [photos], scopes={str(photos.resolve()): [str(photos / ".cache" / "thumb.png")]}
    )
    assert report.seen == 0 and str(photos / ".cache" / "thumb.png") not in paths(eng)


@pytest.fixture
def service(home: Path, clip_dir: Path):
    svc = IndexService(Engine(home=home, model=str(clip_dir)), settle_s=0.3)
    yield svc
    svc.stop()


def test_a_saved_file_is_a_pass_over_that_file_alone(service: IndexService, photos: Path) -> None:
    service.start()
    service.add_folder(photos)
    assert service.wait_idle(60)
    make_image(photos / "trip" / "sunset.png", (250, 120, 30), pattern=3)
    assert wait_for(
        lambda: service.engine.inspect(photos / "trip" / "sunset.png")["status"] == "ok"
    )
    assert service.wait_idle(60)
    report = service.status().last_report
    assert report is not None
    assert (report["new"], report["unchanged"]) == (1, 0)  # the 6 other files were not looked at


def test_remove_folder_forgets_it_and_leaves_the_disk_alone(
    service: IndexService, photos: Path, tmp_path: Path
) -> None:
    other = tmp_path / "docs"
    make_image(other / "kept.png", (10, 100, 200), pattern=2)
    (other / "letter.txt").write_text("Dear landlord, the heating is broken again.", "utf-8")
    service.start()
    service.add_folder(photos)
    service.add_folder(other)
    assert service.wait_idle(60)
    eng = service.engine
    on_disk = sorted(p.relative_to(photos) for p in photos.rglob("*"))
    assert eng.status()["files"] == 8

    assert service.remove_folder(photos) == 6
    assert service.roots() == [str(other.resolve())]
    assert [r.path for r in service.status().roots] == [str(other.resolve())]
    assert sorted(p.relative_to(photos) for p in photos.rglob("*")) == on_disk  # untouched
    st = eng.status()
    assert (st["files"], st["embedded_files"]) == (2, 2)
    assert [r["path"] for r in st["roots"]] == [str(other.resolve())]
    hits = eng.search_image(photos / "red.png", k=20)  # a picture like a forgotten one
    assert hits and all(Path(h.path).is_relative_to(other) for h in hits)
    assert all(
        Path(h.path).is_relative_to(other) for h in eng.query("beach dog waves").hits
    )  # text vectors and words are gone too

    make_image(photos / "after.png", (1, 1, 1))  # no longer followed
    make_image(other / "fresh.png", (2, 2, 2), pattern=5)
    assert wait_for(lambda: eng.inspect(other / "fresh.png")["status"] == "ok")
    assert service.wait_idle(60)
    assert eng.inspect(photos / "after.png")["status"] == "not_indexed"

    service.stop()
    cat = Catalog.open(eng.home)
    assert cat.integrity_check() == "ok"
    vs = VectorStore(eng.home, cat, eng.vectors.model_id, eng.vectors.dim).open()
    assert vs.rebuilt == []  # the saved indexes agree with the catalog as they are
    assert sum(len(ix) for ix in vs.indexes.values()) == eng.status()["vectors"]
    cat.close()
    with pytest.raises(BadInput, match="not an indexed folder"):
        eng.remove_root(photos)
