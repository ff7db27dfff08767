"""Put scry on the desktop, per user: "Find similar with scry" in file managers, the menu entry
and icon, and (opt-in) autostart. Undo it exactly. No Qt here.

    >>> results = install(autostart=False)            # doctest: +SKIP
    >>> [(r.name, r.action) for r in results]         # doctest: +SKIP
    [('nautilus', 'written'), ('nemo', 'written'), ...]

Each entry runs ``scry similar --window FILE`` (SIMILAR_ARGS) with the absolute path of the ``scry`` that ran the
install (:func:`launcher_argv`), so it works without ``scry`` on the file manager's PATH.

Linux (XDG_DATA_HOME, default ~/.local/share; XDG_CONFIG_HOME, default ~/.config):
  nautilus/scripts/Find similar with scry      Nautilus script (executable)
  nemo/actions/scry-find-similar.nemo_action   Nemo action
  kio/servicemenus/scry-find-similar.desktop   Dolphin service menu, KDE 6 and 5.85+ (executable)
  kservices5/ServiceMenus/...                  the same for older KDE 5 (same name: no duplicate)
  Thunar/uca.xml (config)                      one <action> merged in (see integrate_thunar)
  applications/scry.desktop                    menu entry, "Open with" for images and PDFs
  icons/hicolor/<N>x<N>/apps/scry.png, scalable/apps/scry.svg
  autostart/scry.desktop (config)              `scry --background` at login, when enabled
macOS: ~/Library/Services/Find Similar with scry.workflow (a Finder Quick Action) and
  ~/Library/LaunchAgents/org.scry.autostart.plist. Windows: see integrate_windows.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from .integrate_files import (
    INSTALLED,
    OUTDATED,
    RESOURCES,
    FilesTarget,
    IntegrationError,
    Outcome,
    OwnFile,
    Target,
    desktop_exec,
    shell_join,
    template,
    xml_escape,
)
from .integrate_thunar import ThunarTarget
from .integrate_windows import Registry

log = logging.getLogger(__name__)

__all__ = [
    "IntegrationError",
    "Outcome",
    "autostart_enabled",
    "autostart_target",
    "install",
    "launcher_argv",
    "set_autostart",
    "status",
    "targets",
    "uninstall",
]

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# what every "Find similar" entry runs, followed by the file: the look-alikes in scry's window
SIMILAR_ARGS = ("similar", "--window")
LAUNCH_AGENT = "org.scry.autostart"
WORKFLOW = "Find Similar with scry.workflow"
MIME_TYPES = (
    "image/jpeg;image/png;image/webp;image/gif;image/bmp;image/tiff;image/heic;image/heif;"
    "image/avif;image/x-canon-cr2;image/x-nikon-nef;image/x-sony-arw;image/x-adobe-dng;"
    "application/pdf;"
)


def launcher_argv() -> list[str]:
    """The command that starts this scry: the bundle's executable, the ``scry`` console script
    that is running (or the one beside this Python), else ``python -m scry.app``."""
    if getattr(sys, "frozen", False):  # PyInstaller bundle
        return [str(Path(sys.executable).resolve())]
    if sys.argv and sys.argv[0]:
        argv0 = Path(sys.argv[0])
        if argv0.stem == "scry":
            for cand in (argv0, argv0.with_suffix(".exe")):
                if cand.is_file():
                    return [str(cand.resolve())]
    # The venv's python is a symlink that must not be resolved, or the venv is lost.
    python = Path(sys.executable).absolute()
    for name in ("scry", "scry.exe"):
        cand = python.parent / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return [str(cand)]
    return [str(python), "-m", "scry.app"]


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var, "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share")


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config")


def _platform(platform: str | None) -> str:
    p = platform or sys.platform
    return "windows" if p.startswith("win") else "macos" if p == "darwin" else "linux"


def _resource(rel: str) -> bytes:
    path = RESOURCES / rel
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IntegrationError(f"scry's resource {path} is missing; reinstall scry.") from exc


def _thunar_patterns() -> str:
    from scry.indexer.extract.formats import IMAGE_EXTS, PDF_EXTS, RAW_EXTS

    exts = sorted(e.lstrip(".") for e in IMAGE_EXTS | RAW_EXTS | PDF_EXTS)
    return ";".join([f"*.{e}" for e in exts] + [f"*.{e.upper()}" for e in exts])


def app_entry(launcher: list[str]) -> str:
    """resources/scry.desktop with this scry's absolute command and scry's marker."""
    text = _resource("scry.desktop").decode("utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith("Exec=scry"):
            line = "Exec=" + desktop_exec(launcher) + line[len("Exec=scry") :]
        lines.append(line)
        if line == "[Desktop Entry]":
            lines.append(
                '# scry-integration: written by "scry integrate install"; '
                '"scry integrate uninstall" removes it.'
            )
    return "\n".join(lines) + "\n"


def _linux_targets(launcher: list[str]) -> list[Target]:
    data, conf = data_dir(), config_dir()
    similar = [*launcher, *SIMILAR_ARGS]
    dexec = desktop_exec(similar)
    dolphin = template("dolphin-servicemenu.desktop", similar=dexec).encode()
    icons = [
        OwnFile(data / f"icons/hicolor/{n}x{n}/apps/scry.png", _resource(f"icons/scry-{n}.png"))
        for n in ICON_SIZES
    ]
    icons.append(
        OwnFile(data / "icons/hicolor/scalable/apps/scry.svg", _resource("icons/scry.svg"))
    )
    command = shell_join(similar) + " %f"
    return [
        FilesTarget(
            "nautilus",
            "Nautilus (GNOME Files) script",
            "nautilus",
            files=[
                OwnFile(
                    data / "nautilus/scripts/Find similar with scry",
                    template("nautilus-script.sh", similar=shell_join(similar)).encode(),
                    executable=True,
                )
            ],
        ),
        FilesTarget(
            "nemo",
            "Nemo action",
            "nemo",
            files=[
                OwnFile(
                    data / "nemo/actions/scry-find-similar.nemo_action",
                    template("nemo.nemo_action", similar=dexec, mimetypes=MIME_TYPES).encode(),
                )
            ],
        ),
        FilesTarget(
            "dolphin",
            "Dolphin (KDE) service menu",
            "dolphin",
            files=[
                OwnFile(data / "kio/servicemenus/scry-find-similar.desktop", dolphin, True),
                OwnFile(data / "kservices5/ServiceMenus/scry-find-similar.desktop", dolphin, True),
            ],
            where=data / "kio/servicemenus/scry-find-similar.desktop",
        ),
        ThunarTarget(
            "thunar",
            "Thunar custom action",
            "thunar",
            path=conf / "Thunar/uca.xml",
            block=template(
                "thunar-action.xml",
                command=xml_escape(command),
                patterns=xml_escape(_thunar_patterns()),
            ),
        ),
        FilesTarget(
            "application",
            "Application menu entry (Open with scry)",
            files=[OwnFile(data / "applications/scry.desktop", app_entry(launcher).encode())],
        ),
        FilesTarget("icons", "Icons (hicolor theme)", files=icons, marked=False),
    ]


def _macos_targets(launcher: list[str]) -> list[Target]:
    folder = Path.home() / "Library/Services" / WORKFLOW
    command = f'exec {shell_join([*launcher, *SIMILAR_ARGS])} "$1"'
    return [
        FilesTarget(
            "finder",
            "Finder Quick Action",
            files=[
                OwnFile(folder / "Contents/Info.plist", template("macos-Info.plist").encode()),
                OwnFile(
                    folder / "Contents/document.wflow",
                    template("macos-document.wflow", command=xml_escape(command)).encode(),
                ),
            ],
            prune=folder,
        )
    ]


def _windows_icon(launcher: list[str]) -> str:
    if getattr(sys, "frozen", False):
        return launcher[0] + ",0"
    return str(RESOURCES / "icons" / "scry.ico")


def targets(
    *,
    launcher: list[str] | None = None,
    platform: str | None = None,
    registry: Registry | None = None,
) -> list[Target]:
    """The context-menu, menu-entry and icon targets of this (or the named) platform."""
    launcher = launcher or launcher_argv()
    kind = _platform(platform)
    if kind == "windows":
        from .integrate_windows import menu_target

        return [menu_target(launcher, _windows_icon(launcher), registry, SIMILAR_ARGS)]
    return _macos_targets(launcher) if kind == "macos" else _linux_targets(launcher)


def autostart_target(
    *,
    launcher: list[str] | None = None,
    platform: str | None = None,
    registry: Registry | None = None,
) -> Target:
    """Where starting scry (in the tray) at login is switched on or off."""
    launcher = launcher or launcher_argv()
    kind = _platform(platform)
    if kind == "windows":
        from .integrate_windows import autostart_target as win_autostart

        return win_autostart(launcher, registry)
    if kind == "macos":
        args = "\n".join(
            f"\t\t<string>{xml_escape(a)}</string>" for a in [*launcher, "--background"]
        )
        plist = template(
            "macos-launchagent.plist", label=LAUNCH_AGENT, program_arguments=args
        ).encode()
        path = Path.home() / "Library/LaunchAgents" / f"{LAUNCH_AGENT}.plist"
        return FilesTarget(
            "autostart", "Start at login (LaunchAgent)", files=[OwnFile(path, plist)]
        )
    entry = template("autostart.desktop", exec=desktop_exec(launcher)).encode()
    path = config_dir() / "autostart/scry.desktop"
    return FilesTarget("autostart", "Start at login (XDG autostart)", files=[OwnFile(path, entry)])


def _run(target: Target, action: str) -> Outcome:
    try:
        done = target.install() if action == "install" else target.uninstall()
    except IntegrationError as exc:
        done = f"kept: {exc}"
    except OSError as exc:
        done = f"kept: {exc.strerror or exc} ({getattr(exc, 'filename', '') or target.location})"
    if done.startswith("kept"):
        log.warning("%s: %s", target.label, done)
    return Outcome(target.name, target.label, done, target.location)


def install(
    *,
    autostart: bool | None = None,
    launcher: list[str] | None = None,
    platform: str | None = None,
    registry: Registry | None = None,
) -> list[Outcome]:
    """Install every target (writing nothing that is already right); autostart on/off/as is."""
    kw = {"launcher": launcher, "platform": platform, "registry": registry}
    out = [_run(t, "install") for t in targets(**kw)]
    if autostart is not None:
        out.append(_run(autostart_target(**kw), "install" if autostart else "uninstall"))
    return out


def uninstall(*, platform: str | None = None, registry: Registry | None = None) -> list[Outcome]:
    """Remove everything scry wrote, autostart included; other files stay as they are."""
    kw = {"platform": platform, "registry": registry}
    return [_run(t, "uninstall") for t in [*targets(**kw), autostart_target(**kw)]]


def status(
    *,
    launcher: list[str] | None = None,
    platform: str | None = None,
    registry: Registry | None = None,
) -> list[dict]:
    """Each target's state: installed, not installed, outdated (differs) or blocked."""
    kw = {"launcher": launcher, "platform": platform, "registry": registry}
    return [t.status() for t in [*targets(**kw), autostart_target(**kw)]]


def set_autostart(
    on: bool,
    *,
    launcher: list[str] | None = None,
    platform: str | None = None,
    registry: Registry | None = None,
) -> str:
    """Start scry in the tray at login (or stop doing so). Returns what was done."""
    target = autostart_target(launcher=launcher, platform=platform, registry=registry)
    done = target.install() if on else target.uninstall()
    if done.startswith("kept"):
        raise IntegrationError(f"{target.label}: {done[len('kept: ') :]}")
    return done


def autostart_enabled(*, platform: str | None = None, registry: Registry | None = None) -> bool:
    """Whether scry's login entry exists (an older command in it still counts)."""
    target = autostart_target(platform=platform, registry=registry)
    return target.state() in (INSTALLED, OUTDATED)
