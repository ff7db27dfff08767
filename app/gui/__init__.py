"""The desktop window (PySide6). ``scry`` with no command, or ``scry gui``, opens it.

Importing this package does not import Qt; :func:`scry.app.gui.app.run` does.
"""
