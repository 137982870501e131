"""`system df` on a shared store: what is removed while it counts is left out, not an error
(CI: `system df -v` failed with 'No such image' while a parallel check removed its image)."""
from reference_impl.engine import disk_usage
from reference_impl.engine.containers import ContainerService
from reference_impl.engine.images import ImageService
from reference_impl.engine.records.container_views import ContainerListOptions
from reference_impl.engine.records.images import ImageListOptions
from reference_impl.store import Store


def test_images_and_containers_removed_meanwhile_are_left_out(strata, monkeypatch):
    assert strata("run", "--name", "maker", "base", "sh", "-c", "echo x > /x").returncode == 0
    assert strata("commit", "maker", "gone:1").returncode == 0
    assert strata("create", "--name", "leaving", "gone:1", "true").returncode == 0
    store = Store(strata.root)
    images = ImageService(store).list(ImageListOptions(all=True))
    containers = ContainerService(store).list(ContainerListOptions(all=True))
    assert strata("rm", "leaving").returncode == 0
    assert strata("rmi", "gone:1").returncode == 0
    monkeypatch.setattr(ImageService, "list", lambda self, options: images)  # listed before the removals
    monkeypatch.setattr(ContainerService, "list", lambda self, options: containers)
    usage = disk_usage.document(store)
    assert len(usage["Images"]) == len(images) - 1
    assert [c["Names"] for c in usage["Containers"]] == [["/maker"]]
