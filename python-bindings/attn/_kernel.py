"""Compiled kernels, their in-memory and on-disk caches, and calls on
tensors."""

import hashlib
import os
import threading

from . import _capi, _tensors


class AttnError(Exception):
    """An invalid spec or a failed compile. `spec` holds the MLIR text that
    was compiled (the traced spec for the front end)."""

    def __init__(self, message, spec=None):
        self.message = message
        self.spec = spec
        text = message
        if spec is not None:
            text += "\n--- spec ---\n" + spec
        super().__init__(text)


def cache_dir():
    return os.environ.get("ATTN_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "attn")


_memory = {}
_lock = threading.Lock()
stats = {"memory_hits": 0, "disk_hits": 0, "compiles": 0}


def _cache_key(spec, options):
    text = "\0".join([spec, options, _capi.COMPILER_ID])
    return hashlib.sha256(text.encode()).hexdigest()


def compile_spec(spec, options, name="spec"):
    """The kernel of `spec` for `options`, from memory, disk (CUDA PTX) or a
    fresh compile, in that order."""
    key = _cache_key(spec, options)
    with _lock:
        kernel = _memory.get(key)
        if kernel is not None:
            stats["memory_hits"] += 1
            return kernel
    image = None
    path = os.path.join(cache_dir(), key + ".ptx")
    cuda = "backend=cpu" not in options
    if cuda and os.path.exists(path):
        with open(path) as f:
            image = f.read()
    try:
        handle = _capi.Handle(spec, name, options, image)
    except _capi.CompileError as error:
        raise AttnError(str(error), spec) from None
    if image is not None:
        stats["disk_hits"] += 1
    else:
        stats["compiles"] += 1
        if cuda:
            _write_atomically(path, handle.image())
    kernel = Kernel(handle, spec)
    with _lock:
        _memory.setdefault(key, kernel)
        return _memory[key]


def _write_atomically(path, text):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w") as f:
            f.write(text)
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only home only loses the disk cache


def check_indices_option(check_indices=None):
    """The compile option that turns on index checks, or "": `check_indices`
    when given, else the ATTN_CHECK_INDICES environment variable ("1")."""
    if check_indices is None:
        check_indices = os.environ.get("ATTN_CHECK_INDICES", "") == "1"
    return " check_indices=1" if check_indices else ""


def clear_memory_cache():
    with _lock:
        _memory.clear()


class Kernel:
    """One compiled attn op. Call it with the op's inputs (positionally in
    the spec's operand order, or by argument name) to run it on the current
    stream; it allocates the outputs unless `out=` gives them, and returns
    the output, or a tuple when the op has several results."""

    def __init__(self, handle, spec):
        self.handle = handle
        self.spec = spec
        d = handle.description
        self.description = d
        self.backend = d["backend"]
        self.args = d["args"]
        # The workspace and the index-error record (check_indices) are the
        # kernel's own; Kernel allocates them on each call.
        internal = ("workspace", "index_errors")
        self.inputs = [a for a in self.args
                       if not a["output"] and a["role"] not in internal]
        self.outputs = [a for a in self.args if a["output"]
                        and a["role"] not in internal]
        self.has_workspace = any(a["role"] == "workspace" for a in self.args)
        self.index_errors = next(
            (a for a in self.args if a["role"] == "index_errors"), None)

    @property
    def input_names(self):
        return [a["name"] for a in self.inputs]

    def __repr__(self):
        return (f"<attn.Kernel {self.description['entry']} "
                f"({self.backend}) inputs={self.input_names}>")

    def ptx(self):
        return self.handle.image()

    def __call__(self, *args, out=None, **named):
        if len(args) > len(self.inputs):
            raise TypeError(f"{len(self.inputs)} inputs expected "
                            f"({', '.join(self.input_names)}), "
                            f"{len(args)} given")
        given = dict(zip(self.input_names, args))
        for name, value in named.items():
            if name not in self.input_names:
                raise TypeError(f"unknown input '{name}'; the inputs are "
                                f"{', '.join(self.input_names)}")
            if name in given:
                raise TypeError(f"input '{name}' given twice")
            given[name] = value
        missing = [n for n in self.input_names if n not in given]
        if missing:
            raise TypeError(f"missing inputs: {', '.join(missing)}")
        _tensors.refuse_grad([given[n] for n in self.input_names],
                             self.input_names)
        infos = {a["name"]: _tensors.describe(given[a["name"]], a["name"])
                 for a in self.inputs}
        first = infos[self.input_names[0]]
        self._check_placement(infos, first)

        query = infos.get("query")
        key = infos.get("key")
        sizes = {"shapes": {n: i.shape for n, i in infos.items()}}
        if query is not None and len(query.shape) == 4:
            sizes["B"], sizes["Nq"] = query.shape[0], query.shape[2]
        if key is not None and len(key.shape) == 4:
            sizes["Nk"] = key.shape[2]
        shapes, error = self.handle.resolve_shapes(sizes)
        if error:
            raise ValueError(error)
        by_name = {a["name"]: s for a, s in zip(self.args, shapes)}
        self._check_sizes(infos, by_name)

        outputs = self._outputs(out, first, by_name)
        for a, o in zip(self.outputs, outputs):
            infos[a["name"]] = _tensors.describe(o, a["name"])
        self._check_placement(infos, first)
        workspace = None
        if self.has_workspace:
            ws = [a for a in self.args if a["role"] == "workspace"][0]
            workspace = _tensors.empty_like_kind(
                first, by_name[ws["name"]], _tensors.F32)
            # A chunk-parallel kernel's flags start at zero (its boundaries
            # and inverses are written before they are read).
            if self.description.get("segment_words", 0) > 0:
                begin, end = self.handle.workspace_flags(sizes.get("B", 0),
                                                         sizes.get("Nq", 0))
                if end > begin:
                    workspace[:, :, begin:end] = 0
            infos[ws["name"]] = _tensors.describe(workspace, ws["name"])
        record = None
        if self.index_errors is not None:
            name = self.index_errors["name"]
            record = _tensors.empty_like_kind(first, by_name[name],
                                              self.index_errors["dtype"],
                                              zeroed=True)
            infos[name] = _tensors.describe(record, name)

        keep = []
        tensors = []
        for a in self.args:
            info = infos[a["name"]]
            # The runtime copies CPU arguments before checking their
            # strides: a broadcast view would be copied in full first.
            if self.backend == "cpu" and not info.is_contiguous():
                raise ValueError(
                    f"{a['name']}: strides {tuple(info.strides)} for shape "
                    f"{tuple(info.shape)}; the CPU backend takes contiguous "
                    "(row-major) tensors only (np.ascontiguousarray(x) or "
                    "x.contiguous() makes one)")
            tensor, storage = info.to_c()
            tensors.append(tensor)
            keep.append(storage)
        stream = _tensors.current_stream(first)
        error = self.handle.run(tensors, stream)
        if error:
            raise ValueError(error)
        if record is not None:
            self._raise_index_errors(record, infos)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _raise_index_errors(self, record, infos):
        """Raises IndexError when the kernel (compiled with check_indices)
        recorded reads of captured tensors at out-of-range indices. Reading
        the record waits for the launch."""
        count, capture, dim, index = _tensors.to_host_list(record)
        if count == 0:
            return
        name = f"capture{capture}"
        shape = tuple(infos[name].shape) if name in infos else "?"
        reads = "over 2^31" if count < 0 else str(count)
        raise IndexError(
            f"{reads} read(s) of captured tensors were out of range "
            f"(check_indices); the first recorded read {name} of shape "
            f"{shape} at index {index} of dim {dim}. The kernel clamped "
            "each such index into the tensor (docs/semantics.md, 2.5), so "
            "its outputs are defined, but probably not what was meant")

    def _check_sizes(self, infos, by_name):
        """Refuses, before anything is allocated, a call whose tensors
        cannot be described to C or cannot run: outputs (and the workspace)
        of sizes beyond int64 or beyond the 32-bit element offsets of CUDA
        kernels, or, on the CPU backend (which copies every argument),
        arguments beyond the machine's memory."""
        total = 0
        shapes = []
        for a in self.args:
            name = a["name"]
            if name in infos:
                shape, dtype = infos[name].shape, infos[name].dtype
            else:
                shape = by_name[name]
                dtype = _tensors.F32 if a["role"] == "workspace" \
                    else a["dtype"]
            count = _tensors.check_shape(shape, dtype, name)
            if name not in infos and self.backend == "cuda" and \
                    count > _tensors.CUDA_MAX_ELEMENTS:
                raise ValueError(
                    f"{name}: shape {tuple(shape)} is {count} elements; CUDA "
                    "kernels index with 32 bits and reach at most "
                    f"{_tensors.CUDA_MAX_ELEMENTS} elements (split the batch)")
            total += count * _tensors.itemsize(dtype)
            shapes.append(f"{name} {tuple(shape)}")
        memory = _tensors.host_memory()
        if self.backend == "cpu" and memory and total > memory:
            raise ValueError(
                f"the arguments take {_tensors.format_bytes(total)}, which "
                "the CPU backend copies, and this machine has "
                f"{_tensors.format_bytes(memory)} of memory: "
                + ", ".join(shapes))

    def _check_placement(self, infos, first):
        cuda = self.backend == "cuda"
        for a in self.args:
            info = infos.get(a["name"])
            if info is None:
                continue
            if cuda and info.device < 0:
                raise ValueError(f"{a['name']}: the tensor is in host memory;"
                                 " this kernel runs on CUDA tensors")
            if not cuda and info.device >= 0:
                raise ValueError(f"{a['name']}: the tensor is on a CUDA "
                                 "device; this kernel runs on the CPU")
            if cuda and info.device != first.device:
                raise ValueError(f"{a['name']}: on cuda:{info.device}, but "
                                 f"the inputs are on cuda:{first.device}")
            if info.dtype != a["dtype"]:
                raise TypeError(
                    f"{a['name']}: dtype {_tensors.dtype_name(info.dtype)}, "
                    f"the kernel takes {_tensors.dtype_name(a['dtype'])}")

    def _outputs(self, out, first, by_name):
        if out is None:
            return [_tensors.empty_like_kind(first, by_name[a["name"]],
                                             a["dtype"])
                    for a in self.outputs]
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        if len(outs) != len(self.outputs):
            raise ValueError(f"out= gives {len(outs)} tensors, the kernel has "
                             f"{len(self.outputs)} outputs")
        names = [a["name"] for a in self.outputs]
        _tensors.refuse_grad(outs, [f"out= tensor {n}" for n in names])
        for name, o in zip(names, outs):
            info = _tensors.describe(o, name)
            if info.readonly:
                raise ValueError(
                    f"{name}: the out= array is read-only, and attn writes "
                    "its results into out=; pass a writeable array (or no "
                    "out= to get new ones)")
        return outs
