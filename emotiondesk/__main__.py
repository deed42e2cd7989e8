import sys

from emotiondesk.cli import main

sys.exit(main())
