"""The C allocator's heap slack (skgal._allocator): asked for once, as the environment says."""

import pytest

from skgal import _allocator


@pytest.fixture
def fresh_state(monkeypatch):
    # a process that has not asked yet, with a recording mallopt (a plain function takes
    # the argtypes and restype that ctypes' would)
    _allocator.keep_heap_slack.cache_clear()
    calls = []

    def mallopt(param, value):
        calls.append((param, value))
        return 1

    monkeypatch.setattr(_allocator, "_mallopt", lambda: mallopt)
    monkeypatch.delenv("MALLOC_TOP_PAD_", raising=False)
    monkeypatch.delenv("SKGAL_MALLOC_TOP_PAD", raising=False)
    yield calls
    _allocator.keep_heap_slack.cache_clear()


def test_the_default_slack_is_asked_for_once(fresh_state):
    assert _allocator.keep_heap_slack() == _allocator.DEFAULT_TOP_PAD
    assert _allocator.keep_heap_slack() == _allocator.DEFAULT_TOP_PAD
    assert fresh_state == [(_allocator.M_TOP_PAD, _allocator.DEFAULT_TOP_PAD)]


def test_the_environment_sets_or_declines_the_slack(fresh_state, monkeypatch):
    monkeypatch.setenv("SKGAL_MALLOC_TOP_PAD", "1048576")
    assert _allocator.keep_heap_slack() == 1048576
    assert fresh_state == [(_allocator.M_TOP_PAD, 1048576)]
    for env in ({"SKGAL_MALLOC_TOP_PAD": "0"}, {"MALLOC_TOP_PAD_": "4096"}):
        _allocator.keep_heap_slack.cache_clear()
        monkeypatch.delenv("SKGAL_MALLOC_TOP_PAD", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        fresh_state.clear()
        assert _allocator.keep_heap_slack() is None
        assert fresh_state == []  # the allocator left alone


@pytest.mark.parametrize("value", ["-1", "lots", str(2**31)])
def test_a_bad_slack_names_the_variable(fresh_state, monkeypatch, value):
    monkeypatch.setenv("SKGAL_MALLOC_TOP_PAD", value)
    with pytest.raises(ValueError, match="SKGAL_MALLOC_TOP_PAD"):
        _allocator.keep_heap_slack()


def test_a_refusal_or_another_libc_sets_nothing(fresh_state, monkeypatch):
    monkeypatch.setattr(_allocator, "_mallopt", lambda: lambda param, value: 0)
    assert _allocator.keep_heap_slack() is None
    _allocator.keep_heap_slack.cache_clear()
    monkeypatch.setattr(_allocator, "_mallopt", lambda: None)
    assert _allocator.keep_heap_slack() is None


def test_glibcs_mallopt_is_found_on_linux():
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    assert _allocator._mallopt() is not None


def test_another_c_library_is_left_alone(monkeypatch):
    def confstr(name):
        raise ValueError("unrecognized configuration name")

    monkeypatch.setattr(_allocator.os, "confstr", confstr)
    assert _allocator._mallopt() is None
    monkeypatch.setattr(_allocator.os, "confstr", lambda name: "musl")
    assert _allocator._mallopt() is None
