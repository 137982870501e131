"""THE engine: typed options in, typed records out, behind both faces.

Every behaviour that `strata` (cli/) and the Engine API (api/) show lives here once,
modelled on moby's router backends (daemon/server/router/*/backend.go):

    images.py      ImageService: list (every Docker filter), inspect, history, tag,
                   remove, prune, import, save, load, commit
    containers.py  ContainerService: create (pull on a missing image), start, stop,
                   kill, wait, remove, list (every Docker filter), inspect, logs, top,
                   diff, exec, prune, port
    system.py      SystemService: info, version, df, check
    filters.py     the `filters` argument: keys checked against what a listing knows
    records.py     the dataclasses the services take and give

Errors are semantic (reference_impl.errors: NotFound, Conflict, InvalidArgument …);
the faces turn them into words and exit codes (cli/) or statuses and JSON (api/).
Nothing here imports cli/ or api/.
"""
