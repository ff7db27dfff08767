"""Videos through torchcodec (FFmpeg): frames sampled across the duration, one item per frame.

A clip gets one frame per ~10 seconds, at least 3 and at most the frame cap, each from the
middle of its stretch of time (so no black first frame or end card); a frame that looks like the
one before it (a static shot) is dropped. Each item carries its timestamp, so a hit opens the
video there. Duration, size, frame rate and codec are metadata; MP4/MOV files also give their
recording date from the ``mvhd`` box, read directly from the file.

For models that read video (``"video"`` in ``Options.modalities``) the file also gives one
whole-video item, last: at most ``max_frames`` frames spread evenly over the video (``video_fps``
a second when set), decoded by FFmpeg straight to the model's side length, with metadata that
describes those frames, in the form sentence-transformers takes (``{"array": frames,
"video_metadata": {...}}``). The frame items stay: they give timestamped hits and thumbnails.

Where torchcodec or FFmpeg's libraries are missing the video is still indexed, by name, folder
and what the container says, with a note that says why its frames were not read.
"""

from __future__ import annotations

import functools
import logging
import math
import struct
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from .base import MAX_PIXELS, Extracted, ExtractedItem, ExtractionError, Options, SkipFile

log = logging.getLogger(__name__)

SECONDS_PER_FRAME = 10.0
MIN_FRAMES = 3
#: Mean absolute difference (0-255) of tiny greyscale copies below which a frame repeats.
SAME_SHOT = 3.0
#: The whole-video input's frames have their shorter side at most this (memory stays bounded).
VIDEO_SIDE_MAX = 448
#: Frames of the whole-video input decoded at once.
DECODE_CHUNK = 8


@functools.cache
def video_support() -> str | None:
    """None when video frames can be read here; otherwise why not, with the fix."""
    try:
        from torchcodec.decoders import VideoDecoder  # noqa: F401
    except ImportError:
        return "the torchcodec package is not installed (pip install torchcodec==0.13.0)"
    except Exception as exc:  # "Could not load libtorchcodec": FFmpeg's libraries are missing
        log.info("torchcodec cannot load FFmpeg: %s", exc)
        return (
            "FFmpeg's libraries are missing or of an unsupported version "
            "(on Debian or Ubuntu: sudo apt-get install ffmpeg)"
        )
    return None


def sample_times(duration: float, cap: int) -> list[float]:
    """Where to take frames: the middles of equal stretches of the video."""
    if duration <= 0:
        return [0.0]
    n = max(MIN_FRAMES, min(cap, round(duration / SECONDS_PER_FRAME)))
    n = max(1, min(n, cap))
    return [(i + 0.5) * duration / n for i in range(n)]


def extract_video(path: Path, opts: Options) -> Extracted:
    meta: dict[str, Any] = {}
    try:
        meta.update(mp4_meta(path))
    except OSError:
        raise
    except Exception as exc:
        log.debug("No MP4 header data in %s: %s", path, exc)
    reason = video_support()
    if reason is not None:
        return Extracted("video", [ExtractedItem("video")], meta, note=f"frames not read: {reason}")
    from torchcodec.decoders import VideoDecoder

    try:
        decoder = VideoDecoder(str(path), seek_mode="approximate", dimension_order="NHWC")
    except ValueError as exc:
        if "stream" in str(exc).lower():
            raise SkipFile("audio only: no pictures to index") from exc
        raise ExtractionError(f"damaged or unsupported video: {_first_line(exc)}") from exc
    except RuntimeError as exc:
        raise ExtractionError(f"damaged or unsupported video: {_first_line(exc)}") from exc
    md = decoder.metadata
    width, height = int(md.width or 0), int(md.height or 0)
    if width * height > MAX_PIXELS:
        raise ExtractionError(f"video frames too large to decode safely ({width}x{height})")
    duration = float(md.duration_seconds or meta.get("duration_s") or 0.0)
    begin = float(getattr(md, "begin_stream_seconds", 0.0) or 0.0)
    meta.update(
        {
            "format": f"video {md.codec}" if md.codec else "video",
            "duration_s": round(duration, 3),
            "width": width,
            "height": height,
        }
    )
    if md.average_fps:
        meta["fps"] = round(float(md.average_fps), 3)
    items: list[ExtractedItem] = []
    last_sig = None
    errors = 0
    for t in sample_times(duration, opts.frame_cap):
        try:
            frame = decoder.get_frame_played_at(min(begin + t, begin + max(0.0, duration - 1e-3)))
        except (RuntimeError, IndexError, ValueError) as exc:
            log.info("Cannot read the frame at %.1fs of %s: %s", t, path, _first_line(exc))
            errors += 1
            continue
        image = _fit(Image.fromarray(frame.data.numpy()), opts.side)
        sig = image.convert("L").resize((16, 16), Image.Resampling.BOX)
        if last_sig is not None and _difference(sig, last_sig) < SAME_SHOT:
            continue
        last_sig = sig
        items.append(ExtractedItem("frame", time_s=float(frame.pts_seconds), image=image))
    if not items:
        raise ExtractionError("damaged video: no frame could be read")
    meta["frames_indexed"] = len(items)
    note = f"{errors} frame(s) could not be read" if errors else None
    if "video" in opts.modalities:
        try:
            items.append(whole_video(path, (width, height), duration, begin, opts))
        except (RuntimeError, IndexError, ValueError) as exc:
            log.info("Cannot read %s whole for the model: %s", path, _first_line(exc))
            note = "; ".join(filter(None, [note, "the video could not be read whole"]))
    return Extracted("video", items, meta, note=note)


def whole_video_times(
    duration: float, max_frames: int, fps: float | None = None, available: int | None = None
) -> list[float]:
    """When to take the whole-video input's frames: ``fps`` a second when set, else
    ``max_frames`` evenly spread; never more than ``max_frames``, nor than the video has."""
    if duration <= 0:
        return [0.0]
    n = max(1, int(max_frames))
    if fps:
        n = min(n, max(1, math.ceil(duration * fps)))
    if available:
        n = min(n, int(available))
    return [(i + 0.5) * duration / n for i in range(n)]


def whole_video(
    path: Path, size: tuple[int, int], duration: float, begin: float, opts: Options
) -> ExtractedItem:
    """The video as one model input (``kind`` "video", no time): frames and their metadata.

    The metadata describes the frames given (``total_num_frames`` is their count, ``fps`` their
    rate over the duration), so a processor that samples again stays within them.
    """
    from torchcodec.decoders import VideoDecoder
    from torchcodec.transforms import Resize

    width, height = size
    side = min(opts.side, VIDEO_SIDE_MAX)
    resize = None
    if min(width, height) > side:
        scale = side / min(width, height)
        resize = [Resize(size=(max(1, round(height * scale)), max(1, round(width * scale))))]
    decoder = VideoDecoder(
        str(path), seek_mode="approximate", dimension_order="NHWC", transforms=resize
    )
    available = int(decoder.metadata.num_frames or 0) or None
    times = whole_video_times(duration, opts.max_frames, opts.video_fps, available)
    last = begin + max(0.0, duration - 1e-3)
    frames: list[Image.Image] = []
    for i in range(0, len(times), DECODE_CHUNK):
        batch = decoder.get_frames_played_at(
            [min(begin + t, last) for t in times[i : i + DECODE_CHUNK]]
        )
        frames += [Image.fromarray(frame.numpy()) for frame in batch.data]
    metadata = {
        "fps": len(frames) / duration if duration > 0 else None,
        "total_num_frames": len(frames),
        "duration": duration if duration > 0 else None,
        "frames_indices": list(range(len(frames))),
    }
    return ExtractedItem("video", video={"array": frames, "video_metadata": metadata})


def frame_at(path: Path, time_s: float, side: int) -> Image.Image:
    """The frame shown at ``time_s`` seconds (for thumbnails and previews), longer side <= side.

    Raises ExtractionError when the frame cannot be read (no FFmpeg, a damaged file).
    """
    reason = video_support()
    if reason is not None:
        raise ExtractionError(f"video frames cannot be read: {reason}")
    from torchcodec.decoders import VideoDecoder

    try:
        decoder = VideoDecoder(str(path), seek_mode="approximate", dimension_order="NHWC")
        md = decoder.metadata
        if int(md.width or 0) * int(md.height or 0) > MAX_PIXELS:
            raise ExtractionError("video frames too large to decode safely")
        end = float(md.duration_seconds or 0.0)
        t = min(max(0.0, time_s), max(0.0, end - 1e-3)) if end else max(0.0, time_s)
        frame = decoder.get_frame_played_at(t)
    except (RuntimeError, IndexError, ValueError) as exc:
        raise ExtractionError(
            f"cannot read the frame at {time_s:.1f}s: {_first_line(exc)}"
        ) from exc
    img = Image.fromarray(frame.data.numpy())
    img.thumbnail((side, side), Image.Resampling.LANCZOS)
    return img


def _fit(img: Image.Image, side: int) -> Image.Image:
    short = min(img.size)
    if short <= 2 * side:
        return img
    scale = 2 * side / short
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _difference(a: Image.Image, b: Image.Image) -> float:
    return sum(abs(x - y) for x, y in zip(a.tobytes(), b.tobytes(), strict=True)) / 256


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


# ---------------------------------------------------------------------------- MP4/MOV header

_CONTAINERS = {b"moov", b"trak", b"mdia"}
_EPOCH_1904 = datetime(1904, 1, 1)


def mp4_meta(path: Path) -> dict[str, Any]:
    """Duration, picture size and recording date from an MP4/MOV file's boxes (no FFmpeg)."""
    out: dict[str, Any] = {}
    with open(path, "rb") as fh:
        head = fh.read(12)
        if head[4:8] != b"ftyp":
            return out
        fh.seek(0)
        size_total = path.stat().st_size
        _walk_boxes(fh, 0, size_total, out, depth=0)
    return out


def _walk_boxes(fh: Any, start: int, end: int, out: dict[str, Any], depth: int) -> None:
    pos = start
    while pos + 8 <= end and depth < 4:
        fh.seek(pos)
        header = fh.read(16)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header[:8])
        body = pos + 8
        if size == 1 and len(header) == 16:
            size = struct.unpack(">Q", header[8:16])[0]
            body = pos + 16
        elif size == 0:
            size = end - pos
        if size < 8:
            return
        if kind in _CONTAINERS:
            _walk_boxes(fh, body, min(end, pos + size), out, depth + 1)
        elif kind == b"mvhd" and "duration_s" not in out:
            fh.seek(body)
            _mvhd(fh.read(32), out)
        elif kind == b"tkhd" and "width" not in out and size <= 120:
            fh.seek(body)
            data = fh.read(size - (body - pos))
            w, h = struct.unpack(">II", data[-8:])
            if w >> 16 and h >> 16:
                out["width"], out["height"] = w >> 16, h >> 16
        pos += size


def _mvhd(data: bytes, out: dict[str, Any]) -> None:
    if data[0] == 1:
        created, _modified, scale, duration = struct.unpack(">QQIQ", data[4:32])
    else:
        created, _modified, scale, duration = struct.unpack(">IIII", data[4:20])
    if scale:
        out["duration_s"] = round(duration / scale, 3)
    if created > 0:
        when = _EPOCH_1904 + timedelta(seconds=created)
        if 1990 <= when.year <= 2200:
            out["taken"] = when.strftime("%Y-%m-%dT%H:%M:%S")
            out["taken_from"] = "mp4"
