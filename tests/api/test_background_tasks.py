"""A task the service starts and nobody awaits must live until it ends.

asyncio's loop holds tasks only weakly: a task waiting on a future that nothing else holds
is collected, and its `finally` runs early. The attached start's watcher was collected that
way under load, and a `docker run --rm` through the API exited 0 instead of the container's
code (seen in conformance/test_networks.py on strata-api)."""
import asyncio
import gc

from reference_impl.api import common


def test_a_background_task_waiting_on_an_unreferenced_future_survives_collection():
    events = []

    async def watcher():
        try:
            await asyncio.get_running_loop().create_future()  # nothing else holds it
            events.append("woken")
        finally:
            events.append("finally")

    async def main():
        task = common.background(watcher())
        task_id = id(task)
        del task
        await asyncio.sleep(0)  # the watcher now waits
        for _ in range(3):
            gc.collect()
        assert events == [], "the waiting task was collected and its finally ran early"
        alive = [t for t in asyncio.all_tasks() if id(t) == task_id]
        assert alive and not alive[0].done()
        alive[0].cancel()

    asyncio.run(main())
    assert events == ["finally"]
