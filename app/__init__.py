"""scry's shells: the command line and (later) the Qt window."""
