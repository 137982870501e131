"""conformance/locks.py: commands share the storage lock, imports and removals hold it alone."""
import threading
import time

from conformance.locks import storage_lock_at


def test_exclusive_waits_for_shared_holders_and_shared_waits_for_exclusive(tmp_path):
    lock = storage_lock_at(tmp_path / "storage.lock")
    events = []
    shared_in = threading.Event()

    def command():
        with lock.shared():
            shared_in.set()
            time.sleep(0.3)
            events.append("command done")

    worker = threading.Thread(target=command)
    worker.start()
    shared_in.wait(5)
    with lock.exclusive():  #: only once the command is done
        events.append("removal")
        blocked = threading.Thread(target=lambda: lock.shared().__enter__() or events.append("next command"))
        blocked.start()
        time.sleep(0.3)
        assert "next command" not in events  # a new command waits for the removal
    worker.join()
    blocked.join(5)
    assert events == ["command done", "removal", "next command"]


def test_a_thread_holding_it_exclusive_runs_its_own_commands(tmp_path):
    lock = storage_lock_at(tmp_path / "storage.lock")
    done = []

    def import_base():
        with lock.exclusive():
            with lock.shared():  # the import's own command: must not wait for itself
                with lock.exclusive():
                    done.append(True)

    thread = threading.Thread(target=import_base)
    thread.start()
    thread.join(5)
    assert done == [True] and not thread.is_alive()
