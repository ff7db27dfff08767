"""`scry integrate`: the file-manager entries, menu entry, icons and autostart, in a temp HOME.

Each entry is also *run* the way its file manager would run it, against a stand-in `scry` that
records its arguments, and those must parse with scry's own parser as `similar --window FILE`.
"""

from __future__ import annotations

import configparser
import json
import os
import plistlib
import shlex
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scry.app import integrate
from scry.app.cli import build_parser, main
from scry.app.integrate_windows import MENU_KEY, RUN_KEY, context_menu_plan

ROOT = Path(__file__).resolve().parents[2]
USER_ACTION = """<?xml version="1.0" encoding="UTF-8"?>
<actions>
<action>
\t<icon>utilities-terminal</icon>
\t<name>Open Terminal Here</name>
\t<unique-id>1234567890-1</unique-id>
\t<command>exo-open --working-directory %f --launch TerminalEmulator</command>
\t<description>Example for a custom action</description>
\t<patterns>*</patterns>
\t<startup-notify/>
\t<directories/>
</action>
</actions>
"""


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME with the XDG defaults, and no file manager on PATH."""
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    empty = tmp_path / "nobin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setattr(shutil, "which", _which_in(empty))
    return home


def _which_in(folder: Path):
    real = shutil.which

    def which(cmd: str, *a, **kw):
        if cmd in ("nautilus", "nemo", "dolphin", "thunar"):
            return real(cmd, path=str(folder))
        return real(cmd, *a, **kw)

    return which


@pytest.fixture
def fake_scry(tmp_path: Path) -> tuple[list[str], Path]:
    """A stand-in `scry` (in a folder with a space) that appends its arguments to a file."""
    record = tmp_path / "calls.jsonl"
    exe = tmp_path / "bin dir" / "fake scry"
    exe.parent.mkdir()
    exe.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"with open({str(record)!r}, 'a') as f: f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    exe.chmod(0o755)
    return [str(exe)], record


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def share(home: Path) -> Path:
    return home / ".local/share"


def keyfile(path: Path) -> configparser.RawConfigParser:
    cp = configparser.RawConfigParser(strict=True, interpolation=None)
    cp.optionxform = str  # keys are case-sensitive in desktop files
    cp.read_string(path.read_text(encoding="utf-8"))
    return cp


def desktop_argv(exec_value: str, file: str) -> list[str]:
    """What a freedesktop launcher runs for ``Exec=`` (as read raw from the file) and one file."""
    value = exec_value.replace("\\\\", "\\")  # the key file's string escaping
    out = []
    for arg in shlex.split(value):
        if arg in ("%f", "%F", "%u", "%U"):
            out.append(file)
        elif "%f" in arg:
            out.append(arg.replace("%f", file))
        else:
            out.append(arg.replace("%%", "%"))
    return out


def ran(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def assert_similar(argv: list[str], file: Path) -> None:
    args = build_parser().parse_args(argv)
    assert args.command == "similar"
    assert args.path == file
    assert args.window is True


# -- Linux ---------------------------------------------------------------------------------


def test_install_writes_every_linux_file(user: Path, fake_scry) -> None:
    launcher, _ = fake_scry
    results = integrate.install(launcher=launcher, platform="linux")
    assert {r.action for r in results} == {"written"}
    d = share(user)
    nautilus = d / "nautilus/scripts/Find similar with scry"
    dolphin6 = d / "kio/servicemenus/scry-find-similar.desktop"
    dolphin5 = d / "kservices5/ServiceMenus/scry-find-similar.desktop"
    expected = [
        nautilus,
        d / "nemo/actions/scry-find-similar.nemo_action",
        dolphin6,
        dolphin5,
        user / ".config/Thunar/uca.xml",
        d / "applications/scry.desktop",
        d / "icons/hicolor/scalable/apps/scry.svg",
        *(d / f"icons/hicolor/{n}x{n}/apps/scry.png" for n in integrate.ICON_SIZES),
    ]
    for path in expected:
        assert path.is_file(), path
    for path in (nautilus, dolphin6, dolphin5):  # KF6 ignores service menus without it
        assert os.access(path, os.X_OK), path
    assert not (user / ".config/autostart/scry.desktop").exists()  # opt-in
    app = keyfile(d / "applications/scry.desktop")["Desktop Entry"]
    assert "image/jpeg" in app["MimeType"] and "application/pdf" in app["MimeType"]
    assert app["Icon"] == "scry"


def test_desktop_files_pass_desktop_file_validate(user: Path, fake_scry) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    integrate.install(launcher=fake_scry[0], platform="linux", autostart=True)
    for path in (
        share(user) / "applications/scry.desktop",
        user / ".config/autostart/scry.desktop",
        ROOT / "resources/scry.desktop",
    ):
        res = subprocess.run([tool, str(path)], capture_output=True, text=True)
        assert res.returncode == 0 and not res.stdout.strip(), (path, res.stdout, res.stderr)


def test_nemo_and_dolphin_entries(user: Path, fake_scry) -> None:
    integrate.install(launcher=fake_scry[0], platform="linux")
    nemo = keyfile(share(user) / "nemo/actions/scry-find-similar.nemo_action")["Nemo Action"]
    assert nemo["Name"] == "Find similar with scry"
    assert nemo["Selection"] == "s"
    assert nemo["Icon-Name"] == "scry"
    assert {"image/jpeg", "image/png", "application/pdf"} <= set(nemo["Mimetypes"].split(";"))
    assert nemo["Exec"].endswith("similar --window %F")
    menu = keyfile(share(user) / "kio/servicemenus/scry-find-similar.desktop")
    assert menu["Desktop Entry"]["Type"] == "Service"
    assert "KonqPopupMenu/Plugin" in menu["Desktop Entry"]["ServiceTypes"]
    assert menu["Desktop Entry"]["MimeType"] == "image/*;application/pdf;"
    assert menu["Desktop Action findSimilar"]["Name"] == "Find similar with scry"


def test_every_entry_runs_scry_similar_on_the_file(user: Path, fake_scry, tmp_path: Path) -> None:
    launcher, record = fake_scry
    integrate.install(launcher=launcher, platform="linux", autostart=True)
    photo = tmp_path / "pics dir" / "my holiday's photo.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"jpeg")
    d = share(user)

    # Nautilus runs the script with the selected files as arguments.
    subprocess.run([str(d / "nautilus/scripts/Find similar with scry"), str(photo)], check=True)
    # Nemo substitutes %F (quoted as Quote= says) and splits the line like a shell.
    nemo = keyfile(d / "nemo/actions/scry-find-similar.nemo_action")["Nemo Action"]
    line = nemo["Exec"].replace("\\\\", "\\").replace("%F", f'"{photo}"')
    subprocess.run(shlex.split(line), check=True)
    # Dolphin and "Open with scry" follow the desktop-entry Exec rules.
    dolphin = keyfile(d / "kio/servicemenus/scry-find-similar.desktop")
    subprocess.run(
        desktop_argv(dolphin["Desktop Action findSimilar"]["Exec"], str(photo)), check=True
    )
    # Thunar shell-quotes the path for %f and runs the command line.
    action = ET.parse(user / ".config/Thunar/uca.xml").getroot().find("action")
    command = action.findtext("command").replace("%f", shlex.quote(str(photo)))
    subprocess.run(["sh", "-c", command], check=True)

    calls = ran(record)
    assert len(calls) == 4
    for argv in calls:
        assert_similar(argv, photo)

    app = keyfile(d / "applications/scry.desktop")["Desktop Entry"]["Exec"]
    args = build_parser().parse_args(desktop_argv(app, str(photo))[1:])
    assert (args.command, args.similar) == ("gui", str(photo))
    menu_launch = build_parser().parse_args(desktop_argv(app.replace("%f", ""), "")[1:])
    assert menu_launch.command == "gui" and not menu_launch.similar  # no file: just the window
    auto = keyfile(user / ".config/autostart/scry.desktop")["Desktop Entry"]["Exec"]
    argv = desktop_argv(auto, "")
    assert argv[: len(launcher)] == launcher
    args = build_parser().parse_args(argv[len(launcher) :])
    assert args.background and args.command is None


def test_install_twice_changes_nothing(user: Path, fake_scry) -> None:
    integrate.install(launcher=fake_scry[0], platform="linux", autostart=True)
    first = snapshot(user)
    again = integrate.install(launcher=fake_scry[0], platform="linux", autostart=True)
    assert {r.action for r in again} == {"unchanged"}
    assert snapshot(user) == first


def test_uninstall_leaves_the_tree_as_it_was(user: Path, fake_scry) -> None:
    d = share(user)
    mine = {
        d / "nautilus/scripts/Resize images": '#!/bin/sh\nmogrify -resize 50% "$@"\n',
        d / "nemo/actions/mine.nemo_action": "[Nemo Action]\nName=Mine\nExec=true\n",
        d / "applications/gimp-custom.desktop": "[Desktop Entry]\nType=Application\nName=G\n",
        d / "icons/hicolor/48x48/apps/other.png": "png",
        user / ".config/autostart/syncthing.desktop": "[Desktop Entry]\nName=Syncthing\n",
        user / ".config/Thunar/uca.xml": USER_ACTION,
    }
    for path, text in mine.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (d / "nautilus/scripts/Resize images").chmod(0o755)
    before = snapshot(user)

    integrate.install(launcher=fake_scry[0], platform="linux", autostart=True)
    assert len(snapshot(user)) > len(before)
    results = integrate.uninstall(platform="linux")
    assert {r.action for r in results} == {"removed"}
    assert snapshot(user) == before
    assert {r.action for r in integrate.uninstall(platform="linux")} == {"absent"}
    assert not (user / ".config/Thunar/uca.xml.scry-backup").exists()


def test_thunar_action_merges_into_the_users_actions(user: Path, fake_scry) -> None:
    uca = user / ".config/Thunar/uca.xml"
    uca.parent.mkdir(parents=True)
    uca.write_text(USER_ACTION)
    integrate.install(launcher=fake_scry[0], platform="linux")

    root = ET.parse(uca).getroot()  # still well-formed
    names = [a.findtext("name") for a in root.iter("action")]
    assert names == ["Open Terminal Here", "Find similar with scry"]
    assert uca.with_name("uca.xml.scry-backup").read_text() == USER_ACTION

    # Thunar rewrites the file when the user edits actions: comments gone, layout its own.
    ET.indent(root)
    uca.write_text(ET.tostring(root, encoding="unicode"))
    assert integrate.uninstall(platform="linux")[3].action == "removed"
    root = ET.parse(uca).getroot()
    assert [a.findtext("name") for a in root.iter("action")] == ["Open Terminal Here"]


def test_broken_or_foreign_files_are_left_alone(user: Path, fake_scry) -> None:
    uca = user / ".config/Thunar/uca.xml"
    uca.parent.mkdir(parents=True)
    uca.write_text("<actions><action>unclosed</actions>")
    nemo = share(user) / "nemo/actions/scry-find-similar.nemo_action"
    nemo.parent.mkdir(parents=True)
    nemo.write_text("[Nemo Action]\nName=my own\nExec=true\n")

    results = {r.name: r.action for r in integrate.install(launcher=fake_scry[0], platform="linux")}
    assert results["thunar"].startswith("kept") and "not well-formed" in results["thunar"]
    assert results["nemo"].startswith("kept") and "not written by scry" in results["nemo"]
    assert uca.read_text() == "<actions><action>unclosed</actions>"
    states = {r["name"]: r["state"] for r in integrate.status(launcher=fake_scry[0])}
    assert states["thunar"] == states["nemo"] == "blocked"
    integrate.uninstall(platform="linux")
    assert nemo.read_text() == "[Nemo Action]\nName=my own\nExec=true\n"


def test_status_reports_each_target(user: Path, fake_scry, tmp_path: Path) -> None:
    launcher = fake_scry[0]
    rows = {r["name"]: r for r in integrate.status(launcher=launcher, platform="linux")}
    assert rows["nemo"]["shown"] == "file manager not present"
    assert rows["application"]["shown"] == "not installed"
    (tmp_path / "nobin" / "nemo").write_text("#!/bin/sh\n")
    (tmp_path / "nobin" / "nemo").chmod(0o755)
    assert integrate.status(launcher=launcher)[1]["shown"] == "not installed"

    integrate.install(launcher=launcher, platform="linux")
    rows = {r["name"]: r for r in integrate.status(launcher=launcher, platform="linux")}
    assert all(rows[n]["state"] == "installed" for n in rows if n != "autostart")
    assert rows["autostart"]["state"] == "not installed"
    # a scry that moved: every entry now runs a command that is gone
    moved = integrate.status(launcher=["/opt/scry/scry"], platform="linux")
    assert {r["name"] for r in moved if r["state"] == "outdated"} == {
        "nautilus",
        "nemo",
        "dolphin",
        "thunar",
        "application",
    }
    assert {r.action for r in integrate.install(launcher=["/opt/scry/scry"])} >= {"updated"}


def test_xdg_folders_are_honoured(user: Path, fake_scry, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    integrate.install(launcher=fake_scry[0], platform="linux", autostart=True)
    assert (tmp_path / "data/applications/scry.desktop").is_file()
    assert (tmp_path / "conf/Thunar/uca.xml").is_file()
    assert (tmp_path / "conf/autostart/scry.desktop").is_file()
    assert snapshot(user) == {}


def test_autostart_on_and_off(user: Path, fake_scry) -> None:
    launcher = fake_scry[0]
    assert not integrate.autostart_enabled(platform="linux")
    assert integrate.set_autostart(True, launcher=launcher, platform="linux") == "written"
    assert integrate.autostart_enabled(platform="linux")
    entry = keyfile(user / ".config/autostart/scry.desktop")["Desktop Entry"]
    assert entry["Exec"].endswith("--background")
    assert integrate.set_autostart(False, platform="linux") == "removed"
    assert not integrate.autostart_enabled(platform="linux")
    assert not (user / ".config/autostart/scry.desktop").exists()


def test_cli_integrate_keeps_settings_in_sync(user: Path, home: Path, capsys) -> None:
    assert main(["integrate", "install", "--autostart", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {t["name"] for t in out["targets"]} >= {"nautilus", "thunar", "autostart"}
    assert json.loads((home / "settings.json").read_text())["autostart"] is True

    assert main(["integrate", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert {t["state"] for t in status["targets"]} == {"installed"}
    assert Path(status["launcher"][0]).is_absolute()

    assert main(["integrate", "uninstall"]) == 0
    assert "removed" in capsys.readouterr().out
    assert json.loads((home / "settings.json").read_text())["autostart"] is False
    assert snapshot(user) == {}


def test_launcher_is_a_runnable_scry() -> None:
    argv = integrate.launcher_argv()
    assert Path(argv[0]).is_absolute()
    res = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.startswith("scry "), res.stderr


# -- Windows and macOS (generated here, applied only there) --------------------------------


class DictRegistry:
    """HKEY_CURRENT_USER as a dict, for the registry targets' logic."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get(self, key: str, name: str) -> str | None:
        return self.values.get((key.lower(), name))

    def set(self, key: str, name: str, data: str) -> None:
        self.values[(key.lower(), name)] = data

    def delete_value(self, key: str, name: str) -> None:
        self.values.pop((key.lower(), name), None)

    def delete_tree(self, key: str) -> None:
        k = key.lower()
        self.values = {kn: v for kn, v in self.values.items() if not kn[0].startswith(k)}


def test_windows_registry_plan(tmp_path: Path) -> None:
    exe = r"C:\Program Files\scry\scry.exe"
    plan = context_menu_plan([exe], exe + ",0")
    assert {v.key for v in plan} == {MENU_KEY, MENU_KEY + r"\command"}
    assert MENU_KEY == r"Software\Classes\*\shell\scry.findsimilar"
    values = {(v.key, v.name): v.data for v in plan}
    assert values[(MENU_KEY, "")] == "Find similar with scry"
    command = values[(MENU_KEY + r"\command", "")]
    assert command == '"C:\\Program Files\\scry\\scry.exe" similar --window "%1"'
    photo = r"C:\Users\ann\Pictures\my photo.jpg"
    argv = shlex.split(command.replace("%1", photo))  # no backslash escapes in these quotes
    assert argv[0] == exe
    args = build_parser().parse_args(argv[1:])
    assert (args.command, str(args.path), args.window) == ("similar", photo, True)

    reg = DictRegistry()
    reg.set(RUN_KEY, "OneDrive", "onedrive.exe /background")
    assert {
        r.action for r in integrate.install(launcher=[exe], platform="win32", registry=reg)
    } == {"written"}
    assert reg.get(MENU_KEY + r"\command", "") == command
    assert (
        integrate.set_autostart(True, launcher=[exe], platform="win32", registry=reg) == "written"
    )
    assert reg.get(RUN_KEY, "scry") == '"C:\\Program Files\\scry\\scry.exe" --background'
    assert integrate.autostart_enabled(platform="win32", registry=reg)
    again = integrate.install(launcher=[exe], platform="win32", registry=reg)
    assert {r.action for r in again} == {"unchanged"}
    integrate.uninstall(platform="win32", registry=reg)
    assert reg.values == {(RUN_KEY.lower(), "OneDrive"): "onedrive.exe /background"}


def test_macos_quick_action_and_launch_agent(user: Path, fake_scry, tmp_path: Path) -> None:
    launcher, record = fake_scry
    integrate.install(launcher=launcher, platform="darwin", autostart=True)
    wf = user / "Library/Services/Find Similar with scry.workflow/Contents"
    info = plistlib.loads((wf / "Info.plist").read_bytes())
    service = info["NSServices"][0]
    assert service["NSMenuItem"]["default"] == "Find Similar with scry"
    assert "public.image" in service["NSSendFileTypes"]
    flow = plistlib.loads((wf / "document.wflow").read_bytes())
    params = flow["actions"][0]["action"]["ActionParameters"]
    assert params["inputMethod"] == 1  # files arrive as arguments
    photo = tmp_path / "my photo.jpg"
    subprocess.run(["sh", "-c", params["COMMAND_STRING"], "sh", str(photo)], check=True)
    assert_similar(ran(record)[0], photo)

    agent = user / "Library/LaunchAgents" / f"{integrate.LAUNCH_AGENT}.plist"
    plist = plistlib.loads(agent.read_bytes())
    assert plist["ProgramArguments"] == [*launcher, "--background"]
    assert plist["RunAtLoad"] is True
    assert integrate.autostart_enabled(platform="darwin")

    integrate.uninstall(platform="darwin")
    assert not (user / "Library/Services/Find Similar with scry.workflow").exists()
    assert not agent.exists()


def test_icon_files_have_their_sizes() -> None:
    from PIL import Image

    icons = ROOT / "resources/icons"
    for n in integrate.ICON_SIZES:
        with Image.open(icons / f"scry-{n}.png") as im:
            assert im.size == (n, n) and im.mode == "RGBA"
            assert im.getchannel("A").getextrema() == (0, 255)  # transparent corners, opaque art
    with Image.open(icons / "scry.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= ico.info["sizes"]
