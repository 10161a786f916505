"""python -m musicvae_app opens the sketchpad window."""

import sys

from .ui.app import main

sys.exit(main())
