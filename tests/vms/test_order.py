"""Where the VM's checks go in the run: spread over it, not left for its end, where they
ran alone (pytest groups a session-scoped parameter's items, vagrant:* last)."""
from vms.pytest_plugin import VM_SPAN, spread


def test_the_vms_checks_are_spread_over_the_first_part_of_the_run():
    local = [f"l{i}" for i in range(100)]
    on_vm = [f"v{i}" for i in range(10)]
    ordered = spread(local, on_vm)
    assert sorted(ordered) == sorted(local + on_vm)
    assert [x for x in ordered if x.startswith("l")] == local  # each kind keeps its order
    assert [x for x in ordered if x.startswith("v")] == on_vm
    places = [ordered.index(v) for v in on_vm]
    gaps = [b - a for a, b in zip(places, places[1:])]
    assert max(gaps) - min(gaps) <= 1, gaps  # evenly
    assert places[-1] <= len(ordered) * VM_SPAN, places  # the last one well before the end


def test_nothing_to_spread():
    assert spread(["a", "b"], []) == ["a", "b"]
    assert spread([], ["v"]) == ["v"]
    assert spread(["a"], ["v1", "v2", "v3"]) == ["v1", "a", "v2", "v3"]
