"""The transport's state without Qt: outputs, the open port and its Player, loop, start position, Jam look-ahead.

ui/playback_panel.py is a view of a Transport: it draws the picker and buttons, runs the playhead timer
and calls `tick()`; everything that decides what plays lives here, so it can be driven and tested with
an in-memory port (playback.ports.RecordingPort) and no window. Every failure the user must read goes
through one channel, `on_error(text)`, and leaves the transport stopped with the sketch untouched.

Sync (issue 30): `set_sync("internal" | "midi-clock" | "link", clock_in=PORT)` picks whose beat the band keeps;
`set_clock_out(True)` sends MIDI clock to the output. Following a MIDI clock, Play arms the band: it starts,
stops, continues and jumps with the sender. With Link, Play starts on the session's next matching bar line
and tells the peers; a peer's Play or Stop starts or stops us. The headless `musicvae play` is this class.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from ..errors import InvalidValue
from ..sketch.song import Song
from .clock import ClockIn
from .player import Player
from .ports import Output, OutputList, PortError, list_outputs, open_output, output_names
from .synth import find_soundfont

JAM_AHEAD_BEATS = 8.0  # Jam asks for more when less than this much sketch is left ahead of the playhead
SYNC_MODES = ("internal", "midi-clock", "link")
PORT_CHECK_SECONDS = 1.0


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
        self.sync = "internal"
        self.clock_out = False
        self.source = None  # the ClockIn or LinkSession keeping the beat, in those modes
        self.armed = False  # following a clock: Play was pressed, the band plays while the sender runs
        self.notice: str | None = None  # a line to show that is not an error (Link peers joining, leaving)
        self._sync_error: str | None = None  # set from the source's thread, said by tick()
        self._sync_lock = threading.Lock()
        self._entry: Output | None = None  # the output opened from the list (to notice it leaving)
        self._port_checked = 0.0

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
        self.player.set_clock_out(self.clock_out)
        self.player.set_timebase(self.source)

    # --- sync ----------------------------------------------------------------------------------
    def set_clock_out(self, on: bool) -> None:
        """Send MIDI clock, Start/Stop/Continue and Song Position to the output (from the next Play on)."""
        self.clock_out = bool(on)
        if self.player is not None:
            self.player.set_clock_out(self.clock_out)

    def set_sync(self, mode: str, clock_in: str | None = None) -> None:
        """Keep the beat of: "internal" (our own tempo), "midi-clock" (the clock arriving on input `clock_in`)
        or "link" (the Ableton Link session). Stops playback; PortError/InvalidValue name what is wrong."""
        if mode not in SYNC_MODES:
            raise InvalidValue(f"sync '{mode}' is not one of {', '.join(SYNC_MODES)}")
        if mode == "midi-clock" and not clock_in:
            raise InvalidValue("sync midi-clock needs the input the clock arrives on (--clock-in PORT)")
        self.stop()
        self._close_source()
        self.sync, self._sync_error, self.notice = "internal", None, None
        if mode == "midi-clock":
            self.source = ClockIn(clock_in, on_event=self._source_event, on_tick=self._nudge)
        elif mode == "link":
            from .link import LinkSession

            song = self.get_song()
            self.source = LinkSession(song.tempo if song is not None else 120.0, on_event=self._source_event)
        self.sync = mode
        if self.player is not None:
            self.player.set_timebase(self.source)

    def _close_source(self) -> None:
        source, self.source = self.source, None
        if self.player is not None:
            self.player.set_timebase(None)
        if source is not None:
            source.close()

    def _nudge(self) -> None:
        player = self.player
        if player is not None:
            player.nudge()

    def _source_event(self, kind: str, beats: float) -> None:
        """From the clock's or Link's thread: follow what the sender did."""
        with self._sync_lock:
            player, song = self.player, self.get_song()
            if kind == "peers":
                n = int(beats)
                self.notice = f"Link: {n} other peer{'s' if n != 1 else ''}" if n else "Link: no other peers"
                return
            if kind in ("stalled", "lost", "tempo"):
                self.armed = False
                if player is not None:
                    player.pause()
                self._sync_error = getattr(self.source, "error", None) or f"the clock {kind}"
                return
            if player is None or song is None:
                return
            if kind == "stop":
                if self.sync == "link" or self.armed:
                    player.pause()
                return
            if kind in ("start", "continue", "jump") and self.sync == "midi-clock" and self.armed:
                if not player.is_playing:
                    player.seek(beats)
                    player.play(song, loop=self.loop_setting(), at=beats)
                else:
                    player.seek(beats, at=beats)
            elif kind == "start" and self.sync == "link" and not player.is_playing:
                self._link_start(player, song)

    def _link_start(self, player: Player, song: Song) -> None:
        here = player.position_beats
        player.play(song, loop=self.loop_setting(), at=self.source.next_phase(here))

    def set_soundfont(self, path: str) -> str:
        """The built-in synth's soundfont (SynthUnavailable names a bad file); the next Play opens it."""
        self.soundfont = str(find_soundfont(path))
        self.close()
        return self.soundfont

    def close(self) -> None:
        self.armed = False
        self._entry = None
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
        self.jam_asked = False
        try:
            if self.sync == "midi-clock":  # armed: the sender's Start (or its running clock) starts the band
                self.armed = True
                if self.source.running:
                    here = self.source.beats()
                    self.player.seek(here)
                    self.player.play(song, loop=self.loop_setting(), at=here)
                else:
                    self.player.set_song(song)
                return True
            if self.sync == "link":
                if self.source.peers == 0:  # alone in the session: it takes our tempo
                    self.source.set_tempo(song.tempo)
                self.player.set_song(song)
                self._link_start(self.player, song)
                self.source.announce(True)
                return True
            self.player.play(song, loop=self.loop_setting())
        except ValueError as exc:
            return self._fail(str(exc))
        return True

    def stop(self) -> float | None:
        """Stop and go back to the start (of the loop region); the playhead's position."""
        self._disarm()
        if self.player is None:
            self.start_beats = self.loop_region[0] if self.loop and self.loop_region else 0.0
            return self.start_beats
        self.player.stop()
        return self.player.position_beats

    def pause(self) -> float | None:
        """Stop where it is: the next Play goes on from here. The playhead, or None when nothing was open."""
        self._disarm()
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
        if self._sync_error is not None:
            message, self._sync_error = self._sync_error, None
            self._fail(message)
        if player is None:
            return self.start_beats, None
        beats = player.position_beats
        if player.error and not player.is_playing:
            message = player.error
            player.error = None
            self.close()
            self._fail(message)
            return beats, None
        if player.is_playing and self._port_gone():
            label = self.port_label
            self.close()  # every note released, All Notes Off (into nothing, but the port may come back)
            self._fail(f"MIDI output '{label}' disappeared: connect it again, or choose another output and press Play")
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
        self._entry = chosen
        return True

    def shutdown(self) -> None:
        """Stop, close the output and leave the clock or Link session."""
        self.close()
        self._close_source()

    def _disarm(self) -> None:
        was = self.armed or (self.sync == "link" and self.is_playing)
        self.armed = False
        if self.sync == "link" and was and self.source is not None:
            self.source.announce(False)

    def _port_gone(self) -> bool:
        """Whether the chosen MIDI port has left the system (a JACK or ALSA client quit, a device unplugged);
        asked once a second. A JACK port sends into nothing without an error, so only asking tells."""
        entry = getattr(self, "_entry", None)
        now = time.monotonic()
        if entry is None or entry.kind != "port" or now - self._port_checked < PORT_CHECK_SECONDS:
            return False
        self._port_checked = now
        try:
            return entry.port not in output_names(entry.api)
        except Exception:  # the MIDI system itself went away: the port with it
            return True

    def _fail(self, message: str) -> bool:
        self.on_error(message)
        return False


def _read(source: Callable[[], Sequence] | None):
    return None if source is None else source()
