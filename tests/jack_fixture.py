"""A JACK server for real-port tests and benchmarks: reuse a running one, else start `jackd -d dummy`.

Import the fixture into a test module (`from jack_fixture import jack_server`); tests using it skip
with the reason when jackd is not installed or will not start. A server we started is stopped after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import mido
import pytest

JACK_API = "mido.backends.rtmidi/UNIX_JACK"
# A long period leaves slack on a loaded machine: a non-realtime client that misses a cycle drops its events.
JACKD = ["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "1024"]


class JackUnavailable(Exception):
    """No JACK server could be found or started; the message says why."""


def jack_is_running() -> bool:
    os.environ["JACK_NO_START_SERVER"] = "1"  # a probe must not launch a default server behind our back
    try:
        mido.Backend(JACK_API, load=True).get_output_names()
    except Exception:  # rtmidi raises SystemError "JACK server not running?"
        return False
    return True


@contextmanager
def running_jackd(timeout: float = 15.0) -> Iterator[None]:
    """A JACK server for the block; raises JackUnavailable with the reason when there is none."""
    if jack_is_running():
        yield
        return
    if shutil.which("jackd") is None:
        raise JackUnavailable("jackd is not installed (apt install jackd2) so no real MIDI port can run here")
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(JACKD, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not jack_is_running():
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise JackUnavailable(f"`{' '.join(JACKD)}` did not start: {log.read()[-500:]}")
                time.sleep(0.1)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def jack_server() -> Iterator[None]:
    manager = running_jackd()
    try:
        manager.__enter__()
    except JackUnavailable as exc:
        pytest.skip(str(exc))
    yield
    manager.__exit__(None, None, None)
