"""The Docker Engine API (version 1.41) over a unix socket: `strata system service`.

The subset the docker CLI 28 and the docker SDK for Python 7 use (captured in
../shared/notes/engine-api.md), served by aiohttp and backed by the same engine
and store as the `strata` CLI — one engine, two faces. The service keeps no copy
of the store in memory: every request reads the store afresh, so a container the
CLI starts is seen by the API and the other way round.

    server.py        the application: routes with and without /v1.41, errors as
                     {"message"}, Docker's response headers, the socket
    common.py        query booleans, filters, JSON streams, the store per request
    system.py        /_ping /version /info, and 404s for volumes, plugins
    images.py        images/json, inspect, history, tag, delete, save, load
    build.py         /build: the classic builder's JSON stream
    distribution.py  /auth, /images/create (pull), push, search
    containers.py    create, list, inspect, start, stop, kill, wait, remove, logs …
    hijack.py        Upgrade: tcp — the raw stream of attach and exec start
    execs.py         /containers/{id}/exec, /exec/{id}/start, /exec/{id}/json
    networks.py      /networks/…, and a create request's network fields
    workers.py       engine calls that fork long-lived processes run in a fresh
                     `python -m reference_impl.api.worker` (never forked from the
                     service's threads; no socket of the service leaks into a shim)
"""
