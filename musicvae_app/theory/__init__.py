"""What a musician knows: chords, keys, sections, feel. No I/O; numpy at most."""
