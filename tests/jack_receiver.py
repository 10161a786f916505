"""A second JACK client in its own process: connects to a MIDI source and prints what arrives as hex.

    python tests/jack_receiver.py SOURCE_PORT_NAME
    python tests/jack_receiver.py --virtual NAME    (a port of its own that others send to: a DAW's input)

Prints "ready" once connected, then one line per message. It runs until killed: closing an rtmidi
JACK input while its callback waits for the GIL can deadlock, so the test kills this process instead.
"""

from __future__ import annotations

import sys
import time

import mido

JACK_API = "mido.backends.rtmidi/UNIX_JACK"

if __name__ == "__main__":
    backend = mido.Backend(JACK_API, load=True)
    if sys.argv[1] == "--virtual":
        port = backend.open_input(sys.argv[2], virtual=True, client_name=sys.argv[2])
    else:
        port = backend.open_input(sys.argv[1])
    print("ready", flush=True)
    while True:
        for msg in port.iter_pending():
            print(msg.hex(), flush=True)
        time.sleep(0.001)
