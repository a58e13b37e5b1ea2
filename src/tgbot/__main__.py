import sys

from tgbot.cli import main

sys.exit(main())
