import sys

from paccto_data.refresh.cli import main

sys.exit(main())
