"""How words meet images in the query: drop, paste, pick a file, or fetch an image by URL.

A mixin of :class:`MainWindow` (uses its search bar, thumbnails, runner and status bar). Raw
image data is saved into the query cache off the UI thread; URLs are fetched in a worker.
"""

from __future__ import annotations

from .mime import Payload, parse
from .qt import QApplication, QFileDialog, QImage, QPixmap

CHIP_PX = 48


class QueryInput:
    # ------------------------------------------------------------------ query images

    def accept_payload(self, payload: Payload) -> None:
        """A dropped or pasted file, image, URL or text becomes part of the query."""
        if payload.path:
            self.set_query_image(payload.path)
        elif payload.image is not None:
            image: QImage = payload.image
            target = self.backend.new_query_image_path(".png")
            self.runner.submit(
                "io",
                lambda: str(target) if image.save(str(target), "PNG") else None,
                on_done=lambda p: (
                    self.set_query_image(p)
                    if p
                    else self.status.say("Could not keep the pasted image.")
                ),
            )
        elif payload.url:
            self.status.say(f"Fetching {payload.url}…")
            self.runner.submit(
                "io",
                self.backend.fetch_image,
                payload.url,
                on_done=lambda p: self.set_query_image(str(p)),
                on_error=lambda e: self.status.say(f"Could not use that image: {e}"),
            )
        elif payload.text:
            self.search.edit.insert(payload.text)

    def set_query_image(self, path: str, *, similar: bool = False) -> None:
        cached = self.thumbs.get((path, None, CHIP_PX))
        self.search.set_image(
            path, similar=similar, pixmap=cached if isinstance(cached, QPixmap) else None
        )

    def browse_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Search with an image",
            "",
            "Images and documents (*.jpg *.jpeg *.png *.webp *.gif *.bmp *.tif *.tiff *.heic *.avif *.pdf);;All files (*)",
        )
        if path:
            self.set_query_image(path)

    def _paste_in_window(self) -> None:
        payload = parse(QApplication.clipboard().mimeData())
        if payload is not None:
            self.accept_payload(payload)
            self.focus_search()

    def dragEnterEvent(self, event) -> None:
        if event.source() is self.view:
            event.ignore()
            return
        payload = parse(event.mimeData())
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        if payload.searchable:  # words are just typed; images get the big drop target
            self.drop_overlay.setGeometry(self.centralWidget().rect().adjusted(8, 8, -8, -8))
            self.drop_overlay.raise_()
            self.drop_overlay.show()

    def dragLeaveEvent(self, event) -> None:
        self.drop_overlay.hide()

    def dropEvent(self, event) -> None:
        self.drop_overlay.hide()
        payload = parse(event.mimeData())
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.accept_payload(payload)
