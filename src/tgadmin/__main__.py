import sys

from tgadmin.cli import main

sys.exit(main())
