"""What attn needs to know of a caller's tensor, whatever library made it:
PyTorch tensors, objects with __cuda_array_interface__ (CuPy), NumPy arrays,
and anything PyTorch can import through DLPack."""

import ctypes

from . import _capi

# AttnDType codes (include/attn/CAPI/Attn.h).
F32, F64, F16, BF16, I1, I8, I32, I64 = range(8)
_NAMES = {F32: "float32", F64: "float64", F16: "float16", BF16: "bfloat16",
          I1: "bool", I8: "int8", I32: "int32", I64: "int64"}
_BY_NAME = {v: k for k, v in _NAMES.items()}
_TYPESTR = {"<f4": F32, "<f8": F64, "<f2": F16, "|b1": I1, "|i1": I8,
            "<i4": I32, "<i8": I64}


def dtype_name(code):
    return _NAMES[code]


class TensorInfo:
    """A tensor's address, dtype, shape, strides (in elements) and device
    (-1 for host memory), and the object it came from."""

    __slots__ = ("obj", "data", "dtype", "shape", "strides", "device", "kind")

    def to_c(self):
        rank = len(self.shape)
        shape = (ctypes.c_int64 * max(rank, 1))(*self.shape)
        strides = (ctypes.c_int64 * max(rank, 1))(*self.strides)
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
        return info
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
        return info
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
        return info
    if hasattr(obj, "__dlpack__") and torch is not None:
        return describe(torch.from_dlpack(obj), name)
    raise TypeError(f"{name}: expected a PyTorch tensor, a CUDA array "
                    f"(__cuda_array_interface__), a NumPy array or a DLPack "
                    f"capsule provider, got {type(obj).__name__}")


def _contiguous(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return list(reversed(strides))


def empty_like_kind(template, shape, dtype):
    """An uninitialized tensor of `shape` and `dtype` (an AttnDType) made by
    the library `template` came from, on its device."""
    if template.kind == "torch":
        import torch
        return torch.empty(shape, dtype=getattr(torch, _NAMES[dtype]),
                           device=template.obj.device)
    if template.kind == "cuda_array":
        import cupy
        with cupy.cuda.Device(template.device):
            return cupy.empty(shape, dtype=_NAMES[dtype])
    import numpy
    return numpy.empty(shape, dtype=_NAMES[dtype])


def current_stream(template):
    """The stream a launch for `template`'s library goes on."""
    if template.kind == "torch" and template.device >= 0:
        import torch
        return torch.cuda.current_stream(template.device).cuda_stream
    if template.kind == "cuda_array":
        import cupy
        return cupy.cuda.get_current_stream().ptr
    return 0
