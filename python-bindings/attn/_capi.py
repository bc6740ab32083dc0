"""ctypes bindings of attn's C API (include/attn/CAPI/Attn.h).

The library is found, in order, at $ATTN_C_LIBRARY, in the package's lib/
folder (installed or bundled), or in the build tree next to the sources
(build/lib). Libraries found beside it in lib/ (a bundle's libLLVM, libMLIR,
libz3) are loaded first, so the bundle runs where no LLVM is installed.
"""

import ctypes
import hashlib
import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


class AttnTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("device", ctypes.c_int32),
    ]


def _candidates():
    env = os.environ.get("ATTN_C_LIBRARY")
    if env:
        yield env
    yield os.path.join(_HERE, "lib", "libattn_c.so")
    yield os.path.join(_HERE, "..", "..", "build", "lib", "libattn_c.so")


def _preload_bundled(folder):
    # Dependencies first: z3 (for LLVM), LLVM, then MLIR.
    order = ["libz3", "libLLVM", "libMLIR"]
    names = sorted(os.listdir(folder))
    for prefix in order:
        for name in names:
            if name.startswith(prefix) and ".so" in name:
                ctypes.CDLL(os.path.join(folder, name), mode=ctypes.RTLD_GLOBAL)


def _load():
    for path in _candidates():
        if os.path.exists(path):
            path = os.path.abspath(path)
            _preload_bundled(os.path.dirname(path))
            return path, ctypes.CDLL(path)
    raise ImportError(
        "attn: libattn_c.so not found; build attn with CMake (it copies the "
        "library into python-bindings/attn/lib) or set ATTN_C_LIBRARY")


LIBRARY_PATH, _lib = _load()

_char_pp = ctypes.POINTER(ctypes.c_char_p)
_lib.attnVersion.restype = ctypes.c_char_p
_lib.attnFreeString.argtypes = [ctypes.c_void_p]
_lib.attnVerify.restype = ctypes.c_void_p
_lib.attnVerify.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
_lib.attnCompile.restype = ctypes.c_void_p
_lib.attnCompile.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                             ctypes.c_char_p, ctypes.c_char_p,
                             ctypes.POINTER(ctypes.c_void_p)]
_lib.attnKernelDestroy.argtypes = [ctypes.c_void_p]
_lib.attnKernelDescribe.restype = ctypes.c_void_p
_lib.attnKernelDescribe.argtypes = [ctypes.c_void_p]
_lib.attnKernelImage.restype = ctypes.c_void_p
_lib.attnKernelImage.argtypes = [ctypes.c_void_p]
_lib.attnKernelResolveShapes.restype = ctypes.c_void_p
_lib.attnKernelResolveShapes.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                         ctypes.POINTER(ctypes.c_void_p)]
_lib.attnKernelWorkspaceFlags.restype = None
_lib.attnKernelWorkspaceFlags.argtypes = [
    ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
    ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64)]
_lib.attnKernelRun.restype = ctypes.c_int
_lib.attnKernelRun.argtypes = [ctypes.c_void_p, ctypes.POINTER(AttnTensor),
                               ctypes.c_int, ctypes.c_void_p,
                               ctypes.POINTER(ctypes.c_void_p)]


def _take_string(pointer):
    """Copies and frees a string the C API allocated."""
    if not pointer:
        return None
    text = ctypes.string_at(pointer).decode()
    _lib.attnFreeString(pointer)
    return text


def version():
    return _lib.attnVersion().decode()


def _library_digest():
    digest = hashlib.sha256()
    with open(LIBRARY_PATH, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


# The compiler's identity in cache keys: its version and the library's bytes,
# so a rebuilt compiler never reuses another build's kernels.
COMPILER_ID = f"{version()}+{_library_digest()}"


def verify(spec, name):
    return _take_string(_lib.attnVerify(spec.encode(), name.encode()))


class CompileError(Exception):
    pass


class Handle:
    """An owned AttnKernel*."""

    def __init__(self, spec, name, options, image=None):
        error = ctypes.c_void_p()
        pointer = _lib.attnCompile(spec.encode(), name.encode(),
                                   options.encode(),
                                   image.encode() if image else None,
                                   ctypes.byref(error))
        if not pointer:
            raise CompileError(_take_string(error.value) or "compile failed")
        self.pointer = pointer
        self.description = json.loads(
            _take_string(_lib.attnKernelDescribe(pointer)))

    def __del__(self):
        pointer = getattr(self, "pointer", None)
        if pointer and _lib is not None:
            _lib.attnKernelDestroy(pointer)

    def image(self):
        return _take_string(_lib.attnKernelImage(self.pointer))

    def resolve_shapes(self, sizes):
        error = ctypes.c_void_p()
        text = _lib.attnKernelResolveShapes(
            self.pointer, json.dumps(sizes).encode(), ctypes.byref(error))
        if not text:
            return None, _take_string(error.value)
        return json.loads(_take_string(text)), None

    def workspace_flags(self, batch, num_queries):
        """The words [first, end) of each (sequence, head) workspace slice
        that must be zero before a run (a chunk-parallel kernel's flags)."""
        first, end = ctypes.c_int64(), ctypes.c_int64()
        _lib.attnKernelWorkspaceFlags(self.pointer, batch, num_queries,
                                      ctypes.byref(first), ctypes.byref(end))
        return first.value, end.value

    def run(self, tensors, stream):
        array = (AttnTensor * len(tensors))(*tensors)
        error = ctypes.c_void_p()
        code = _lib.attnKernelRun(self.pointer, array, len(tensors),
                                  ctypes.c_void_p(stream or 0),
                                  ctypes.byref(error))
        if code != 0:
            return _take_string(error.value) or "the kernel failed"
        return None
