import sys

from emotiondesk.cli.main import main

sys.exit(main())
