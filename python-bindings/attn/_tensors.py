"""What attn needs to know of a caller's tensor, whatever library made it:
PyTorch tensors, objects with __cuda_array_interface__ (CuPy), NumPy arrays,
and anything PyTorch can import through DLPack."""

import ctypes
import operator
import os
import sys

from . import _capi

# AttnDType codes (include/attn/CAPI/Attn.h).
F32, F64, F16, BF16, I1, I8, I32, I64 = range(8)
_NAMES = {F32: "float32", F64: "float64", F16: "float16", BF16: "bfloat16",
          I1: "bool", I8: "int8", I32: "int32", I64: "int64"}
_BY_NAME = {v: k for k, v in _NAMES.items()}
_TYPESTR = {"<f4": F32, "<f8": F64, "<f2": F16, "|b1": I1, "|i1": I8,
            "<i4": I32, "<i8": I64}
_ITEMSIZE = {F32: 4, F64: 8, F16: 2, BF16: 2, I1: 1, I8: 1, I32: 4, I64: 8}

# Shapes and strides cross to C as int64 (ctypes wraps larger values
# silently), and sizes in bytes must fit as well.
INT64_MAX = (1 << 63) - 1
# CUDA kernels index with 32 bits (kMaxElementOffset of KernelLauncher.h):
# the last element of a tensor is at most at offset 2^31 - 1.
CUDA_MAX_ELEMENTS = 1 << 31


def dtype_name(code):
    return _NAMES[code]


def itemsize(code):
    return _ITEMSIZE[code]


def host_memory():
    """The machine's physical memory in bytes, or None where unknown."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def check_shape(shape, dtype, name):
    """The element count of `shape`, after checking that its dims, its
    element count and its size in bytes fit in int64."""
    count = 1
    for size in shape:
        try:
            size = operator.index(size)
        except TypeError:
            size = -1
        if size < 0:
            raise ValueError(f"{name}: shape {tuple(shape)} has a dim that is "
                             "not a non-negative integer")
        count *= size
    nbytes = count * _ITEMSIZE[dtype]
    if max(list(shape) + [nbytes]) > INT64_MAX:
        raise ValueError(f"{name}: shape {tuple(shape)} of {_NAMES[dtype]} "
                         f"is {count} elements ({nbytes} bytes), more than "
                         "64-bit sizes can describe")
    return count


def format_bytes(nbytes):
    """`nbytes` for a message: 512 bytes, 3.5 GiB."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        nbytes /= 1024
        if nbytes < 1024 or unit == "EiB":
            return f"{nbytes:.3g} {unit}"


def refuse_grad(values, names):
    """Raises NotImplementedError when autograd would expect a gradient
    through attn: a PyTorch tensor among `values` requires grad while grad
    mode is on. attn has no backward pass yet, and a result that silently
    stops the gradient is worse than an error."""
    # Only tensors of an already imported torch can require grad.
    torch = sys.modules.get("torch")
    if torch is None or not torch.is_grad_enabled():
        return
    for value, name in zip(values, names):
        if isinstance(value, torch.Tensor) and value.requires_grad:
            raise NotImplementedError(
                f"{name} requires grad, but attn has no backward pass yet: "
                "the result would silently get no gradient. Call attn under "
                "torch.no_grad() (or torch.inference_mode()), or pass a "
                "detached tensor (x.detach())")


class TensorInfo:
    """A tensor's address, dtype, shape, strides (in elements) and device
    (-1 for host memory), whether it may be written, and the object it came
    from."""

    __slots__ = ("obj", "data", "dtype", "shape", "strides", "device", "kind",
                 "readonly")

    @property
    def numel(self):
        count = 1
        for size in self.shape:
            count *= size
        return count

    def is_contiguous(self):
        """Row-major without gaps, as the CPU backend takes tensors (the
        strides of dims of size 1 do not matter)."""
        return self.numel == 0 or all(
            size <= 1 or stride == expected for size, stride, expected in
            zip(self.shape, self.strides, _row_major(self.shape)))

    def to_c(self):
        rank = len(self.shape)
        # An empty tensor has no element to address: its strides are
        # arbitrary (NumPy gives zeros), so it crosses with the row-major
        # ones the runtime checks for.
        strides = _row_major(self.shape) if self.numel == 0 else self.strides
        shape = (ctypes.c_int64 * max(rank, 1))(*self.shape)
        strides = (ctypes.c_int64 * max(rank, 1))(*strides)
        tensor = _capi.AttnTensor(self.data or None, self.dtype, rank, shape,
                                  strides, max(self.device, 0))
        return tensor, (shape, strides)


def _torch():
    try:
        import torch
        return torch
    except ImportError:
        return None


def describe(obj, name):
    torch = _torch()
    info = TensorInfo()
    info.obj = obj
    if torch is not None and isinstance(obj, torch.Tensor):
        dtype = str(obj.dtype).replace("torch.", "")
        if dtype not in _BY_NAME:
            raise TypeError(f"{name}: dtype {obj.dtype} is not supported")
        info.kind = "torch"
        info.data = obj.data_ptr()
        info.dtype = _BY_NAME[dtype]
        info.shape = list(obj.shape)
        info.strides = list(obj.stride())
        info.device = obj.device.index if obj.is_cuda else -1
        if obj.is_cuda and info.device is None:
            info.device = torch.cuda.current_device()
        info.readonly = False
        return _checked(info, name)
    interface = getattr(obj, "__cuda_array_interface__", None)
    if interface is not None:
        typestr = interface["typestr"]
        if typestr not in _TYPESTR:
            raise TypeError(f"{name}: typestr {typestr} is not supported")
        info.kind = "cuda_array"
        info.data = interface["data"][0]
        info.dtype = _TYPESTR[typestr]
        info.shape = list(interface["shape"])
        itemsize = int(typestr[2:])
        strides = interface.get("strides")
        info.strides = ([s // itemsize for s in strides] if strides
                        else _contiguous(info.shape))
        device = getattr(getattr(obj, "device", None), "id", None)
        info.device = int(device) if device is not None else 0
        # The interface's data is (pointer, read-only flag).
        info.readonly = bool(interface["data"][1])
        return _checked(info, name)
    try:
        import numpy
    except ImportError:
        numpy = None
    if numpy is not None and isinstance(obj, numpy.ndarray):
        key = obj.dtype.str if obj.dtype.str[0] in "<|" else None
        if key not in _TYPESTR:
            raise TypeError(f"{name}: dtype {obj.dtype} is not supported")
        info.kind = "numpy"
        info.data = obj.ctypes.data
        info.dtype = _TYPESTR[key]
        info.shape = list(obj.shape)
        info.strides = [s // obj.itemsize for s in obj.strides]
        info.device = -1
        info.readonly = not obj.flags.writeable
        return _checked(info, name)
    if hasattr(obj, "__dlpack__") and torch is not None:
        return describe(torch.from_dlpack(obj), name)
    raise TypeError(f"{name}: expected a PyTorch tensor, a CUDA array "
                    f"(__cuda_array_interface__), a NumPy array or a DLPack "
                    f"capsule provider, got {type(obj).__name__}")


def _checked(info, name):
    check_shape(info.shape, info.dtype, name)
    if any(not -INT64_MAX <= s <= INT64_MAX for s in info.strides):
        raise ValueError(f"{name}: strides {tuple(info.strides)} do not fit "
                         "in 64 bits")
    return info


def _row_major(shape):
    """The strides of a row-major tensor as the runtime computes them (a
    zero dim makes the strides outside it zero)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return list(reversed(strides))


def _contiguous(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return list(reversed(strides))


def empty_like_kind(template, shape, dtype, zeroed=False):
    """An uninitialized (or, with `zeroed`, zero) tensor of `shape` and
    `dtype` (an AttnDType) made by the library `template` came from, on its
    device."""
    make = "zeros" if zeroed else "empty"
    if template.kind == "torch":
        import torch
        return getattr(torch, make)(shape, dtype=getattr(torch, _NAMES[dtype]),
                                    device=template.obj.device)
    if template.kind == "cuda_array":
        import cupy
        with cupy.cuda.Device(template.device):
            return getattr(cupy, make)(shape, dtype=_NAMES[dtype])
    import numpy
    return getattr(numpy, make)(shape, dtype=_NAMES[dtype])


def to_host_list(tensor):
    """The elements of a small tensor of any supported library as a Python
    list, after its device work is done."""
    if hasattr(tensor, "detach"):
        return tensor.detach().cpu().reshape(-1).tolist()
    if hasattr(tensor, "get"):
        return tensor.get().reshape(-1).tolist()
    return tensor.reshape(-1).tolist()


def current_stream(template):
    """The stream a launch for `template`'s library goes on."""
    if template.kind == "torch" and template.device >= 0:
        import torch
        return torch.cuda.current_stream(template.device).cuda_stream
    if template.kind == "cuda_array":
        import cupy
        return cupy.cuda.get_current_stream().ptr
    return 0
