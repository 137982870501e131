"""Helpers of the checks that run containers: a detached run, and polling for a state."""
import re
import time


def run_detached(cli, image, name: str, *command: str, options=()) -> str:
    """`run -d --name NAME OPTIONS IMAGE COMMAND` (image: an Image or a reference); returns
    the full container id."""
    ref = getattr(image, "ref", image)
    cid = cli.ok("run", "-d", "--name", name, *options, ref, *command).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
    return cid


def poll(check, seconds: float = 15, every: float = 0.2):
    """check()'s first true value within `seconds`; the last value otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)
