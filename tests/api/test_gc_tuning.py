"""Each gunicorn worker tunes its garbage collector once the app is loaded."""

import gc
import runpy

from allmine import gc_tuning


def test_tuning_freezes_start_up_objects_and_raises_the_young_threshold():
    before = gc.get_threshold()
    try:
        gc_tuning.tune_after_start()
        assert gc.get_freeze_count() > 10_000  # modules, URL conf, views: out of every pass
        assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_gunicorn_calls_it_after_loading_the_app_in_each_worker(monkeypatch):
    calls = []
    monkeypatch.setattr(gc_tuning, "tune_after_start", lambda: calls.append("tuned"))
    config = runpy.run_path("allmine/gunicorn.conf.py")
    config["post_worker_init"](object())
    assert calls == ["tuned"]
