"""Videos: frames sampled across the duration, each an item with its timestamp; and without FFmpeg,
indexed by name with status saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from scry.indexer.config import Settings
from scry.indexer.engine import Engine
from scry.indexer.extract import extract
from scry.indexer.extract import video as video_mod
from scry.indexer.extract.video import mp4_meta, sample_times, video_support

needs_ffmpeg = pytest.mark.skipif(
    video_support() is not None,
    reason=f"video decoding unavailable here: {video_support()} (scripts/setup installs ffmpeg)",
)


def make_video(path: Path, *, seconds: float = 6.0, fps: int = 8, static: bool = False) -> Path:
    """A clip whose colour changes every 1.5 s (red, green, blue, grey), or one still shot."""
    import torch
    from torchcodec.encoders import VideoEncoder

    n = int(seconds * fps)
    frames = torch.zeros((n, 3, 120, 160), dtype=torch.uint8)
    colors = [(220, 20, 20), (20, 220, 20), (20, 20, 220), (128, 128, 128)]
    for i in range(n):
        c = colors[0] if static else colors[int(i / fps / 1.5) % 4]
        for ch in range(3):
            frames[i, ch] = c[ch]
    path.parent.mkdir(parents=True, exist_ok=True)
    VideoEncoder(frames, frame_rate=fps).to_file(str(path))
    return path


def test_sample_times_cover_the_duration() -> None:
    assert sample_times(6.0, 16) == [1.0, 3.0, 5.0]
    times = sample_times(600.0, 16)
    assert len(times) == 16 and times[0] > 0 and times[-1] < 600
    assert len(sample_times(3600.0, 8)) == 8


@needs_ffmpeg
def test_frames_are_items_with_timestamps(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4")
    ex = extract(path, side=32, sandbox=False)  # torch is loaded here already
    assert ex.kind == "video"
    assert [it.kind for it in ex.items] == ["frame"] * 3
    assert [it.time_s for it in ex.items] == pytest.approx([1.0, 3.0, 5.0], abs=0.13)
    assert ex.items[0].locator == {"time": pytest.approx(1.0, abs=0.13)}
    assert ex.meta["duration_s"] == pytest.approx(6.0, abs=0.2)
    assert (ex.meta["width"], ex.meta["height"], ex.meta["fps"]) == (160, 120, 8.0)
    reds = [it.image.getpixel((80, 60))[0] for it in ex.items]
    assert reds[0] > 150 and reds[1] < 80  # the first frame is from the red shot, then green


@needs_ffmpeg
def test_a_still_shot_gives_one_frame(tmp_path: Path) -> None:
    ex = extract(make_video(tmp_path / "still.mp4", static=True), side=32, sandbox=False)
    assert len(ex.items) == 1


@needs_ffmpeg
def test_mkv_container(tmp_path: Path) -> None:
    ex = extract(make_video(tmp_path / "clip.mkv", seconds=3), side=32, sandbox=False)
    assert ex.kind == "video" and ex.items


@needs_ffmpeg
def test_mp4_header_gives_duration_and_size_without_ffmpeg(tmp_path: Path) -> None:
    meta = mp4_meta(make_video(tmp_path / "clip.mp4"))
    assert meta["duration_s"] == pytest.approx(6.0, abs=0.2)
    assert (meta["width"], meta["height"]) == (160, 120)


@needs_ffmpeg
def test_video_frames_are_searchable_with_their_time(
    home: Path, tmp_path: Path, clip_dir: Path
) -> None:
    folder = tmp_path / "films"
    make_video(folder / "harbour-timelapse.mp4")
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([folder])
    assert (report.new, report.failed, report.embedded) == (1, 0, 3)
    info = eng.inspect(folder / "harbour-timelapse.mp4")
    assert info["kind"] == "video" and info["status"] == "ok"
    assert [it["locator"]["time"] for it in info["items"]] == pytest.approx(
        [1.0, 3.0, 5.0], abs=0.13
    )
    hits = eng.search("harbour timelapse", k=3)
    assert hits and hits[0].kind == "frame" and "time" in hits[0].locator
    assert eng.status()["video"] is None


def test_without_ffmpeg_videos_are_indexed_by_name_and_status_says_why(
    home: Path, tmp_path: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "films"
    folder.mkdir()
    clip = folder / "birthday-party.mp4"
    if video_support() is None:
        make_video(clip)
    else:  # no encoder here either: a minimal MP4 header is all the name-only path reads
        clip.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64))
    missing = "FFmpeg's libraries are missing (on Debian or Ubuntu: sudo apt-get install ffmpeg)"
    monkeypatch.setattr(video_mod, "video_support", lambda: missing)
    settings = Settings(extra={"isolate_decoders": False})  # the patch must be seen in-process
    eng = Engine(home=home, model=str(clip_dir), settings=settings)
    report = eng.index([folder])
    assert (report.new, report.failed) == (1, 0)
    assert report.notes == [(str(clip), f"frames not read: {missing}")]
    info = eng.inspect(clip)
    assert info["status"] == "ok" and info["reason"].startswith("frames not read")
    assert [it["kind"] for it in info["items"]] == ["video"]
    st = eng.status()
    assert "apt-get install ffmpeg" in st["video"]
    assert st["notes"] == [{"path": str(clip), "note": f"frames not read: {missing}"}]
    assert eng.search("birthday", k=1)[0].path == str(clip)
    if video_support() is None:  # FFmpeg arrives: the next run reads the frames
        monkeypatch.undo()
        again = Engine(home=home, model=str(clip_dir), settings=settings).index([folder])
        assert again.embedded == 3 and again.unchanged == 1
        assert [it["kind"] for it in eng.inspect(clip)["items"]] == ["frame"] * 3
