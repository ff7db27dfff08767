#!/bin/sh
# scry-integration: written by "scry integrate install"; "scry integrate uninstall" removes it.
# Nautilus (GNOME Files) runs this for "Scripts > Find similar with scry" with the selected
# local files as arguments; scry searches with the first.
[ "$#" -gt 0 ] || exit 0
exec {similar} "$1"
