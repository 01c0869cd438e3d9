import sys

from ctcbias.cli.main import main

sys.exit(main())
