"""``python -m planner.cli``: the ``edwc`` command."""

from planner.cli import main

main(prog_name="edwc")
