"""The transport's state without Qt: outputs, the open port and its Player, loop, start position, Jam look-ahead.

ui/playback_panel.py is a view of a Transport: it draws the picker and buttons, runs the playhead timer
and calls `tick()`; everything that decides what plays lives here, so it can be driven and tested with
an in-memory port (playback.ports.RecordingPort) and no window. Every failure the user must read goes
through one channel, `on_error(text)`, and leaves the transport stopped with the sketch untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..sketch.song import Song
from .player import Player
from .ports import Output, OutputList, PortError, list_outputs, open_output
from .synth import find_soundfont

JAM_AHEAD_BEATS = 8.0  # Jam asks for more when less than this much sketch is left ahead of the playhead


class Transport:
    """Play the current sketch to the chosen output.

    get_song() -> Song | None is read on Play; get_mutes() / get_solos() -> five booleans (or lane
    names, or None) on Play and on mutes_changed().
    """

    def __init__(
        self,
        get_song: Callable[[], Song | None],
        get_mutes: Callable[[], Sequence] | None = None,
        get_solos: Callable[[], Sequence] | None = None,
        on_error: Callable[[str], None] | None = None,
        soundfont: str | None = None,
    ) -> None:
        self.get_song, self.get_mutes, self.get_solos = get_song, get_mutes, get_solos
        self.on_error = on_error or (lambda text: None)
        self.outputs = OutputList()
        self.port = None
        self.port_label: str | None = None
        self.player: Player | None = None
        self.start_beats = 0.0  # where Play starts before an output is open
        self.loop = False
        self.loop_region: tuple[float, float] | None = None
        self.jam = False
        self.jam_asked = False
        self.soundfont = soundfont

    # --- reading -------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self.player is not None and self.player.is_playing

    @property
    def position_beats(self) -> float:
        return self.player.position_beats if self.player is not None else self.start_beats

    def loop_setting(self) -> bool | tuple[float, float] | None:
        if not self.loop:
            return None
        return self.loop_region if self.loop_region is not None else True

    # --- outputs -------------------------------------------------------------------------------
    def refresh(self, wanted: str | None = None) -> Output | None:
        """List the outputs again; the one to pick: `wanted` where still usable, else the built-in synth
        (it sounds at once, where our virtual port is silent until something is connected), else the first."""
        self.outputs = list_outputs()
        usable = [o for o in self.outputs.outputs if o.available]
        synth = next((o for o in usable if o.kind == "synth"), None)
        found = self.outputs.find(wanted)
        choice = found if found in usable else synth or (usable or [None])[0]
        if choice is None or choice.label != self.port_label:
            self.close()
        return choice

    def use_output(self, port, label: str) -> None:
        """Play to an already open mido output port (a DAW bridge, an in-memory RecordingPort)."""
        self.close()
        self.port, self.port_label = port, label
        self.player = Player(port)

    def set_soundfont(self, path: str) -> str:
        """The built-in synth's soundfont (SynthUnavailable names a bad file); the next Play opens it."""
        self.soundfont = str(find_soundfont(path))
        self.close()
        return self.soundfont

    def close(self) -> None:
        if self.player is not None:
            self.player.close()
        if self.port is not None:
            self.port.close()
        self.player = self.port = self.port_label = None

    # --- playing -------------------------------------------------------------------------------
    def play(self, label: str | None = None) -> bool:
        """Play the current sketch (opening output `label` when none is open); False, said, when it cannot."""
        song = self.get_song()
        if song is None:
            return self._fail("Nothing to play yet: generate a sketch first")
        if self.player is None:
            if not self.open_output(label):
                return False
            self.player.set_song(song)  # the song first: a seek is clamped to the song's length
            self.player.seek(self.start_beats)
        self.player.set_mutes(_read(self.get_mutes), _read(self.get_solos))
        try:
            self.player.play(song, loop=self.loop_setting())
        except ValueError as exc:
            return self._fail(str(exc))
        self.jam_asked = False
        return True

    def stop(self) -> float | None:
        """Stop and go back to the start (of the loop region); the playhead's position."""
        if self.player is None:
            self.start_beats = self.loop_region[0] if self.loop and self.loop_region else 0.0
            return self.start_beats
        self.player.stop()
        return self.player.position_beats

    def pause(self) -> float | None:
        """Stop where it is: the next Play goes on from here. The playhead, or None when nothing was open."""
        if self.player is None:
            return None
        self.player.pause()
        return self.player.position_beats

    def seek(self, beats: float) -> float:
        """Move the playhead (before an output is open, the next Play starts there); where it went."""
        if self.player is not None:
            song = self.get_song()
            if self.player.song is None and song is not None:  # a fresh port's player knows no sketch yet,
                self.player.set_song(song)  # and its seek would be clamped to nothing
            self.player.seek(beats)
            return self.player.position_beats
        self.start_beats = float(beats)
        return self.start_beats

    def song_changed(self) -> None:
        """The sketch changed (edited, regenerated, grown by Jam): play on with it."""
        self.jam_asked = False
        song = self.get_song()
        if self.player is None or song is None:
            return
        # Stopped too, the player takes the new sketch now (and schedules it, so Play sounds at once): a seek
        # after a longer Generate is then clamped to the new sketch's length, not the old one's.
        self.player.set_song(song)

    def mutes_changed(self) -> None:
        if self.player is not None:
            self.player.set_mutes(_read(self.get_mutes), _read(self.get_solos))

    def set_loop(self, on: bool | None = None, region: tuple[float, float] | None | bool = False) -> None:
        """Loop on or off, and/or the region it repeats in beats (None: the whole sketch; False: unchanged)."""
        if on is not None:
            self.loop = bool(on)
        if region is not False:
            self.loop_region = None if region is None else (float(region[0]), float(region[1]))
        if self.player is not None and self.player.song is not None:
            try:
                self.player.set_loop(self.loop_setting())
            except ValueError as exc:
                self._fail(str(exc))

    def tick(self) -> tuple[float, float | None]:
        """Called ~30 times a second while playing: (playhead in beats, beats left ahead when Jam should
        generate more, else None). A lost port closes the output and goes to on_error."""
        player = self.player
        if player is None:
            return self.start_beats, None
        beats = player.position_beats
        if player.error and not player.is_playing:
            message = player.error
            player.error = None
            self.close()
            self._fail(message)
            return beats, None
        song = player.song
        if self.jam and player.is_playing and song is not None and not self.jam_asked:
            ahead = song.n_steps / song.steps_per_beat - beats
            if ahead < JAM_AHEAD_BEATS:
                self.jam_asked = True
                return beats, ahead
        return beats, None

    # --- internals -------------------------------------------------------------------------------
    def open_output(self, label: str | None) -> bool:
        """Open the output named `label` (None or unknown: the list's message) and play through it from now on.

        True when it opened; a failure goes to on_error (said on the transport row) and returns False."""
        chosen = self.outputs.find(label)
        if chosen is None:
            return self._fail(self.outputs.message or "No output: press Refresh and choose one")
        try:
            port = open_output(chosen, self.soundfont)
        except PortError as exc:
            return self._fail(str(exc))
        self.use_output(port, chosen.label)
        return True

    def _fail(self, message: str) -> bool:
        self.on_error(message)
        return False


def _read(source: Callable[[], Sequence] | None):
    return None if source is None else source()
