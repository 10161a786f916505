"""python -m musicvae_app opens the sketchpad window (the engine process first: ui/launch.py)."""

import sys

from .ui.launch import main

sys.exit(main())
