"""The ``chancy`` command line: ``chancy --app module:attr <group> <command>``."""
