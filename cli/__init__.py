"""The ``spasm`` command: a thin click layer over the ``expert`` library."""
