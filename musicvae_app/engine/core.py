"""Engine: the thesis's generation loop on a loaded pack, fast, reproducible, Qt-free.

The Engine is a composition of small parts, each built here with what it needs and each with a public
interface (no part reaches into another's underscored methods):
  steering  Steering (steering.py): scale lock, harmony, a start's density offsets for one call
  decoder   Decoder (loop.py): latents to probabilities and back, with the call's steering
  takes     Takes (takes.py): a new Song on the pack's grid, the checks on a take an edit goes on from
  loop      Loop (loop.py): the chunk loop
  planner   Planner (plan.py): each setting of a request checked and resolved against the card
  chording  Chording (chording.py): the chords of a call; bank StartBank (bank.py); sections Sections
  parts     Parts (parts.py): a MIDI file as a Song, a part to follow
  post      Post (post.py): the post-processing stage every entry point runs (groove, chart check)
  generation Generation (generate.py) and edits Edits (edits.py): the entry points' work, plan -> loop -> post
Engine's public methods are thin: they hand the request to one of those.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..model.fast import FastBand
from ..model.pack import Pack, load_pack
from ..sketch.song import LANES, ChunkInfo, Song
from ..sketch.spec import CardDefaults, GenerationSpec
from ..theory import dynamics
from ..theory.chords import Chord
from ..theory.keys import transpose_roll
from . import energy, ghosts
from .bank import StartBank
from .chording import Chording
from .edits import Edits
from .generate import GenerateRequest, Generation
from .groove import Groove
from .harmonizing import Harmonizer
from .loop import Decoder, Loop
from .parts import Parts
from .plan import Planner
from .post import Post
from .runtime import pick_device
from .sections import Sections
from .steering import Steering
from .styles import Styles
from .takes import Takes


class Engine:
    """Generate, continue, regenerate and reconstruct Songs with one pack on one device."""

    def __init__(self, pack: Pack, device: str = "auto", one_song_threads: int | None = None):
        """one_song_threads: torch threads for a single song on the CPU (None: torch's default).

        A single song is a chain of small multiplies. Split over every core it is fastest on an idle
        machine (25 ms a song here with 2 threads, 37 ms with 1) but stalls whenever another process
        holds a core (one busy process beside it: median 164 ms with 2 threads, 37 ms with 1). The
        window, which shares the machine with a DAW, asks for 1.
        """
        self.pack = pack
        self.cfg = pack.config
        self.torch_device = dev = pick_device(device)
        self.fast = FastBand(pack.band, dev)
        self._assemble(pack.generation, one_song_threads)

    def _assemble(self, card: CardDefaults, one_song_threads: int | None) -> None:
        """Build the parts on the card's typed defaults (pack.generation, parsed once when the pack loaded)."""
        cfg, dev, fast, name = self.cfg, self.torch_device, self.fast, self.pack.name
        self.card = card
        if card.lane_bias is not None:
            fast.set_lane_bias(card.lane_bias)
        fast.set_harmony(card.harmony, halves=card.harmony_halves)
        has_bank = fast.bank_z is not None
        self.steering = Steering(fast, dev, card.harmony)
        self.decoder = Decoder(fast, cfg, dev, self.steering, name, card.chord_bias)
        self.takes = Takes(cfg, name, self.decoder)
        self.loop = Loop(self.decoder, self.takes, fast, cfg, dev, one_song_threads, card.harmony_after)
        self.planner = Planner(cfg, card, has_bank, self.takes)
        self.chording = Chording(cfg, dev, self.pack.band)
        self.bank = StartBank(fast, cfg, dev, self.decoder, self.steering)
        self.sections = Sections(cfg, fast, dev, self.decoder, self.loop, card.harmony_after)
        self.parts = Parts(cfg, name, self.key_normalised, self.takes)
        self.harmonizer = Harmonizer(self.parts)
        self.groove = Groove(cfg, card.rules, card.fill, card.sustain, card.restrike)
        # ghost notes on the snare at the pack's measured floor (engine/ghosts.py; none without its dynamics.json);
        # a section's energy as the pack's energy.json says (engine/energy.py; the default pack's without one)
        folder = str(self.pack.path) if self.pack.path else None
        self.post = Post(
            cfg, self.groove, ghosts.floor(folder), energy.table(folder), ghosts.floor(folder, primed=True)
        )
        self.dynamics_source = dynamics.use_pack(folder)  # velocities read this pack's dynamics.json, or say why not
        self.style_set = Styles.of_pack(self.pack)
        self.generation = Generation(
            cfg,
            name,
            card,
            fast,
            dev,
            self.key_normalised,
            self.planner,
            self.takes,
            self.parts,
            self.chording,
            self.bank,
            self.steering,
            self.decoder,
            self.loop,
            self.sections,
            self.post,
            self.harmonizer,
            self.style_set,
        )
        self.edits = Edits(
            cfg,
            name,
            card,
            fast,
            dev,
            self.planner,
            self.takes,
            self.decoder,
            self.loop,
            self.steering,
            self.bank,
            self.chording,
            self.post,
        )

    def use_card(self, card: CardDefaults | dict | None = None, **changes) -> CardDefaults:
        """Generate with other card defaults from now on (a calibration, a test): a CardDefaults, or a card's
        "generation" block as a dict (checked: InvalidValue names a bad key), and/or single values
        (`use_card(bring_in=[1, 0.5, 1, 1, 1])`, each checked). The parts are rebuilt on it; the pack's card
        on disk is untouched. Returns the defaults in use before (hand them back to undo)."""
        before = self.card
        if card is None:
            card = self.card
        elif isinstance(card, dict):
            card = CardDefaults.from_block(card)
        card = card.replace(**changes) if changes else card
        if card.lane_bias is None and self.card.lane_bias is not None:
            self.fast.set_lane_bias([0.0] * len(LANES))  # as a pack with no offsets starts
        self._assemble(card, self.loop.one_song_threads)
        return before

    @classmethod
    def load(
        cls, pack: str | Path | Pack | None = None, device: str = "auto", one_song_threads: int | None = None
    ) -> Engine:
        return cls(pack if isinstance(pack, Pack) else load_pack(pack), device, one_song_threads)

    @property
    def device(self) -> str:
        return self.torch_device.type

    @property
    def device_name(self) -> str:
        if self.torch_device.type == "cuda":
            return f"CUDA ({torch.cuda.get_device_name(self.torch_device)})"
        return "CPU"

    @property
    def one_song_threads(self) -> int | None:
        """torch threads for a single song on the CPU (the Loop's; see __init__)."""
        return self.loop.one_song_threads

    @one_song_threads.setter
    def one_song_threads(self, threads: int | None) -> None:
        self.loop.one_song_threads = threads

    # --- public API ---------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self,
        steps: int = 8,
        noise: float | None = None,
        threshold: float | None = None,
        seed: int | None = None,
        primer: np.ndarray | Song | str | Path | None = None,
        variations: int = 1,
        tempo: float | None = None,
        keep: Song | None = None,
        keep_lanes: tuple[str, ...] | list[str] = (),
        revive: int | None = None,
        pull: float | None = None,
        lineup: tuple[str, ...] | list[str] | str | None = None,
        key: str | None = None,
        start: str | None = None,
        scale_lock: bool | None = None,
        harmony: float | None = None,
        chords: str | list | None = None,
        follow: str | Path | Song | None = None,
        groove: bool | None = None,
        sections: list | None = None,
        spec: GenerationSpec | None = None,
        chords_over_part: bool = False,
        style: str | None = None,
    ) -> Song | list[Song]:
        """A new sketch: the primer (or a starting chunk) and `steps` chunks after it.

        spec: a GenerationSpec (sketch/spec.py) in place of its keywords (steps, noise, threshold, variations,
        tempo, revive, pull, lineup, key, start, scale_lock): `generate(spec=GenerationSpec(steps=3), seed=1)`.
        Its values are used as they are (its tempo too); giving one of those keywords as well is an error.

        Every setting left as None comes from the pack's card (its "generation" defaults).
        keep/keep_lanes lock lanes: their chunks come from `keep`, and a locked lead lane is what
        the other lanes are conditioned on. revive: chunks of silence after which a lane is
        re-anchored; pull: how far each prediction is drawn back toward the first chunk.
        lineup: the lanes that play (the rest stay silent); every lineup lane the primer lacks is
        brought in from the pack's bank of real chunks and then follows the lead. key: 'E minor'
        etc. (None: the primer's key, or C major / A minor from a random start) on key-normalised
        packs. start: 'bank' (a real chunk from the pack) or 'prior' (z ~ N(0, I), the thesis).
        scale_lock: every generated pitched note stays in the key's scale (major or natural minor):
        each decoded chunk's probability on an out-of-scale pitch moves to its in-scale neighbour
        before the threshold, inside the loop, so the next chunk follows the steered notes. Drums
        and the primer's own notes are untouched.
        harmony: how strongly the pitched lanes are drawn to the pitch classes the band plays in each
        bar (FastBand.harmonise; 0 off), inside the loop like scale lock.
        chords: the chord of each bar, a chart ('Am F C G', '| Am | F |', one chord a bar) or a list
        of symbols (None: no chord), repeated to the song's length: every pitched lane plays them and
        the bass their roots. With no primer and no key, the key is the chart's.
        follow: a part (a MIDI file or a Song): every lane it plays is kept note for note for its whole
        length (as played: `Song.performance`), its chords are heard by the harmony model and the other lineup
        lanes are generated around it for the same length (steps is the part's length; a form longer than
        the part has it go round again). The part's chords rule over `chords` unless chords_over_part=True
        (the musician chose to play their chart over it).
        groove: fills at phrase ends, a bass that keeps playing, held notes struck again on the drums'
        beat (engine/groove.py); the card's default, off on packs whose card does not ask for it.
        sections: (name, start bar, bars) or sections.Section, inside the song: a section whose name came
        before ("chorus" again, "verse 2") plays its first time's music with a variation (engine/sections.py),
        and with groove the drums fill the bar before every section; the takes carry them (Song.sections).
        style: a style's name (Engine.styles(); None or "Auto": none): the sketch starts from the style's bank rows,
        plays its fills, its tempo (unless given) and swing, and its drums play a kit (engine/styles.py).
        revive 0, pull 0, harmony 0, start 'prior', groove off on a piano-lead pack is the thesis's loop exactly.
        """
        request = GenerateRequest(**{name: value for name, value in locals().items() if name not in ("self", "spec")})
        return self.generation.run(request if spec is None else request.with_spec(spec))

    def styles(self) -> list[tuple[str, str]]:
        """The pack's styles as (name, one-line description), "Auto" (no style) first."""
        return self.style_set.describe()

    def generate_takes(self, **settings) -> list[Song]:
        """Like generate, always a list of takes (one per variation)."""
        out = self.generate(**settings)
        return out if isinstance(out, list) else [out]

    @torch.inference_mode()
    def regenerate_lane(
        self,
        song: Song,
        lane: str | int,
        seed: int | None = None,
        noise: float | None = None,
        revive: int | None = None,
    ) -> Song:
        """A new take of one lane for the whole song; the other four lanes stay bit-identical (Edits)."""
        return self.edits.regenerate_lane(song, lane, seed, noise, revive)

    @torch.inference_mode()
    def continue_song(
        self, song: Song, steps: int, seed: int | None = None, noise: float | None = None, revive: int | None = None
    ) -> Song:
        """`steps` more chunks after the end of the song (Edits)."""
        return self.edits.continue_song(song, steps, seed, noise, revive)

    @torch.inference_mode()
    def infill(
        self,
        song: Song,
        start_bar: int,
        end_bar: int,
        lanes: list[str] | tuple[str, ...] | str | None = None,
        seed: int | None = None,
        variations: int = 1,
        candidates: int = 4,
    ) -> Song | list[Song]:
        """New material for bars start_bar..end_bar (1-based, inclusive) of `lanes` (Edits.infill)."""
        return self.edits.infill(song, start_bar, end_bar, lanes, seed, variations, candidates)

    @torch.inference_mode()
    def morph(self, a: Song, b: Song, steps: int = 8, keep_lanes: tuple[str, ...] | list[str] = ()) -> Song:
        """A passage of `steps` chunks from take A's first chunk to take B's, lane by lane (Edits.morph)."""
        return self.edits.morph(a, b, steps, keep_lanes)

    @torch.inference_mode()
    def set_chords(self, song: Song, chords) -> Song:
        """The take with another chord chart, the changed bars re-voiced from its latents (Edits.set_chords)."""
        return self.edits.set_chords(song, chords)

    @torch.inference_mode()
    def set_chord(self, song: Song, bar: int, chord: str | Chord | None) -> Song:
        """set_chords for one bar (1-based): that bar re-voiced to `chord` from the same latents."""
        return self.edits.set_chord(song, bar, chord)

    def song_from_midi(self, path) -> Song:
        """A whole MIDI file (a path, or its sketch.midi.Notes already read) as a Song on the pack's grid (notes
        as certain cells), with its key and tempo."""
        return self.parts.song_from_midi(path)

    def read_part(self, path) -> Song:
        """A part to follow from a .mid (or its Notes already read: the file is read once), checked (InvalidValue:
        no notes, too long) as generate(follow=) checks it."""
        return self.parts.read_part(path)

    def harmonize(self, part: str | Path | Song, alternatives: int = 3) -> list[str]:
        """Chord charts for a part (a melody, a riff, a bass line, a comp: a .mid or a Song), best first.

        The learned harmony model (theory/harmony.py) decodes the whole part at once, up to two chords a bar:
        '| C Am | F | G |'. InvalidValue for a part of no notes or only drums, or longer than a sketch.
        """
        return self.harmonizer.harmonize(part, alternatives).charts

    def harmony(self, part: str | Path | Song, alternatives: int = 3):
        """harmonize's whole answer: the key too (theory.harmony.Harmony: key, charts, chords per bar, scores)."""
        return self.harmonizer.harmonize(part, alternatives)

    @torch.inference_mode()
    def reconstruct(self, song: Song) -> Song:
        """Encode and decode every chunk with no noise: a tidy of a primer, and how we measure the VAEs."""
        self.takes.check(song)
        n = song.n_chunks
        shift_out = int(song.settings.get("transpose", 0))
        notes = transpose_roll(song.notes(), -shift_out)
        rolls = notes.reshape(len(LANES), n, self.cfg.chunk_steps, 128).astype(np.float32)
        z = self.encode(rolls)
        probs = self.decoder.unblock(self.fast.decode(z), n).reshape(len(LANES), -1, 128)
        out = song.copy()
        out.probs = transpose_roll(probs, shift_out) if shift_out else probs
        out.latents = z.permute(1, 0, 2).cpu().numpy()
        out.chunks = [[ChunkInfo("reconstructed", None, 0.0, self.pack.name)] * len(LANES) for _ in range(n)]
        return out

    def encode(self, rolls: np.ndarray) -> torch.Tensor:
        """Binary chunks (5, N, chunk_steps, 128) -> latent means (5, N, K) on the engine's device."""
        return self.decoder.encode(rolls)

    def lineup(self, lineup=None) -> list[int]:
        """Lane indices that play, from names or 'piano,bass' text; None: the pack's default lineup."""
        return self.planner.lineup(lineup)

    # --- the card -----------------------------------------------------------------------------
    @property
    def defaults(self) -> dict:
        """The card's generation defaults in use (self.card) as a dict, with the thesis's values where it has none;
        per-lane values as lists, start resolved against the pack's bank."""
        return self.card.engine_defaults(self.fast.bank_z is not None)

    @property
    def key_normalised(self) -> bool:
        rep = self.pack.card.get("representation")
        return bool(isinstance(rep, dict) and rep.get("key_normalised"))
