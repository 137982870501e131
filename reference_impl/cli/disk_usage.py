"""`system df [-v] [--format]`: the docker CLI's table, computed as it computes it from the
engine's /system/df document (engine/disk_usage.py)."""
from __future__ import annotations

import sys

from reference_impl import humanize
from reference_impl.cli import output

COLUMNS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
           "Reclaimable": "RECLAIMABLE"}


def rows(doc: dict) -> list[dict]:
    images, containers, volumes = doc["Images"], doc["Containers"], doc["Volumes"]
    total = doc["LayersSize"]
    used = sum(i["Size"] - i["SharedSize"] for i in images if i["Containers"] > 0)
    container_sizes = [c.get("SizeRw", 0) for c in containers]
    idle_containers = sum(c.get("SizeRw", 0) for c in containers if c["State"] != "running")
    volume_sizes = [v["UsageData"]["Size"] for v in volumes]
    idle_volumes = sum(v["UsageData"]["Size"] for v in volumes if v["UsageData"]["RefCount"] == 0)
    return [
        _row("Images", len(images), sum(1 for i in images if i["Containers"] > 0), total, total - used),
        _row("Containers", len(containers), sum(1 for c in containers if c["State"] == "running"),
             sum(container_sizes), idle_containers),
        _row("Local Volumes", len(volumes), sum(1 for v in volumes if v["UsageData"]["RefCount"] > 0),
             sum(volume_sizes), idle_volumes),
        _row("Build Cache", 0, 0, 0, 0, percent=False),
    ]


def _row(kind: str, total: int, active: int, size: int, reclaimable: int, percent: bool = True) -> dict:
    text = humanize.size(reclaimable, 4)
    if percent and size:
        text += f" ({reclaimable * 100 // size}%)"
    return {"Type": kind, "TotalCount": str(total), "Active": str(active), "Size": humanize.size(size, 4),
            "Reclaimable": text}


def print_summary(doc: dict, fmt: str | None) -> None:
    found = rows(doc)
    if fmt:
        output.formatted(fmt, found, COLUMNS)
        return
    output.table([COLUMNS[c] for c in COLUMNS], [[r[c] for c in COLUMNS] for r in found])


def print_verbose(doc: dict) -> None:
    """`-v`: a section per kind, as the docker CLI prints them."""
    sys.stdout.write("Images space usage:\n\n")
    image_rows = []
    for image in doc["Images"]:
        for tag in image["RepoTags"] or ["<none>:<none>"]:
            repository, _, name = tag.rpartition(":")
            image_rows.append([repository, name, image["Id"].removeprefix("sha256:")[:12],
                               _ago(image["Created"]), humanize.size(image["Size"]),
                               humanize.size(image["SharedSize"], 4),
                               humanize.size(image["Size"] - image["SharedSize"], 4), str(image["Containers"])])
    output.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                  "CONTAINERS"], image_rows)
    sys.stdout.write("\nContainers space usage:\n\n")
    output.table(["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"],
                 [[c["Id"][:12], c["Image"], _command(c["Command"]),
                   str(sum(1 for m in c["Mounts"] if m["Type"] == "volume")), humanize.size(c.get("SizeRw", 0)),
                   _ago(c["Created"]), c["Status"], ",".join(n.lstrip("/") for n in c["Names"])]
                  for c in doc["Containers"]])
    sys.stdout.write("\nLocal Volumes space usage:\n\n")
    output.table(["VOLUME NAME", "LINKS", "SIZE"],
                 [[v["Name"], str(v["UsageData"]["RefCount"]), humanize.size(v["UsageData"]["Size"], 4)]
                  for v in doc["Volumes"]])
    sys.stdout.write("\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n")


def _ago(unix_time: int) -> str:
    import time
    return humanize.duration(time.time() - unix_time) + " ago"


def _command(command: str) -> str:
    import json
    return json.dumps(command if len(command) <= 20 else command[:19] + "…", ensure_ascii=False)
