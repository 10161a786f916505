"""The document: the song, its settings, files in and out, undo, and the Session."""
