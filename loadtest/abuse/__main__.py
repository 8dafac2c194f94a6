"""`python -m loadtest.abuse`: the suite's command line (see `loadtest.abuse.runner`)."""

import sys

from loadtest.abuse.runner import main

sys.exit(main())
