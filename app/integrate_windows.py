"""Windows: the per-user registry keys for "Find similar with scry" and for autostart.

The keys are computed as data first (:func:`context_menu_plan`, :func:`autostart_plan`), so they
can be checked on any system; :class:`WinRegistry` applies them with ``winreg`` on Windows only.
Everything lives under HKEY_CURRENT_USER: no administrator rights, nothing for other users.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Protocol

from .integrate_files import INSTALLED, MISSING, OUTDATED, Target

log = logging.getLogger(__name__)

MENU_KEY = r"Software\Classes\*\shell\scry.findsimilar"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "scry"
MARKER_VALUE = "ScryIntegration"
# Explorer shows the verb only for pictures and PDFs (Advanced Query Syntax, Windows 7 and later).
APPLIES_TO = "System.Kind:=picture OR System.FileExtension:=.pdf"


@dataclass(frozen=True)
class RegValue:
    """One string value under HKEY_CURRENT_USER; ``name`` "" is the key's default value."""

    key: str
    name: str
    data: str


def command_line(argv: list[str], *args: str) -> str:
    """A Windows command line (the quoting ``CommandLineToArgvW`` undoes)."""
    return subprocess.list2cmdline([*argv, *args])


def context_menu_plan(
    launcher: list[str], icon: str, similar: tuple[str, ...] = ("similar", "--window")
) -> list[RegValue]:
    """The values that put "Find similar with scry" on pictures' and PDFs' context menus."""
    label = "Find similar with scry"
    return [
        RegValue(MENU_KEY, "", label),
        RegValue(MENU_KEY, "MUIVerb", label),
        RegValue(MENU_KEY, "Icon", icon),
        RegValue(MENU_KEY, "AppliesTo", APPLIES_TO),
        RegValue(MENU_KEY, MARKER_VALUE, "1"),
        RegValue(MENU_KEY + r"\command", "", command_line(launcher, *similar) + ' "%1"'),
    ]


def autostart_plan(launcher: list[str]) -> list[RegValue]:
    """The Run value that starts scry in the tray when the user logs in."""
    return [RegValue(RUN_KEY, RUN_VALUE, command_line(launcher, "--background"))]


class Registry(Protocol):
    """The four operations the targets need (winreg on Windows, a dict in tests)."""

    def get(self, key: str, name: str) -> str | None: ...
    def set(self, key: str, name: str, data: str) -> None: ...
    def delete_value(self, key: str, name: str) -> None: ...
    def delete_tree(self, key: str) -> None: ...


class WinRegistry:
    """HKEY_CURRENT_USER through ``winreg``; only importable on Windows."""

    def __init__(self) -> None:
        if sys.platform != "win32":  # pragma: no cover - guarded by the caller
            raise RuntimeError("the Windows registry exists only on Windows")
        import winreg

        self.winreg = winreg

    def get(self, key: str, name: str) -> str | None:  # pragma: no cover - Windows only
        wr = self.winreg
        try:
            with wr.OpenKey(wr.HKEY_CURRENT_USER, key) as k:
                value, _kind = wr.QueryValueEx(k, name)
        except OSError:
            return None
        return str(value)

    def set(self, key: str, name: str, data: str) -> None:  # pragma: no cover - Windows only
        wr = self.winreg
        with wr.CreateKeyEx(wr.HKEY_CURRENT_USER, key, 0, wr.KEY_SET_VALUE) as k:
            wr.SetValueEx(k, name, 0, wr.REG_SZ, data)

    def delete_value(self, key: str, name: str) -> None:  # pragma: no cover - Windows only
        wr = self.winreg
        try:
            with wr.OpenKey(wr.HKEY_CURRENT_USER, key, 0, wr.KEY_SET_VALUE) as k:
                wr.DeleteValue(k, name)
        except FileNotFoundError:
            pass

    def delete_tree(self, key: str) -> None:  # pragma: no cover - Windows only
        wr = self.winreg
        try:
            with wr.OpenKey(wr.HKEY_CURRENT_USER, key, 0, wr.KEY_ALL_ACCESS) as k:
                while True:
                    try:
                        sub = wr.EnumKey(k, 0)
                    except OSError:
                        break
                    self.delete_tree(key + "\\" + sub)
            wr.DeleteKey(wr.HKEY_CURRENT_USER, key)
        except FileNotFoundError:
            pass


@dataclass
class RegistryTarget(Target):
    """Registry values written by scry. ``owner``: (key, value name) whose presence marks them."""

    plan: list[RegValue] = field(default_factory=list)
    registry: Registry | None = None
    owner: tuple[str, str] = (MENU_KEY, MARKER_VALUE)
    remove_key: str | None = None  # delete this whole key on uninstall (else only the values)

    @property
    def location(self) -> str:
        return "HKEY_CURRENT_USER\\" + self.plan[0].key

    @property
    def reg(self) -> Registry:
        if self.registry is None:
            self.registry = WinRegistry()
        return self.registry

    def state(self) -> str:
        self.note = ""
        found = [self.reg.get(v.key, v.name) for v in self.plan]
        if self.reg.get(*self.owner) is None:
            return MISSING
        same = all(f == v.data for f, v in zip(found, self.plan, strict=True))
        return INSTALLED if same else OUTDATED

    def install(self) -> str:
        state = self.state()
        if state == INSTALLED:
            return "unchanged"
        for v in self.plan:
            if self.reg.get(v.key, v.name) != v.data:
                self.reg.set(v.key, v.name, v.data)
        return "written" if state == MISSING else "updated"

    def uninstall(self) -> str:
        if self.reg.get(*self.owner) is None:
            return "absent"
        if self.remove_key:
            self.reg.delete_tree(self.remove_key)
        else:
            for v in self.plan:
                self.reg.delete_value(v.key, v.name)
        return "removed"


def menu_target(
    launcher: list[str],
    icon: str,
    registry: Registry | None = None,
    similar: tuple[str, ...] = ("similar", "--window"),
) -> RegistryTarget:
    return RegistryTarget(
        "explorer",
        "Explorer context menu (registry)",
        plan=context_menu_plan(launcher, icon, similar),
        registry=registry,
        remove_key=MENU_KEY,
    )


def autostart_target(launcher: list[str], registry: Registry | None = None) -> RegistryTarget:
    return RegistryTarget(
        "autostart",
        "Start with Windows (Run key)",
        plan=autostart_plan(launcher),
        registry=registry,
        owner=(RUN_KEY, RUN_VALUE),
    )
