"""PyInstaller's entry script for the bundle's `musicvae-app` executable: the sketchpad window.

Started with $MUSICVAE_ENGINE_SERVE set (by the window itself, engine/remote.py), it is the engine process.
"""

import os
import sys

if os.environ.get("MUSICVAE_ENGINE_SERVE"):
    from musicvae_app.engine.serve import main
else:
    from musicvae_app.ui.launch import main

sys.exit(main())
