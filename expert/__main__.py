"""``python -m expert``: the ``spasm`` command, for hosts where the console script is not on PATH."""
from expert.cli.main import run

if __name__ == "__main__":
    run()
