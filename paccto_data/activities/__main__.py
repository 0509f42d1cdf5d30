import sys

from paccto_data.activities.command import main

sys.exit(main())
