"""json-file rotation as `logs` reads it: the kept files oldest first, and a reader that
follows (logs -f, the API's attach) loses nothing when the file it was reading is rotated
away between two reads."""
import json
from pathlib import Path

from reference_impl.engine.containers import ContainerService
from reference_impl.store import Store


def _lines(path: Path, numbers) -> None:
    with open(path, "a") as f:
        for n in numbers:
            f.write(json.dumps({"log": f"line-{n}\n", "stream": "stdout",
                                "time": "2026-11-29T00:00:00.000000000Z"}) + "\n")


def test_a_follower_reads_across_a_rotation(strata):
    created = strata("create", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
                     "base", "true")
    assert created.returncode == 0, created.stderr
    container = strata.inspect("rot")
    log = Path(container["LogPath"])
    _lines(Path(f"{log}.1"), range(0, 5))
    _lines(log, range(5, 10))
    service = ContainerService(Store(strata.root))
    records, position = service.logs(container["Id"], 0)
    assert [r.text for r in records] == [f"line-{n}\n" for n in range(10)]
    _lines(log, [10])                                 # written after the read, then rotated away
    Path(f"{log}.1").rename(f"{log}.2")
    log.rename(f"{log}.1")
    _lines(log, range(11, 13))
    records, position = service.logs(container["Id"], position)
    assert [r.text for r in records] == [f"line-{n}\n" for n in range(10, 13)]
    records, _ = service.logs(container["Id"], position)
    assert records == []
