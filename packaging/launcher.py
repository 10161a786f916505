"""PyInstaller's entry script for the bundle's `musicvae-app` executable: the sketchpad window."""

import sys

from musicvae_app.ui.app import main

sys.exit(main())
