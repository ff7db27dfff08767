"""One scry per user: the running instance listens on a local socket, later launches hand over.

A second ``scry`` (``scry --show``, ``scry similar PATH --window`` from a file manager, ...) sends
one JSON line to the running instance and exits; the running instance raises its window with the
request. The socket is private to the user: on Unix a socket file in ``$XDG_RUNTIME_DIR`` (or the
temp folder) created with user-only access; on Windows a named pipe with the user's name in it.
Each data folder (``SCRY_HOME``) has its own instance, so separate profiles never mix.

Messages are small JSON objects ``{"v": 1, "action": ..., "text": ..., "path": ...}``; anything
else (too long, not JSON, an unknown action, a relative path) is rejected, answered with
``error: ...`` and logged. Only QtCore/QtNetwork are used here (no widgets), so the hand-over
costs a launch a fraction of a second.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

PROTOCOL = 1
MAX_MESSAGE = 16 * 1024
ACTIONS = {"show", "search", "similar", "image", "background"}
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


def server_name(home: Path) -> str:
    """The socket (Unix) or pipe (Windows) name for this user and data folder."""
    digest = hashlib.sha256(str(Path(home).resolve()).encode()).hexdigest()[:12]
    if sys.platform == "win32":
        with contextlib.suppress(Exception):
            user = "".join(c for c in getpass.getuser() if c.isalnum()) or "user"
            return f"scry-{user}-{digest}"
        return f"scry-{digest}"
    name = f"scry-{os.getuid()}-{digest}.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    for base in (runtime, tempfile.gettempdir(), "/tmp"):
        if base and Path(base).is_dir() and len(os.path.join(base, name)) < _SOCKET_PATH_MAX:
            return os.path.join(base, name)
    return name  # Qt puts a bare name in its temp folder


class BadRequest(ValueError):
    """A message on the socket that is not a request scry understands."""


def make_request(action: str, *, text: str = "", path: str | None = None) -> dict[str, Any]:
    req: dict[str, Any] = {"v": PROTOCOL, "action": action}
    if text:
        req["text"] = text
    if path:
        req["path"] = str(Path(path).expanduser().resolve())
    return parse_request(json.dumps(req).encode())


def parse_request(data: bytes) -> dict[str, Any]:
    """Validate one message; raises :class:`BadRequest` naming what is wrong."""
    if len(data) > MAX_MESSAGE:
        raise BadRequest(f"message too long ({len(data)} bytes)")
    try:
        req = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"not JSON: {exc}") from None
    if not isinstance(req, dict):
        raise BadRequest("not a JSON object")
    if req.get("v") != PROTOCOL:
        raise BadRequest(f"unknown protocol version {req.get('v')!r}")
    action = req.get("action")
    if action not in ACTIONS:
        raise BadRequest(f"unknown action {action!r}")
    unknown = set(req) - {"v", "action", "text", "path"}
    if unknown:
        raise BadRequest(f"unknown fields {sorted(unknown)}")
    text = req.get("text", "")
    if not isinstance(text, str) or len(text) > 4096:
        raise BadRequest("text must be a string of at most 4096 characters")
    path = req.get("path")
    if action in ("similar", "image"):
        if not isinstance(path, str) or not path or "\0" in path or not os.path.isabs(path):
            raise BadRequest(f"{action} needs an absolute path")
    elif path is not None:
        raise BadRequest(f"{action} takes no path")
    return req


def send(name: str, request: dict[str, Any], timeout_ms: int = 10_000) -> bool:
    """Hand ``request`` to the running instance; False when none is there (start one then).

    True once an instance accepted the connection, even if it did not answer in time: a second
    instance on the same data folder would do more harm than a launch that did nothing.
    """
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(min(timeout_ms, 3000)):
        return False
    try:
        sock.write(json.dumps(request).encode("utf-8") + b"\n")
        sock.waitForBytesWritten(timeout_ms)
        reply = b""
        while b"\n" not in reply and sock.waitForReadyRead(timeout_ms):
            reply += bytes(sock.readAll().data())
        if not reply:
            log.error("scry is running but did not answer; try again in a moment")
        elif not reply.startswith(b"ok"):
            log.error("The running scry refused the request: %s", reply.decode(errors="replace"))
        return True
    finally:
        sock.disconnectFromServer()


class InstanceServer(QObject):
    """Listens for later launches; emits :attr:`request` with each valid message."""

    request = Signal(dict)
    rejected = Signal(str)  # why a message was refused (tests, logs)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[int, bytes] = {}

    def listen(self) -> bool:
        """Become the instance; False when another one is already running and answering.

        Ask first: with user-only access Qt binds in a private folder and renames the socket
        into place, which would silently take over a running instance's name.
        """
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(1000):
            probe.disconnectFromServer()
            return False
        QLocalServer.removeServer(self.name)  # a stale socket left by a crashed instance
        if self._server.listen(self.name):
            return True
        log.warning(
            "Cannot listen on %s (%s): later launches will open windows of their own",
            self.name,
            self._server.errorString(),
        )
        return True

    @property
    def listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            key = id(sock)
            self._buffers[key] = b""
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda k=key, s=sock: self._gone(k, s))

    def _gone(self, key: int, sock: QLocalSocket) -> None:
        self._buffers.pop(key, None)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        key = id(sock)
        buf = self._buffers.get(key, b"") + bytes(sock.readAll().data())
        if b"\n" not in buf and len(buf) <= MAX_MESSAGE:
            self._buffers[key] = buf
            return
        line = buf.split(b"\n", 1)[0]
        self._buffers[key] = b""
        try:
            req = parse_request(line)
        except BadRequest as exc:
            log.warning("Rejected a message on the instance socket: %s", exc)
            sock.write(f"error: {exc}\n".encode())
            sock.flush()
            sock.disconnectFromServer()
            self.rejected.emit(str(exc))
            return
        sock.write(b"ok\n")
        sock.flush()
        sock.disconnectFromServer()
        self.request.emit(req)
