"""Device choice and mixed precision."""

from __future__ import annotations

import contextlib
import warnings

import torch

from ..exceptions import DeviceWarning, user_stacklevel

__all__ = ["autocast", "loadable_device", "resolve_device"]


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
