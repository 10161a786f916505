"""A new sketch: Engine.generate's plan (every setting resolved against the card), the loop, the post stage.

The music of one call is made here, by the engine's parts passed in: Planner (plan.py), Parts (a part to
follow), Chording (the chords of the call), StartBank (where it starts), Steering (scale lock, harmony), Loop
and Decoder (loop.py), Sections (a form's repeats) and Post (post.py: groove, chart check).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidValue
from ..limits import check_float, check_noise, check_seed, check_steps_variations, check_tempo, check_threshold
from ..sketch.song import DRUMS, LANE_SETTINGS, LANES, ChunkInfo, Song, TakeRecord
from ..sketch.spec import GenerationSpec
from ..theory.chords import BEATS_PER_BAR, chart_period, chords_key, fit_chart, per_beat, recognize, song_texts
from ..theory.keys import key_name, parse_key, transpose_roll
from ..theory.sections import SectionError, check_sections, song_end
from . import bass_range, energy, form_roles, free_bass, fuller, kept_fills, lighter, roles
from .chording import plan_args, read_chords
from .key_space import key_shifts
from .kit import DrumMoves, HeldKit
from .loop import LoopRun, finish_probs
from .recall import Recall, replay, settle, twin_chunks
from .recall_chart import BASS, CHAINED, pedal_share, settle_changed
from .runtime import new_seed
from .sections import fill_bars
from .vary import PrimerVary


@dataclass(frozen=True)
class GenerateRequest:
    """One Engine.generate call's keywords as given (see Engine.generate: the same names and defaults); None leaves
    a setting to the pack's card. Engine.generate builds it, Generation.run resolves it."""

    steps: int = 8
    noise: float | None = None
    threshold: float | None = None
    seed: int | None = None
    primer: np.ndarray | Song | str | Path | None = None
    variations: int = 1
    tempo: float | None = None
    keep: Song | None = None
    keep_lanes: tuple[str, ...] | list[str] = ()
    revive: int | None = None
    pull: float | None = None
    lineup: tuple[str, ...] | list[str] | str | None = None
    key: str | None = None
    start: str | None = None
    scale_lock: bool | None = None
    harmony: float | None = None
    chords: str | list | None = None
    follow: str | Path | Song | None = None
    groove: bool | None = None
    sections: list | None = None
    chords_over_part: bool = False
    style: str | None = None

    def with_spec(self, spec: GenerationSpec) -> GenerateRequest:
        """This with a GenerationSpec's values in place of its keywords (steps, noise, threshold, ...), used as they
        are; InvalidValue where one of them was given as a keyword too."""
        args = spec.engine_args()
        clash = [name for name in args if getattr(self, name) != _DEFAULTS[name]]
        if clash:
            raise InvalidValue(f"give {', '.join(clash)} in the spec or as keywords, not both")
        return dataclasses.replace(self, **args)


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(GenerateRequest)}


class Generation:
    """Engine.generate's work, on the engine's parts (each passed in)."""

    def __init__(
        self,
        cfg,
        pack_name,
        card,
        fast,
        device,
        key_normalised,
        planner,
        takes,
        parts,
        chording,
        bank,
        steering,
        decoder,
        loop,
        sections,
        post,
        harmonizer,
        styles,
    ):
        self.cfg = cfg
        self.styles = styles
        self.pack_name = pack_name
        self.card = card
        self.fast = fast
        self.device = device
        self.key_normalised = key_normalised
        self.planner = planner
        self.takes = takes
        self.parts = parts
        self.chording = chording
        self.bank = bank
        self.steering = steering
        self.decoder = decoder
        self.loop = loop
        self.sections = sections
        self.post = post
        self.harmonizer = harmonizer

    def run(self, call: GenerateRequest) -> Song | list[Song]:
        """Engine.generate (see there): plan, loop, post."""
        g = self.card
        style = self.styles.get(call.style)  # None: Auto
        groove = bool(g.groove if call.groove is None else call.groove)
        steps, variations, key, sections = call.steps, call.variations, call.key, call.sections
        keep, keep_lanes = call.keep, call.keep_lanes
        part = None
        if call.follow is not None:
            if keep is not None or call.primer is not None:
                raise InvalidValue("follow a part, or give a primer or locked lanes, not both")
            if key is not None:
                raise InvalidValue(f"a followed part plays in its own key: leave the key unset (asked {key!r})")
            part = self.parts.follow_part(call.follow)
            if sections:  # a form longer than the part: the part goes round again until the form ends
                form = check_sections(sections)
                part = self.parts.through_form(part, max(s.start + s.bars - 1 for s in form) if form else 0)
            keep, keep_lanes = part, [LANES[i] for i in range(len(LANES)) if part.notes()[i].any()]
            steps = part.n_chunks - 1
        if part is None and sections:  # a form that ends in an outro ends the take with it (locked lanes: not
            end = song_end(check_sections(sections))  # before their take ends)
            kept = -1 if keep is None else keep.n_chunks - 1
            steps = steps if end is None else max(-(-end // self.cfg.bars) - 1, kept)
        steps, variations = check_steps_variations(steps, variations, self.cfg.chunk_steps)
        n_bars = (steps + 1) * self.cfg.bars
        asked = read_chords(call.chords, n_bars) if call.chords is not None else None
        try:
            sections = self.sections.check(sections, n_bars)
        except SectionError as exc:
            if part is None:
                raise
            name = part.settings.get("source") or "the part"
            raise SectionError(
                f"the part followed ('{name}') is {n_bars} bars long and sets the sketch's length, so the song form "
                f"must fit in it: {exc}"
            ) from None
        tempo = None if call.tempo is None else check_tempo(call.tempo)
        noise = check_noise(g.noise if call.noise is None else call.noise)
        threshold = check_threshold(g.threshold if call.threshold is None else call.threshold)
        revive, pull = self.planner.revive(call.revive), self.planner.pull(call.pull)
        lineup = self.planner.lineup(call.lineup)
        if part is not None and call.lineup is None:  # the pack's lineup, with every lane the part plays
            lineup = sorted(set(lineup) | {LANES.index(name) for name in keep_lanes})
        if part is not None and (left_out := [name for name in keep_lanes if LANES.index(name) not in lineup]):
            raise InvalidValue(
                f"the part plays {', '.join(left_out)}, which the lineup leaves out, so none of its notes would be "
                f"kept: add {', '.join(left_out)} to the lineup (--lanes), or leave the lineup unset"
            )
        start = self.planner.start(call.start)
        seed = new_seed() if call.seed is None else check_seed(call.seed)
        gen = torch.Generator().manual_seed(seed)
        primer_roll, primer_tempo = (None, None) if call.primer is None else self.planner.primer(call.primer)
        chart_aside = part is not None and asked is not None and not call.chords_over_part
        if part is not None:
            primer_roll, primer_tempo = part.notes()[:, : self.cfg.chunk_steps], float(part.tempo)
            if asked is None or chart_aside:  # the part's chords rule unless the chart is played over it
                asked = self.harmonizer.follow_chords(part, n_bars)  # the harmony model, the whole part at once
        if asked is not None and key is None and primer_roll is None and keep is None:
            own = chords_key(asked[: chart_period(asked)])  # a chart alone: its own key (none for N.C. alone)
            key = key_name(own) if own is not None else None
        key_roll = part.notes() if part is not None else primer_roll  # a followed part's key is the whole part's
        shift_in, shift_out, key_used = key_shifts(key_roll, keep, key, self.key_normalised)
        scale_lock = bool(g.scale_lock if call.scale_lock is None else call.scale_lock)
        harmony = check_float("harmony", g.harmony if call.harmony is None else call.harmony, 0.0, 8.0)
        start_bias = self.steering.start_bias(g.start_bias) if primer_roll is None and start == "bank" else None
        with self.steering.during(
            self.steering.scale_map(key_used, shift_out) if scale_lock else None, harmony, start_bias
        ):
            cs, n_lanes = self.cfg.chunk_steps, len(LANES)
            spb_all = cs // self.cfg.bars  # steps a bar
            forced = self.loop.forced_from(keep, keep_lanes, steps + 1, -shift_out if keep is not None else 0)
            chord_source = (
                "asked" if call.chords is not None and not chart_aside else ("part" if part is not None else None)
            )
            plan = self.chording.plan(asked, -shift_out, variations, steps + 1)
            if primer_roll is not None:
                first = transpose_roll(primer_roll, shift_in).astype(np.float32)
                if asked is None and self.cfg.chords:  # chord packs decode with the primer's chords, unsteered
                    heard = per_beat(recognize(first, 4 * self.cfg.steps_per_beat), n_bars)
                    plan = self.chording.plan(heard, 0, variations, steps + 1, steer=False)
                first = np.repeat(first[:, None], variations, axis=1)
                first_z = None
                source = "primer"
            elif start == "bank":
                in_key = None
                if key is not None and self.key_normalised:  # a key asked: a start with that key's tonic
                    in_key = (9, "minor") if parse_key(key_used)[1] == "minor" else (0, "major")
                bank_pick = self.bank.rows(
                    gen, variations, lineup, threshold, style.bank_rows if style else None, in_key
                )
                first_z = self.fast.bank_z[bank_pick].permute(1, 0, 2).contiguous()  # (L, B, K)
                if asked is None:  # chord packs: the progression the bank chunk played, round and round
                    asked = self.chording.bank_chords(bank_pick, shift_out)
                    chord_source = "bank" if asked is not None else None
                    asked = fit_chart(asked, n_bars * BEATS_PER_BAR) if asked is not None else None
                    plan = self.chording.plan(asked, -shift_out, variations, steps + 1)
                first = self.decoder.unblock(self.decoder.decode(first_z, variations, **plan_args(plan, 0)), variations)
                source = "bank"
            else:
                first_z = torch.randn((n_lanes, variations, self.cfg.latent), generator=gen).to(self.device)
                first = self.decoder.unblock(self.decoder.decode(first_z, variations, **plan_args(plan, 0)), variations)
                source = "random"
            silent = ~(first >= threshold).any(axis=(2, 3))  # (5, B): lanes the first chunk lacks
            styled = style.bank_rows if style else None  # a part or a primer with a style: its lanes from its rows
            brought_in = self.bank.bring_in(first, threshold, lineup, forced, gen, plan, styled) if revive else []
            light = self.steering.light(brought_in, silent, g.bring_in) if source == "primer" and part is None else None
            if forced is not None:
                first[forced.mask[0]] = forced.probs[forced.mask[0], None, :cs]
            recall = None
            # where chords drive the band; without them (a free take) returns at the shares learned with no chords
            # read, the pitched lanes that do not return free of the pull (held, bass chunks near an earlier one 87 %
            # against real songs' 33 %)
            if plan is not None and any(any(s or ()) for s in (g.recall, g.recall_moved, g.recall_apart)):
                shares = [np.asarray(v, dtype=float) if v is not None else None for v in _recall_shares(g)]
                rates = shares[0] if shares[0] is not None else np.zeros(n_lanes)
                recall = Recall(rates, _chunk_sections(sections, steps + 1, self.cfg.bars), seed, *shares[1:])
                recall.twin = twin_chunks(sections, steps + 1, self.cfg.bars)  # a second verse returns to the first
            elif plan is None and g.recall_free is not None and any(g.recall_free):
                # a free take or a continuation without chords (with a form: returns inside a section, the
                # sections' repeats are sections.repeat's; the fills into a section stay: kept_fills.py)
                recall = free_recall(g, _chunk_sections(sections, steps + 1, self.cfg.bars), seed, n_lanes)
                if source == "primer":  # a continuation keeps the pull toward its primer on every lane, its
                    # returns drawn (freed, its lanes left the primer's groove: musicvae evaluate's continuation goals
                    # bass QN, strings EB and UPC were missed)
                    recall.moves_on, recall.kit_guard = (), False
                    recall.earliest = 1 if scale_lock else 0  # the primer's notes out of the locked scale stay there
                    recall.vary = PrimerVary.from_card(g, seed, self.cfg.bars)  # held chunks: back, near, new (vary.py)
                    recall.last = None  # every return's chunk drawn (at the free takes' share of the chunk
                    # before the bass replayed it in 24 % of chunks against 10, and its QN fell under its goal)
                elif sections:  # a form's drums stay held: its energy, fills and repeated sections shape them (freed,
                    # an unsure snare doubled on a beat played soft: test_dynamics' ghost notes), but move on where
                    # held they would fade off the kit (a sparse style's held drums fell silent: kit.HeldKit)
                    recall.moves_on, recall.kit_guard = tuple(range(DRUMS)), HeldKit()
                    recall.rates = np.where(np.arange(n_lanes) == DRUMS, 0.0, recall.rates)
            run = LoopRun(first, first_z, steps, noise, threshold, gen, forced, revive, pull, light, plan, recall)
            probs, latents = self.loop.run(run)
            protect = np.zeros((steps + 1, n_lanes), dtype=bool) if forced is None else forced.mask.copy()
            if source == "primer" and part is None:
                protect[0] = primer_roll.any(axis=(1, 2))  # the primer's own lanes; brought-in ones are new
            if sections:
                self.sections.repeat(probs, latents, sections, plan, threshold, seed, protect)
            probs = finish_probs(probs, shift_out, lineup, forced, keep, self.cfg.chunk_steps)
            free_bars = self.post.free_bars(protect)  # bars of new music (protect is fixed from here)
            if sections:  # a chorus lifts, an intro leads in, an outro ends (engine/energy.py)
                energy.shape(probs, sections, free_bars, threshold, spb_all)
            grooved = self.post.run_groove(
                probs,
                groove,
                threshold,
                lineup,
                seed,
                protect,
                asked,
                fill_bars=fill_bars(sections),
                scale=self.steering.key_scale(key_used) if scale_lock else None,
                style=style,
            )
            free_form = sections and plan is None and part is None and source != "primer"  # a free take with a form
            if sections:  # each lane's notes a bar at its section's energy, as real songs' (energy.json)
                how = energy.decoding_of(g)
                voiced = chord_source == "asked" or free_form
                energy.density(probs, sections, free_bars, threshold, spb_all, self.post.energy, how, voiced)
                if voiced:  # a lifted section voices fuller, on the chart's chords or its band's own (fuller.py)
                    on = asked if chord_source == "asked" else fuller.band_chords(probs, threshold, spb_all)
                    fuller.lift(probs, sections, free_bars, threshold, spb_all, self.post.energy, on, how)
            fills = kept_fills.keep(probs, sections, spb_all) if recall is not None and recall.free else {}
            # a free take's drum return plays its last beat again but for a fill into a section (under chords the
            # drums already came back exactly more often than real songs': left as they were)
            lead_ins = fill_bars(sections) if recall is not None and recall.free else None
            if recall is not None and recall.made:  # a return plays its source's finished notes again
                replay(probs, recall.made, free_bars, self.cfg.bars, spb_all, lead_ins)
                kept_fills.put_back(probs[DRUMS], fills, spb_all)
            if part is not None:  # one of piano and guitar comps, the other lays out over the musician's (roles.py)
                lanes_given = [LANES.index(name) for name in keep_lanes]
                if sections:  # the repeats kept (form_roles.py)
                    feats = plan.features.cpu().numpy() if plan is not None else None
                    form_roles.follow(
                        probs, lanes_given, g, sections, free_bars, threshold, self.cfg.bars, spb_all, seed, feats
                    )
                else:
                    roles.follow(
                        probs,
                        lanes_given,
                        g.role_rest,
                        g.role_absent,
                        free_bars,
                        threshold,
                        self.cfg.bars,
                        spb_all,
                        seed,
                    )
            elif plan is not None and sections and g.role_rest is not None:  # the same, the repeats kept
                alone = chord_source == "asked" and source != "primer" and call.lineup is None
                feats = plan.features.cpu().numpy()
                form_roles.play(probs, g, sections, free_bars, threshold, self.cfg.bars, spb_all, seed, feats, alone)
            elif free_form and g.role_rest is not None:  # a free take with a form: the same roles, no chart's chords
                alone = call.lineup is None  # a piano may sit the take out, as under a chart alone
                form_roles.play(probs, g, sections, free_bars, threshold, self.cfg.bars, spb_all, seed, None, alone)
            elif plan is not None and g.role_rest is not None:
                feats = plan.features.cpu().numpy()  # one of piano and guitar comps, the other lays out (roles.py)
                if chord_source == "asked" and source != "primer" and call.lineup is None:  # a chart alone
                    roles.sit_out(
                        probs, g.role_absent, free_bars, threshold, self.cfg.bars, spb_all, seed, g.solo_rest, feats
                    )
                kin = roles.returns_of(recall.made) if recall is not None else None  # laid out together
                roles.balance(
                    probs, g.role_rest, free_bars, threshold, self.cfg.bars, spb_all, seed, feats, returns=kin
                )
            if sections:  # a lighter section never plays more than a fuller one, after the roles (lighter.py)
                lighter.settle(probs, sections, free_bars, threshold, spb_all, self.post.energy, energy.decoding_of(g))
            if sections:  # an outro ends on a final hit, after the groove's restrikes and colours
                energy.ending(probs, sections, free_bars, threshold, spb_all)
            primed = source == "primer" and part is None  # a continuation: its primer leaves more half-heard snares
            grooved += self.post.run_ghosts(probs, groove, free_bars, threshold, primed)  # last on the probabilities
            songs = []
            for b in range(variations):
                chunks = [[ChunkInfo(source, seed, None, self.pack_name)] * n_lanes] + [
                    [ChunkInfo("generated", seed, noise, self.pack_name)] * n_lanes for _ in range(steps)
                ]
                for lane in brought_in:
                    chunks[0][lane] = ChunkInfo("generated", seed, noise, self.pack_name)
                if forced is not None:
                    for c, row in enumerate(forced.mask):
                        for lane in np.flatnonzero(row):
                            chunks[c][lane] = keep.chunks[c][lane]  # the mask only covers chunks `keep` has
                settings = TakeRecord(
                    pack=self.pack_name,
                    seed=seed,
                    noise=noise,
                    threshold=threshold,
                    steps=steps,
                    variation=b,
                    variations=variations,
                    revive=revive,
                    pull=pull,
                    lineup=",".join(LANES[i] for i in lineup),
                    start=source,
                    key=key_used,
                    transpose=shift_out,
                    scale_lock=bool(scale_lock),
                    **{name: _plain(getattr(g, name)) for name in LANE_SETTINGS},
                    harmony=float(self.fast.harmony),
                    start_bias=list(start_bias) if start_bias is not None else [0.0] * n_lanes,
                    device=self.device.type,
                    groove=groove,
                )
                if chord_source is not None:
                    settings = settings.replace(chords=chord_source)
                if part is not None:
                    settings = settings.replace(
                        follow=str(part.settings.get("source", "")), part_lanes=",".join(keep_lanes)
                    )
                if style is not None:
                    settings = settings.replace(style=style.name)
                song_tempo = tempo if tempo is not None else (primer_tempo or (style.tempo_median if style else 120.0))
                song = self.takes.song(probs[:, b], latents[:, :, b], threshold, song_tempo, chunks, settings, keep)
                if keep is not None and keep.performance is not None:  # the musician's notes as played, kept
                    song.performance = keep.performance.only([LANES.index(n) for n in keep_lanes])
                ran = grooved
                if chord_source is not None:
                    song.chords = song_texts(asked)
                    free = free_bars
                    rest, roots = chord_source == "asked", chord_source == "part"
                    ran += self.post.run_chart(song, asked, free, rest=rest, bass_roots=roots)
                if recall is not None and recall.made:  # returns play their source's checked notes (recall.py)
                    chains = CHAINED if chord_source != "part" else (BASS,)  # a chain of returns stays one, an
                    # exact return's lead-in its source's where it leads to the same chord (recall_chart.CHAINED)
                    whole = CHAINED if chord_source != "part" else ()
                    settle(song, recall.made, b, asked, free_bars, self.cfg.bars, lead_ins, whole)
                    pedal = pedal_share(g.recall_moves) if chord_source != "part" else 0.0  # a bass pedal held as
                    # real ones under changed chords (a followed part's chords ask the bass for their roots)
                    settle_changed(
                        song, recall.made, b, asked, free_bars, self.cfg.bars, pedal, seed + b, chains, whole
                    )
                    kept_fills.put_back(song.probs[DRUMS], fills, spb_all, b)
                if recall is not None and recall.free and recall.moves_on and chord_source is None:  # the bass
                    # under its band's chords, where the lanes moved on free of the pull
                    free_bass.land_roots(song, free_bars, g.free_bass_root, seed + b)
                bass_range.keep_in_range(song, free_bars, self.cfg.bars, g.bass_lowest)  # none under a bass's E1
                song.sections = list(sections)
                if style is not None and style.swing_percent > 50:  # the style's feel: its swung 8ths
                    song = song.with_feel(swing=style.swing_percent, swing_grid="8th")
                self.post.stamp(song, ran)
                songs.append(song)
            return songs[0] if variations == 1 else songs


def free_recall(g, section: np.ndarray, seed: int, n_lanes: int) -> Recall:
    """Grooves that come back in a take without chords (a free take: no chart, no primer): each lane returns to an
    earlier chunk at the card's `recall_free` share (learned from training songs with no chords read), note for
    note at `recall_free_exact` (drawn less by what comes back by chance, `recall_free_chance`), and every pitched
    lane that does not return moves on, keeping only `recall_free_pull` of the pull (held by all of it, a free
    take's pitched lanes came back 2-3x as often as real songs'; by none, the bass left the chords above it: on
    their root on beat 1 in 52 % of bars against 66 % in training songs); the drums move on too, but only where
    they keep their kit bars (engine/kit.py), and the bass lands on the upper lanes' roots at the card's
    `free_bass_root` (engine/free_bass.py, after the take is made)."""
    exact = np.asarray(g.recall_free_exact, dtype=float) if g.recall_free_exact is not None else None
    rates = np.asarray(g.recall_free, dtype=float) * np.ones(n_lanes)
    songs = rates.copy()
    if g.recall_free_chance is not None:  # what comes back by chance counts toward the songs' share
        chance = np.clip(np.asarray(g.recall_free_chance, dtype=float) * np.ones(n_lanes), 0.0, 0.99)
        rates = np.clip((rates - chance) / (1.0 - chance), 0.0, 1.0)
    if g.recall_free_chance_exact is not None and exact is not None:  # and what comes back note for note by chance
        # counts toward the songs' exact share: exact returns drawn at the gap left (the drums, free, came back
        # near at the songs' share by chance but exactly at half of it), the near ones make up the rest
        chance = np.clip(np.asarray(g.recall_free_chance_exact, dtype=float) * np.ones(n_lanes), 0.0, 0.99)
        exact_rate = np.clip((songs * exact - chance) / (1.0 - chance), 0.0, 1.0)
        rates = np.maximum(rates, exact_rate)
        exact = np.where(rates > 0, exact_rate / np.maximum(rates, 1e-9), exact)
    kept = np.asarray(g.recall_free_pull, dtype=float) if g.recall_free_pull is not None else None
    guard = DrumMoves.from_card(g, seed) or True  # the drums vary or renew a groove at the songs' shares (kit.py)
    # the drums move on too, but only where they keep their kit bars (freed entirely, their bars with a kick and a
    # backbeat fell from 84.5 to 72.4 %, real songs 90.1: engine/kit.py, benchmarks/RESULTS.md)
    last = np.asarray(g.recall_free_last, dtype=float) if g.recall_free_last is not None else None  # a groove held
    return Recall(
        rates,
        section,
        seed,
        exact=exact,
        moves_on=tuple(range(n_lanes)),
        free=True,
        kept_pull=kept,
        kit_guard=guard,
        last=last,
    )


def _recall_shares(g) -> tuple:
    """The card's shares of returns (recall, recall_moved, recall_apart, recall_exact, recall_moves,
    recall_exact_changed), None where unset."""
    return g.recall, g.recall_moved, g.recall_apart, g.recall_exact, g.recall_moves, g.recall_exact_changed


def _chunk_sections(sections, chunks: int, bars: int) -> np.ndarray:
    """(chunks,) the index of the section each chunk's first bar is in (-1 outside every section)."""
    out = np.full(chunks, -1)
    for i, sec in enumerate(sections):
        for c in range(chunks):
            if sec.start <= c * bars + 1 <= sec.end:
                out[c] = i
    return out


def _plain(value):
    """A per-lane card value as a take records it: a list where the card has five values."""
    return list(value) if isinstance(value, tuple) else value
