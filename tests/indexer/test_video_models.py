"""Videos given whole to models that read video; CLIP-class models keep sampled frames only.

No real video model can run here: every transformers video processor needs torchvision, which
cannot be installed beside the CPU build of torch this project uses. So the model is the thinnest
stand-in at the sentence-transformers boundary: the real tiny CLIP (``clip_dir``), whose
``modalities`` add "video" and whose encoding of a video input (the ``{"array",
"video_metadata"}`` form sentence-transformers takes, checked with its own ``infer_modality``)
is the normalised mean of the real CLIP image embeddings of the video's frames: a real, if
simple, video embedder. It is put where the Embedder holds its SentenceTransformer; extraction
(in the decoder processes), storage, the vector indexes and search all run for real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sentence_transformers.base.modality import infer_modality

from scry.indexer.engine import Engine
from scry.indexer.extract import extract, model_image_side
from scry.indexer.models import Embedder
from scry.indexer.search import SearchOptions
from tests.indexer.test_extract_video import make_video, needs_ffmpeg

pytestmark = needs_ffmpeg


class VideoReadingClip:
    """A real SentenceTransformer (tiny CLIP) that also reads whole videos (see the docstring)."""

    def __init__(self, inner: Any, modalities: tuple[str, ...]) -> None:
        self._inner = inner
        self._modalities = modalities

    @property
    def modalities(self) -> list[str]:
        return list(self._modalities)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __iter__(self) -> Any:
        return iter(self._inner)

    def encode_document(self, inputs: list[Any], **kwargs: Any) -> np.ndarray:
        if not all(infer_modality(x) == "video" for x in inputs):
            return self._inner.encode_document(inputs, **kwargs)
        rows = []
        for video in inputs:
            frames = self._inner.encode(
                list(video["array"]), convert_to_numpy=True, show_progress_bar=False
            )
            mean = np.asarray(frames, dtype=np.float32).mean(axis=0)
            rows.append(mean / np.linalg.norm(mean))
        return np.stack(rows)


def reads_video(monkeypatch: pytest.MonkeyPatch, modalities: tuple[str, ...]) -> None:
    load = Embedder._load
    monkeypatch.setattr(Embedder, "_load", lambda self: VideoReadingClip(load(self), modalities))


@pytest.fixture
def films(tmp_path: Path) -> Path:
    folder = tmp_path / "films"
    make_video(folder / "harbour.mp4")  # 6 s at 8 fps: 48 frames, red/green/blue/grey shots
    (folder / "dog.txt").write_text("My dog loves running on the beach.", encoding="utf-8")
    return folder


def test_a_video_gets_its_frames_and_one_whole_video_vector(
    home: Path, films: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads_video(monkeypatch, ("text", "image", "video"))
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([films])
    assert (report.new, report.failed) == (2, 0)

    info = eng.inspect(films / "harbour.mp4", vectors=True)
    assert [it["kind"] for it in info["items"]] == ["frame"] * 3 + ["video"]
    assert all(set(it["vectors"]) == {"image"} for it in info["items"][:3])  # frames as before
    whole = info["items"][3]
    assert set(whole["vectors"]) == {"video"} and whole["locator"] == {}

    # The stored vector is the model's reading of the sampled frames, with their metadata.
    side = model_image_side(eng.embedder.load())
    ex = extract(films / "harbour.mp4", side=side, sandbox=False, modalities=("image", "video"))
    video = ex.items[-1].video
    assert len(video["array"]) == 32  # max_frames by default (the clip has 48)
    meta = video["video_metadata"]
    assert meta["total_num_frames"] == 32 and meta["frames_indices"] == list(range(32))
    assert meta["duration"] == pytest.approx(6.0, abs=0.2)
    assert meta["fps"] == pytest.approx(32 / meta["duration"])
    expected = eng.embedder.encode_videos([video])[0]
    stored = np.asarray(whole["vector"], dtype=np.float32)
    assert float(stored @ expected) > 0.999
    frame = np.asarray(info["items"][0]["vectors"]["image"], dtype=np.float32)
    assert float(stored @ frame) < 0.999  # the whole video, not one frame of it

    assert eng.status()["video_vectors"] == 1
    eng.close()
    assert (home / "vectors" / "model1-video.hnsw").is_file()
    again = Engine(home=home, model=str(clip_dir))  # the saved video index loads as it is
    assert again.load_model() and again.vectors is not None
    assert again.vectors.count("video") == 1 and again.vectors.rebuilt == []
    again.close()


def test_words_reach_a_video_through_its_whole_video_vector(
    home: Path, films: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A model that reads words and videos but not still images: the video's only vector is
    # the whole-video one, so a word query can reach the video through that index alone.
    reads_video(monkeypatch, ("text", "video"))
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([films])
    opts = SearchOptions(k=5, mode="vector", cutoff=False)
    hits = eng.query("boats leaving at dawn", options=opts, rerank=False).hits
    video_hits = [h for h in hits if h.path.endswith("harbour.mp4")]
    assert video_hits and video_hits[0].kind == "video"
    assert video_hits[0].sources == ["vectors"] and video_hits[0].similarity is not None
    eng.close()


def test_clip_gets_sampled_frames_only(home: Path, films: Path, clip_dir: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([films])
    info = eng.inspect(films / "harbour.mp4", vectors=True)
    assert [it["kind"] for it in info["items"]] == ["frame"] * 3
    assert eng.status()["video_vectors"] == 0
    eng.close()
    assert not (home / "vectors" / "model1-video.hnsw").exists()


def test_a_long_video_never_decodes_more_than_max_frames_for_the_whole_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchcodec.decoders import VideoDecoder

    path = make_video(tmp_path / "long.mp4", seconds=60, fps=4)  # 240 frames
    asked: list[int] = []
    real = VideoDecoder.get_frames_played_at

    def counting(self: Any, seconds: Any) -> Any:
        asked.append(len(seconds))
        return real(self, seconds)

    monkeypatch.setattr(VideoDecoder, "get_frames_played_at", counting)
    ex = extract(path, side=32, sandbox=False, modalities=("image", "video"), max_frames=5)
    video = ex.items[-1].video
    assert sum(asked) == 5 and len(video["array"]) == 5
    assert min(video["array"][0].size) == 32  # decoded at the model's side, not 120 px
    assert ex.items[-1].time_s is None and ex.items[0].kind == "frame"

    # A rate, when set, is honoured below the cap: 0.25 frames a second over 60 s is 15.
    ex = extract(path, side=32, sandbox=False, modalities=("video",), video_fps=0.25)
    assert len(ex.items[-1].video["array"]) == 15
    # A short clip never gives more frames than it has (2 s at 4 fps: 8, not 32).
    short = make_video(tmp_path / "short.mp4", seconds=2, fps=4)
    ex = extract(short, side=32, sandbox=False, modalities=("video",))
    assert len(ex.items[-1].video["array"]) == 8
