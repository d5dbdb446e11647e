"""Does device selection honour COURSE_DEVICE, and does set_seed make torch reproducible?"""

import random

import numpy as np
import pytest
import torch

from course_utils.devices import get_device, set_seed


def test_default_device_matches_cuda_availability(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_forced_cpu(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "CPU")
    assert get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU, so forcing cuda succeeds")
def test_forced_cuda_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="COURSE_DEVICE=cuda"):
        get_device()


def test_unknown_device_name_is_rejected(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="COURSE_DEVICE must be one of"):
        get_device()


def test_set_seed_repeats_every_generator():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)

    set_seed(123)
    a = draw()
    set_seed(123)
    b = draw()
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    set_seed(124)
    assert not torch.equal(draw()[2], a[2])


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "7", True])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed must be"):
        set_seed(bad)


def test_set_seed_turns_on_deterministic_algorithms_without_importing_inductor():
    """torch.use_deterministic_algorithms imports torch._inductor.config (~2.5 s a kernel); set_seed sets the same
    flag without it, and sets inductor's flag too where something has loaded inductor already."""
    import subprocess
    import sys

    code = ("import sys, torch; from course_utils.devices import set_seed; set_seed(0); "
            "print(torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(), "
            "'torch._inductor.config' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "False"], out
    code = ("import torch, torch._inductor.config as c; from course_utils.devices import set_seed; c.deterministic = False; "
            "set_seed(0); print(c.deterministic)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"
