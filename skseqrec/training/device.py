"""Device choice and mixed precision."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import sys
import warnings

import torch

from ..exceptions import DeviceWarning, user_stacklevel

__all__ = ["autocast", "loadable_device", "release_host_memory", "resolve_device"]


def resolve_device(device="auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to torch.

    Raises
    ------
    ValueError
        If the device string is invalid or CUDA is asked for but unavailable.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu' or 'cuda'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was asked for but CUDA is not available; use device='auto'."
        )
    return resolved


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast on CUDA; a no-op context elsewhere."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def loadable_device(device: str, owner: str) -> torch.device:
    """The device a loaded model goes to: the one it was fitted on, or the CPU (warned)
    when that is a GPU this machine lacks."""
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"This {owner} was fitted on {device}, which is not available here; it was moved "
            "to the CPU.",
            DeviceWarning,
            stacklevel=user_stacklevel(),
        )
        return torch.device("cpu")
    return resolved


@functools.cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to call
        return None


def release_host_memory() -> bool:
    """Give the heap's free pages back to the system (glibc's ``malloc_trim(0)``).

    Training steps allocate activations of a different size at every step (batches are
    cut to their longest history); glibc then serves them from a heap that fragments, and
    the resident memory of a CPU epoch grew by about 1.5 MiB a step (3.3 GiB after 6,245
    steps at 10 million events) without it. The training loop calls this every
    ``Trainer.RELEASE_EVERY`` steps on CPU. A no-op returning False where there is no
    glibc.

    Examples
    --------
    >>> from skseqrec.training import release_host_memory
    >>> isinstance(release_host_memory(), bool)
    True
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
