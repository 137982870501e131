"""The image index (issue 16): listing the images reads a snapshot and a journal, and
always agrees with the images' own files — across adds, meta changes, removals,
compactions, other processes' writes, and a store made before the index existed."""
import json
import shutil

from reference_impl.store import Store


def _config(i: int) -> dict:
    return {"architecture": "amd64", "os": "linux", "config": {"Labels": {"i": str(i)}},
            "rootfs": {"type": "layers", "diff_ids": []}, "history": []}


def _view(images) -> dict:
    return {image.id: (image.raw, json.dumps(image.meta, sort_keys=True)) for image in images}


def _agrees(store: Store) -> None:
    __tracebackhide__ = True
    assert _view(store.images.all()) == _view(store.images.read_all())
    fresh = Store(store.root)  # another process: nothing remembered
    assert _view(fresh.images.all()) == _view(fresh.images.read_all())


def test_index_agrees_with_the_files_through_adds_changes_removals_and_compactions(tmp_path):
    writer, reader = Store(tmp_path), Store(tmp_path)
    ids = []
    for i in range(3 * writer.images.index.COMPACT_AFTER + 5):
        with writer.lock():
            ids.append(writer.images.put_image(_config(i)))
        if i % 50 == 0:
            _agrees(reader)
    _agrees(writer)
    with writer.lock():
        for image_id in ids[::3]:
            writer.images.delete_image(image_id)
        writer.images.set_meta(ids[1], last_tag_time="2026-11-29T00:00:00Z")
    _agrees(reader)
    assert len(reader.images.all()) == len(ids) - len(ids[::3])
    assert next(i for i in reader.images.all() if i.id == ids[1]).meta["last_tag_time"] == "2026-11-29T00:00:00Z"


def test_a_store_made_before_the_index_is_listed_whole_then_indexed_by_its_first_writer(tmp_path):
    store = Store(tmp_path)
    with store.lock():
        ids = [store.images.put_image(_config(i)) for i in range(10)]
    shutil.rmtree(tmp_path / "image-index")
    _agrees(Store(tmp_path))
    with store.lock():
        ids.append(store.images.put_image(_config(99)))
    assert (tmp_path / "image-index" / "snapshot.pickle").exists()
    _agrees(Store(tmp_path))
    assert {i.id for i in Store(tmp_path).images.all()} == set(ids)


def test_listing_and_a_cache_lookup_do_not_read_every_image(tmp_path, monkeypatch):
    """With 2 000 images, what `images` and a build step's cache lookup read does not grow
    with the store: at most the journal's images, and the tags file once (bench/store_scale.py
    times it: within 1.5x of the empty store)."""
    from reference_impl.builder import cache
    from reference_impl.store import images as image_store

    store = Store(tmp_path)
    with store.lock():
        parent = store.images.put_image(_config(-1))
        for i in range(2000):
            store.images.put_image(_config(i), parent=parent)
    reads = {"images": 0, "tags": 0}
    real_get, real_read_json = image_store.ImageStore.get, image_store.read_json

    def counting_get(self, image_id):
        reads["images"] += 1
        return real_get(self, image_id)

    def counting_read_json(path, default=None):
        reads["tags"] += path.name == "repositories.json"
        return real_read_json(path, default)

    monkeypatch.setattr(image_store.ImageStore, "get", counting_get)
    monkeypatch.setattr(image_store, "read_json", counting_read_json)
    fresh = Store(tmp_path)
    listed = fresh.images.all()
    for image in listed:
        fresh.images.refs_of(image.id)
        fresh.images.digests_of(image.id)
    assert cache.lookup(fresh, parent, {"Cmd": ["/bin/sh", "-c", "#(nop) ", "LABEL x=y"]}) is None
    assert len(listed) == 2001
    assert reads["images"] <= fresh.images.index.COMPACT_AFTER, reads
    assert reads["tags"] <= 1, reads


def test_a_writer_killed_halfway_leaves_its_image_named_in_the_journal(tmp_path, monkeypatch):
    """Killed after an image's config is written but before its change is recorded: the
    journal already names it, so readers (and a prune, which must never take its layers)
    see it from its own files."""
    store = Store(tmp_path)
    with store.lock():
        store.images.put_image(_config(0))
        store.images.put_image(_config(1))  # the index has a snapshot now

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # SIGKILL's stand-in: nothing after this line runs

    monkeypatch.setattr(store.images, "_write", killed)
    with store.lock():
        try:
            store.images.put_image(_config(2))
        except KeyboardInterrupt:
            pass
    _agrees(Store(tmp_path))
    assert len(Store(tmp_path).images.all()) == 3
