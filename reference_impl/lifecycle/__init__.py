"""A container's life beyond create/start/stop: who it runs as (users), when its shim runs
it again (restart), how it is probed (health), frozen (pause), which init runs as its PID 1
(init), and which of its log lines a reader wants (logtimes). The options that ask for
these are `LifecycleOptions` (settings)."""
