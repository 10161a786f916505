"""Dynamics from the music: a note's velocity by its lane, its 16th in the bar and the model's confidence.

The tables are real songs' mean velocities by lane and 16th position, measured on 1,197 training songs of
band-midi by training/styles.py (`velocity` in resources/models/default/styles.json): the drums' kick, backbeat
(snare, clap, side stick) and hats/ride each their own row, so a downbeat is accented, off-beat 16ths are softer
(a hi-hat's 16ths 75-79 against 93 on the beat) and the backbeat lands on 2 and 4 (102). The model's confidence
moves a note around its position's mean (CONFIDENCE x (confidence - the lane's median confidence in the take)),
so a louder section (engine/energy.py lifts its probabilities) plays louder; a snare hit the model is much less
sure of than usual off the 8ths is a ghost note
(GHOST x its position's mean), as real drummers play about 3 % of their snare hits. Plain Python: no numpy.
"""

from __future__ import annotations

from .. import lanes

POSITIONS = 16  # 16ths a bar
# mean velocity by lane (piano, guitar, bass, strings, drums) and 16th of the bar, real songs (training split)
LANE_VELOCITY = (
    (90.0, 84.3, 87.8, 87.7, 90.9, 84.0, 90.2, 87.2, 89.9, 85.9, 89.2, 86.7, 91.0, 85.7, 89.8, 85.6),
    (92.2, 88.3, 90.7, 88.7, 91.9, 88.6, 91.2, 88.3, 91.2, 89.0, 91.1, 87.3, 92.0, 90.3, 90.9, 87.3),
    (101.4, 97.1, 99.4, 98.7, 100.8, 95.5, 99.5, 97.7, 100.4, 97.0, 99.8, 97.4, 101.4, 97.6, 99.3, 96.2),
    (90.5, 90.9, 94.5, 90.8, 95.7, 90.0, 94.8, 91.6, 93.2, 90.1, 95.0, 92.1, 95.4, 90.5, 95.3, 91.3),
    (96.3, 75.0, 85.4, 79.5, 96.3, 75.6, 87.1, 79.8, 94.9, 77.6, 88.1, 79.2, 96.5, 78.8, 87.5, 79.0),
)
KICKS, BACKBEAT, HATS = (35, 36), (37, 38, 39, 40), (42, 44, 46, 51, 53, 59)
DRUM_VELOCITY = {  # the drums by kind of hit
    KICKS: (104.3, 93.0, 101.0, 100.4, 104.2, 99.3, 98.3, 96.0, 103.6, 94.2, 101.3, 95.6, 103.6, 99.2, 97.4, 90.3),
    BACKBEAT: (93.7, 82.9, 88.8, 75.9, 102.4, 79.8, 92.4, 80.3, 95.4, 84.1, 92.2, 81.2, 102.6, 85.1, 94.7, 86.2),
    HATS: (93.0, 78.5, 84.9, 79.1, 93.6, 75.1, 85.2, 77.2, 92.9, 77.7, 85.4, 78.5, 93.5, 76.3, 85.8, 77.6),
}
CONFIDENCE = 40.0  # velocity per unit of confidence around its position's mean: a sure note +20, an unsure -20
GHOST = 0.5  # a ghost note's share of its position's mean velocity
# The lane's usual confidence, the `center` a note's confidence is heard against: each lane's median over the
# shipped pack's takes (benchmarks/usual_confidence.py: 8 seeds x 32 bars, with and without a chart). Fixed, not
# the take's own median, so a later continuation never changes an earlier note's loudness, and a section the
# engine makes surer (a chorus's energy) plays louder.
USUAL_CONFIDENCE = (0.01, 0.34, 0.48, 0.0, 0.94)  # piano, guitar, bass, strings, drums
GHOST_BELOW = 0.4  # confidence this far under the lane's usual makes an off-8th snare hit a ghost note
SNARES = (38, 40)


def velocity(lane: int, pitch: int, step: int, steps_per_beat: int, confidence: float) -> int:
    """The velocity (1-127) of a note of `lane` starting at `step` (on a grid of steps_per_beat), given the model's
    confidence in it (0: at the threshold, 1: certain) measured against the lane's USUAL_CONFIDENCE (a note as sure as
    the lane's usual plays its position's real mean)."""
    confidence = min(max(float(confidence), 0.0), 1.0)
    center = USUAL_CONFIDENCE[lane]
    position = (int(step) * 4 // max(int(steps_per_beat), 1)) % POSITIONS
    on_16th = int(step) * 4 % max(int(steps_per_beat), 1) == 0
    table = LANE_VELOCITY[lane]
    if lane == lanes.DRUMS:
        table = next((row for kinds, row in DRUM_VELOCITY.items() if pitch in kinds), table)
    base = table[position] if on_16th else min(table)
    if lane == lanes.DRUMS and pitch in SNARES and position % 2 == 1 and confidence < center - GHOST_BELOW:
        return max(1, round(GHOST * base))
    return max(1, min(127, round(base + CONFIDENCE * (confidence - center))))
