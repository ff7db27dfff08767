"""`scry integrate install|uninstall|status`: "Find similar with scry" in file managers, the menu
entry and icon, and autostart (see app/integrate.py for what goes where)."""

from __future__ import annotations

import argparse
import sys

from .cli_common import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, _print_json

HELP = "add or remove scry in file managers' context menus, the app menu and autostart"
DESCRIPTION = """\
install    put "Find similar with scry" on images' and PDFs' context menus (Nautilus, Nemo,
           Dolphin, Thunar; Explorer on Windows; a Finder Quick Action on macOS), add scry to
           the application menu with its icon; writes nothing that is already right
uninstall  remove exactly what install wrote (autostart too); nothing else is touched
status     each entry: installed, not installed, outdated (run install again) or blocked

--autostart / --no-autostart (with install) start scry in the tray at login, or stop doing so.
"""


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "integrate",
        parents=[common],
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=["install", "uninstall", "status"])
    p.add_argument(
        "--autostart",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start scry in the tray when you log in (default: leave as it is)",
    )


def _sync_settings(args: argparse.Namespace, on: bool) -> None:
    """Keep the settings file's ``autostart`` in step with what the desktop now does."""
    from scry.indexer.config import Settings, data_home

    home = args.home.expanduser().resolve() if args.home else data_home()
    settings = Settings.load(home)
    if settings.autostart != on:
        settings.autostart = on
        settings.save(home)


def cmd_integrate(args: argparse.Namespace) -> int:
    from . import integrate

    if args.action == "status":
        rows = integrate.status()
        if args.json:
            _print_json({"targets": rows, "launcher": integrate.launcher_argv()})
            return EXIT_OK
        command = " ".join([*integrate.launcher_argv(), *integrate.SIMILAR_ARGS])
        print(f"Entries run: {command} FILE")
        for r in rows:
            print(f"  {r['label']}: {r['shown']}  ({r['location']})")
            if r["note"]:
                print(f"    {r['note']}")
        return EXIT_OK
    if args.action == "install":
        outcomes = integrate.install(autostart=args.autostart)
    else:
        if args.autostart:
            print(
                "scry: uninstall removes autostart too; --autostart does not apply.",
                file=sys.stderr,
            )
            return EXIT_USAGE
        outcomes = integrate.uninstall()
    failed = [o for o in outcomes if o.action.startswith("kept")]
    auto = next((o for o in outcomes if o.name == "autostart"), None)
    if auto is not None and not auto.action.startswith("kept"):
        _sync_settings(args, args.action == "install" and bool(args.autostart))
    if args.json:
        _print_json({"action": args.action, "targets": [o.as_json() for o in outcomes]})
    else:
        for o in outcomes:
            print(f"  {o.label}: {o.action}  ({o.location})")
        if args.action == "install" and not failed:
            print(
                "Done. Right-click an image or PDF and choose 'Find similar with scry' "
                "(restart the file manager if it was open; Nautilus lists it under Scripts)."
            )
    return EXIT_BAD_INPUT if failed else EXIT_OK
