"""Entry point of the standalone build (PyInstaller runs this file; the installed package does the rest)."""

import multiprocessing
import sys

from emotiondesk.cli.main import main

if __name__ == "__main__":
    # batch analysis spawns worker processes: in a frozen app they re-run this executable
    multiprocessing.freeze_support()
    sys.exit(main())
