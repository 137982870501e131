"""Four processes at once on one store for 60 s — build, run, `rmi -f`, prune (issue 6).

Afterwards `strata system check` finds the store consistent and every image left
still runs. An operation may lose a race the way it would on Docker (the image it
wanted was removed: "No such image", a conflict); it may never crash or corrupt.
"""
import random
import threading
import time

SECONDS = 60
ACCEPTABLE = ("No such image", "No such container", "conflict", "Conflict", "is not running",
              "pull access denied", "Unable to find image")


def test_build_run_rmi_and_prune_at_once_leave_a_consistent_store(strata, rootfs, tmp_path):
    contexts = []
    for i in range(3):
        ctx = tmp_path / f"ctx{i}"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text(f"FROM base\nENV N={i}\nRUN echo {i} > /n\nCMD [\"cat\", \"/n\"]\n")
        contexts.append(ctx)
    deadline = time.monotonic() + SECONDS
    counts: dict[str, int] = {}
    unexpected: list[str] = []
    lock = threading.Lock()

    def images():
        return strata("images", "-a", "-q").stdout.split()

    def record(role: str, result) -> None:
        with lock:
            counts[role] = counts.get(role, 0) + 1
            if result.returncode != 0 and not any(w in result.stderr for w in ACCEPTABLE):
                unexpected.append(f"{role}: rc {result.returncode}: {result.stdout[-300:]}{result.stderr[-800:]}")
            if "Traceback" in result.stderr:
                unexpected.append(f"{role}: crashed: {result.stderr[-800:]}")

    def builder(rng):
        while time.monotonic() < deadline:
            i = rng.randrange(3)
            flags = ["--no-cache"] if rng.random() < 0.3 else []
            if strata("image", "inspect", "base").returncode != 0:  # pruned: bring it back
                record("import", strata("import", str(rootfs), "base:latest"))
            record("build", strata("build", *flags, "-t", f"app{i}:v1", str(contexts[i])))

    def runner(rng):
        while time.monotonic() < deadline:
            choices = images() or ["base"]
            record("run", strata("run", "--rm", rng.choice(choices), "true"))

    def remover(rng):
        while time.monotonic() < deadline:
            choices = [i for i in images()]
            if choices:
                record("rmi", strata("rmi", "-f", rng.choice(choices)))
            time.sleep(0.1)

    def pruner(rng):
        while time.monotonic() < deadline:
            verb = rng.choices([["image", "prune", "-f"], ["container", "prune", "-f"],
                                ["image", "prune", "-a", "-f"]], weights=[45, 45, 10])[0]
            record("prune", strata(*verb))
            time.sleep(0.5)

    threads = [threading.Thread(target=role, args=(random.Random(seed),))
               for seed, role in enumerate((builder, runner, remover, pruner))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not unexpected, "\n".join(unexpected[:10])
    assert all(counts.get(role, 0) > 3 for role in ("build", "run", "rmi", "prune")), counts
    check = strata("system", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    strata.remove_all_containers()
    for image in dict.fromkeys(images()):
        ran = strata("run", "--rm", image, "true")
        assert ran.returncode == 0, f"{image}: {ran.stderr}"
