"""Audition: Song -> timed MIDI (schedule), a clock that sends it to a port (player), the ports the
system offers (ports), and FluidSynth for live sound and WAV renders (synth). No Qt in here."""
