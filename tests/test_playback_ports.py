"""Output listing: plain words when no MIDI system answers, clear errors for outputs that cannot open."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from musicvae_app.playback.ports import (
    BUILT_IN,
    NO_MIDI,
    SYNTH_ONLY,
    Output,
    OutputList,
    PortError,
    list_outputs,
    open_output,
)

LIST_WITHOUT_JACK = """
import json
from musicvae_app.playback.ports import list_outputs
found = list_outputs(include_synth=True)
print(json.dumps({"message": found.message, "labels": [o.label for o in found.outputs],
                  "synth": found.outputs[-1].available}))
"""


@pytest.mark.skipif(os.path.exists("/dev/snd/seq"), reason="this machine has an ALSA sequencer")
def test_without_any_midi_system_the_list_says_so_and_still_offers_the_synth():
    env = dict(os.environ, JACK_DEFAULT_SERVER="musicvae-test-no-such-server", JACK_NO_START_SERVER="1")
    done = subprocess.run([sys.executable, "-c", LIST_WITHOUT_JACK], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["message"].startswith(SYNTH_ONLY if found["synth"] else NO_MIDI)
    assert "JACK" in found["message"]
    assert found["labels"] == [BUILT_IN]


def test_the_built_in_synth_is_always_listed_with_or_without_a_reason():
    synth = list_outputs().find(BUILT_IN)
    assert synth is not None and synth.kind == "synth"
    assert synth.available or synth.reason


def test_an_unavailable_output_refuses_to_open_with_its_reason():
    with pytest.raises(PortError, match="Built-in synth.*no soundfont here"):
        open_output(Output(BUILT_IN, "synth", reason="no soundfont here"))


def test_a_vanished_port_names_itself_and_says_what_to_do():
    gone = Output("Gone Synth (JACK)", "port", "UNIX_JACK", "gone:in")
    with pytest.raises(PortError, match="'Gone Synth \\(JACK\\)'.*Refresh"):
        open_output(gone)


def test_find_returns_the_remembered_choice_only_while_offered():
    listed = OutputList([Output("A (JACK)", "port", "UNIX_JACK", "a")])
    assert listed.find("A (JACK)").port == "a"
    assert listed.find("B (JACK)") is None
    assert listed.message is None
    assert OutputList().message == NO_MIDI
    synth_only = OutputList([Output(BUILT_IN, "synth")], ["JACK: JACK server not running?"]).message
    assert synth_only.startswith(SYNTH_ONLY) and NO_MIDI not in synth_only  # never "no MIDI" beside a working synth
