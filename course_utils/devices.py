"""Device selection and seeding (week 01)."""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

_VALID_DEVICES = ("cpu", "cuda")


def get_device() -> torch.device:
    """Return cuda if available else cpu; ``COURSE_DEVICE=cpu|cuda`` forces one (week 01)."""
    forced = os.environ.get("COURSE_DEVICE", "").strip().lower()
    if not forced:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if forced not in _VALID_DEVICES:
        raise ValueError(
            f"COURSE_DEVICE must be one of {_VALID_DEVICES} (or unset), got {forced!r}"
        )
    if forced == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "COURSE_DEVICE=cuda was requested but torch finds no CUDA GPU "
            f"(torch {torch.__version__}, built with CUDA: {torch.version.cuda}). "
            "Unset COURSE_DEVICE or install a CUDA build of torch."
        )
    return torch.device(forced)


def _deterministic_algorithms() -> None:
    """What ``torch.use_deterministic_algorithms(True, warn_only=True)`` does, without its import of
    ``torch._inductor.config`` (about 2.5 s, for a kernel that never builds a torch.optim optimiser, which
    imports the same machinery). That module holds the same flag for ``torch.compile``, which the course never
    uses: it is set too if something has loaded it already."""
    torch._C._set_deterministic_algorithms(True, warn_only=True)
    inductor = sys.modules.get("torch._inductor.config")
    if inductor is not None:
        inductor.deterministic = True


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) and prefer deterministic kernels (week 01)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    # cuBLAS needs this workspace setting for deterministic matrix products on GPU.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    _deterministic_algorithms()
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
