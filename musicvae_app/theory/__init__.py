"""Music theory models that need no Qt and no torch: keys and chord progressions inferred from note events."""
