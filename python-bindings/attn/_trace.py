"""Tracing plain Python functions into the regions of attn ops.

`score_mod(score, b, h, q_idx, kv_idx)` and `mask_mod(b, h, q_idx, kv_idx)`
are called once on symbolic values. Every operation on them appends one
MLIR op to the region being built, so the function's arithmetic, comparisons,
`where`, math functions and reads of captured tensors become the region's
body. Python control flow cannot depend on a symbolic value: its truth value
raises, and `where`, `&`, `|`, `~` take the place of if/and/or/not.

Types: scores are f32, indices are index, comparisons give i1. Mixing an
index with a float converts the index to f32; Python ints and floats become
constants of the other operand's type.
"""

import math

_FLOAT_CMP = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge",
              "eq": "oeq", "ne": "une"}
_INT_CMP = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge",
            "eq": "eq", "ne": "ne"}


class TraceError(TypeError):
    pass


class Region:
    """The body of one region under construction."""

    def __init__(self, captures):
        self.lines = []
        self.counter = 0
        self.captures = captures  # shared by the op's regions

    def fresh(self):
        self.counter += 1
        return f"%t{self.counter}"

    def emit(self, text, type_):
        name = self.fresh()
        self.lines.append(f"{name} = {text}")
        return Sym(self, name, type_)

    def constant(self, value, type_):
        if type_ == "f32":
            return self.emit(f"arith.constant {_float_literal(value)} : f32",
                             "f32")
        if type_ == "i1":
            return self.emit(f"arith.constant {'true' if value else 'false'}",
                             "i1")
        value = int(value)
        # An index is 64 bits wide in every kernel attn emits.
        if not -(1 << 63) <= value < (1 << 63):
            raise TraceError(f"the integer {value} does not fit in a 64-bit "
                             f"{type_}")
        return self.emit(f"arith.constant {value} : {type_}", type_)


def _float_literal(value):
    value = float(value)
    if math.isnan(value):
        return "0x7FC00000"
    if math.isinf(value):
        return "0x7F800000" if value > 0 else "0xFF800000"
    return f"{value:.17e}"


class Sym:
    """A symbolic scalar of a region: f32, index or i1."""

    __slots__ = ("region", "name", "type")

    def __init__(self, region, name, type_):
        self.region, self.name, self.type = region, name, type_

    # Conversions -----------------------------------------------------------

    def _as(self, type_):
        if self.type == type_:
            return self
        r = self.region
        if self.type == "index" and type_ == "f32":
            wide = r.emit(f"arith.index_cast {self.name} : index to i64", "i64")
            return r.emit(f"arith.sitofp {wide.name} : i64 to f32", "f32")
        if self.type == "i1" and type_ == "f32":
            return r.emit(f"arith.uitofp {self.name} : i1 to f32", "f32")
        if self.type == "i1" and type_ == "index":
            wide = r.emit(f"arith.extui {self.name} : i1 to i64", "i64")
            return r.emit(f"arith.index_cast {wide.name} : i64 to index",
                          "index")
        raise TraceError(f"cannot use a {self.type} value as {type_}")

    def _coerce(self, other):
        """(self, other) converted to one type."""
        if isinstance(other, Sym):
            if other.region is not self.region:
                raise TraceError("values of different traced functions mix")
            if self.type == other.type:
                return self, other
            if "f32" in (self.type, other.type):
                return self._as("f32"), other._as("f32")
            return self._as("index"), other._as("index")
        if isinstance(other, bool):
            other = int(other)
        if isinstance(other, int):
            type_ = "index" if self.type in ("index", "i1") else "f32"
            return self._as(type_), self.region.constant(other, type_)
        if isinstance(other, float):
            return self._as("f32"), self.region.constant(other, "f32")
        raise TraceError(
            f"cannot combine a traced value with {type(other).__name__}; "
            "captured tensors must be indexed (t[h], t[b, q_idx])")

    def __bool__(self):
        raise TraceError(
            "a traced value has no Python truth value: use attn.where(c, x, "
            "y) instead of if/else, and &, |, ~ instead of and, or, not")

    # float(), int(), math.* and range() would need the value now, at trace
    # time; the kernel computes it later, for every (b, h, i, j).
    def _no_python_number(self, kind):
        what = {"f32": "score (f32 value)", "index": "index",
                "i1": "comparison"}.get(self.type, "value")
        raise TraceError(
            f"a traced {what} cannot become a Python {kind}: it is only "
            "known when the kernel runs. Compute on the traced value itself, "
            "with operators and attn's functions (attn.where(c, x, y), "
            "attn.exp, attn.tanh, attn.minimum, ...) instead of "
            f"{kind}(), math.* or numpy")

    def __float__(self):
        self._no_python_number("float")

    def __int__(self):
        self._no_python_number("int")

    def __index__(self):
        self._no_python_number("int")

    def __complex__(self):
        self._no_python_number("complex")

    __hash__ = object.__hash__

    # Arithmetic -----------------------------------------------------------

    def _binary(self, other, float_op, int_op, reverse=False):
        a, b = self._coerce(other)
        if reverse:
            a, b = b, a
        if a.type == "i1":
            a, b = a._as("index"), b._as("index")
        op = float_op if a.type == "f32" else int_op
        if op is None:
            raise TraceError(f"this operation needs f32 values, not {a.type}")
        return self.region.emit(f"{op} {a.name}, {b.name} : {a.type}", a.type)

    def __add__(self, o): return self._binary(o, "arith.addf", "arith.addi")
    def __radd__(self, o): return self._binary(o, "arith.addf", "arith.addi", True)
    def __sub__(self, o): return self._binary(o, "arith.subf", "arith.subi")
    def __rsub__(self, o): return self._binary(o, "arith.subf", "arith.subi", True)
    def __mul__(self, o): return self._binary(o, "arith.mulf", "arith.muli")
    def __rmul__(self, o): return self._binary(o, "arith.mulf", "arith.muli", True)

    def __truediv__(self, o):
        a, b = self._coerce(o)
        return a._as("f32")._binary(b._as("f32"), "arith.divf", None)

    def __rtruediv__(self, o):
        a, b = self._coerce(o)
        return b._as("f32")._binary(a._as("f32"), "arith.divf", None)

    def __floordiv__(self, o):
        return self._binary(o, None, "arith.floordivsi")

    def __rfloordiv__(self, o):
        return self._binary(o, None, "arith.floordivsi", True)

    def _floor_mod(self, other, reverse):
        # Python's % (and torch.remainder) takes the divisor's sign;
        # arith.remsi and arith.remf take the dividend's. Where the two
        # differ, the divisor is added, so (i - j) % w traces as written.
        a, b = self._coerce(other)
        if reverse:
            a, b = b, a
        if a.type == "i1":
            a, b = a._as("index"), b._as("index")
        op = "arith.remf" if a.type == "f32" else "arith.remsi"
        r = a.region.emit(f"{op} {a.name}, {b.name} : {a.type}", a.type)
        zero = 0.0 if a.type == "f32" else 0
        return where((r != zero) & ((r < zero) ^ (b < zero)), r + b, r)

    def __mod__(self, o): return self._floor_mod(o, False)
    def __rmod__(self, o): return self._floor_mod(o, True)

    def __pow__(self, o):
        if isinstance(o, int) and 0 <= o <= 8:
            out = self.region.constant(1, "f32") if o == 0 else self._as("f32")
            for _ in range(1, o):
                out = out * self._as("f32")
            return out
        a, b = self._coerce(o)
        return a._as("f32")._binary(b._as("f32"), "math.powf", None)

    def __neg__(self):
        if self.type == "f32":
            return self.region.emit(f"arith.negf {self.name} : f32", "f32")
        return 0 - self

    def __pos__(self):
        return self

    def __abs__(self):
        return abs_(self)

    # Comparisons and logic -------------------------------------------------

    def _compare(self, other, kind):
        a, b = self._coerce(other)
        if a.type == "f32":
            return self.region.emit(
                f"arith.cmpf {_FLOAT_CMP[kind]}, {a.name}, {b.name} : f32",
                "i1")
        if a.type == "i1":
            a, b = a._as("index"), b._as("index")
        return self.region.emit(
            f"arith.cmpi {_INT_CMP[kind]}, {a.name}, {b.name} : {a.type}",
            "i1")

    def __lt__(self, o): return self._compare(o, "lt")
    def __le__(self, o): return self._compare(o, "le")
    def __gt__(self, o): return self._compare(o, "gt")
    def __ge__(self, o): return self._compare(o, "ge")
    def __eq__(self, o): return self._compare(o, "eq")
    def __ne__(self, o): return self._compare(o, "ne")

    def _logic(self, other, op):
        if isinstance(other, bool):
            other = self.region.constant(other, "i1")
        if not isinstance(other, Sym) or self.type != "i1" or other.type != "i1":
            raise TraceError("&, | and ^ combine boolean (comparison) values")
        return self.region.emit(f"{op} {self.name}, {other.name} : i1", "i1")

    def __and__(self, o): return self._logic(o, "arith.andi")
    def __rand__(self, o): return self._logic(o, "arith.andi")
    def __or__(self, o): return self._logic(o, "arith.ori")
    def __ror__(self, o): return self._logic(o, "arith.ori")
    def __xor__(self, o): return self._logic(o, "arith.xori")

    def __invert__(self):
        if self.type != "i1":
            raise TraceError("~ negates boolean (comparison) values")
        return self._logic(True, "arith.xori")

    # PyTorch interop: torch.tanh(score), torch.where(c, x, y), and reads of
    # captured tensors (slopes[h]) dispatch here.
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name == "__getitem__" and args and not isinstance(args[0], Sym):
            return _read_capture(args[0], args[1])
        mapped = _TORCH_FUNCTIONS.get(name)
        if mapped is None:
            raise TraceError(f"torch.{name} is not supported in a traced "
                             "function; use attn's math functions")
        return mapped(*args, **kwargs)


def _unary_math(op):
    def apply(x):
        if isinstance(x, (int, float)):
            raise TraceError(f"{op} of a Python number: compute it in Python")
        x = x._as("f32")
        return x.region.emit(f"{op} {x.name} : f32", "f32")
    apply.__name__ = op.split(".")[-1]
    return apply


exp = _unary_math("math.exp")
exp2 = _unary_math("math.exp2")
log = _unary_math("math.log")
log2 = _unary_math("math.log2")
log1p = _unary_math("math.log1p")
tanh = _unary_math("math.tanh")
sqrt = _unary_math("math.sqrt")
rsqrt = _unary_math("math.rsqrt")
sin = _unary_math("math.sin")
cos = _unary_math("math.cos")
erf = _unary_math("math.erf")
floor = _unary_math("math.floor")
ceil = _unary_math("math.ceil")


def abs_(x):
    if x.type == "f32":
        return x.region.emit(f"math.absf {x.name} : f32", "f32")
    x = x._as("index")
    return where(x < 0, -x, x)


def sigmoid(x):
    return 1.0 / (1.0 + exp(-x._as("f32")))


def softplus(x):
    return log1p(exp(x._as("f32")))


def _first_sym(*values):
    for v in values:
        if isinstance(v, Sym):
            return v
    raise TraceError("at least one operand must be a traced value")


def maximum(x, y):
    s = _first_sym(x, y)
    a, b = s._coerce(y if s is x else x)
    op = "arith.maximumf" if a.type == "f32" else "arith.maxsi"
    return s.region.emit(f"{op} {a.name}, {b.name} : {a.type}", a.type)


def minimum(x, y):
    s = _first_sym(x, y)
    a, b = s._coerce(y if s is x else x)
    op = "arith.minimumf" if a.type == "f32" else "arith.minsi"
    return s.region.emit(f"{op} {a.name}, {b.name} : {a.type}", a.type)


def where(condition, x, y):
    """x where `condition` holds, else y (arith.select)."""
    if not isinstance(condition, Sym) or condition.type != "i1":
        raise TraceError("where() needs a boolean traced condition")
    r = condition.region
    if not isinstance(x, Sym) and not isinstance(y, Sym):
        type_ = "f32" if isinstance(x, float) or isinstance(y, float) else "index"
        x, y = r.constant(x, type_), r.constant(y, type_)
    elif not isinstance(x, Sym):
        y, x = y._coerce(x)
    else:
        x, y = x._coerce(y)
    return r.emit(f"arith.select {condition.name}, {x.name}, {y.name} : "
                  f"{x.type}", x.type)


_TORCH_FUNCTIONS = {
    "exp": exp, "exp2": exp2, "log": log, "log2": log2, "log1p": log1p,
    "tanh": tanh, "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos,
    "erf": erf, "floor": floor, "ceil": ceil, "abs": abs_, "sigmoid": sigmoid,
    "where": where, "maximum": maximum, "minimum": minimum,
    "__add__": Sym.__add__, "__radd__": Sym.__radd__, "__sub__": Sym.__sub__,
    "__rsub__": Sym.__rsub__, "__mul__": Sym.__mul__,
    "__rmul__": Sym.__rmul__, "__truediv__": Sym.__truediv__,
}


class Captured:
    """A tensor a traced function reads; it becomes a kernel argument.
    NumPy and CuPy arrays are wrapped with attn.capture(x) to be indexable
    while tracing; PyTorch tensors are indexed directly."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __getitem__(self, index):
        return _read_capture(self.tensor, index)


_ELEMENT_TYPES = {"float32": "f32", "float16": "f16", "bfloat16": "bf16",
                  "float64": "f64", "int32": "i32", "int64": "i64",
                  "int8": "i8", "bool": "i1"}


def element_type(tensor):
    name = str(tensor.dtype).replace("torch.", "")
    if name not in _ELEMENT_TYPES:
        raise TraceError(f"a captured tensor of dtype {tensor.dtype} is not "
                         "supported")
    return _ELEMENT_TYPES[name]


class CaptureList:
    """The tensors an op's regions read, in argument order; one tensor read
    by several regions (or several times) is one argument."""

    def __init__(self):
        self.tensors = []

    def index_of(self, tensor):
        for i, t in enumerate(self.tensors):
            if t is tensor:
                return i
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def type_of(self, i):
        t = self.tensors[i]
        return "tensor<" + "x".join(["?"] * len(t.shape)) + \
            f"x{element_type(t)}>" if len(t.shape) else \
            f"tensor<{element_type(t)}>"


# Set while a function is traced: the region being built.
_active = []


def _read_capture(tensor, index):
    if not _active:
        raise TraceError("captured tensors are read only while tracing")
    region = _active[-1]
    if not isinstance(index, tuple):
        index = (index,)
    if len(index) != len(tensor.shape):
        raise TraceError(f"a captured tensor of rank {len(tensor.shape)} is "
                         f"indexed with {len(index)} indices")
    names = []
    for i in index:
        if isinstance(i, Sym):
            names.append(i._as("index").name)
        elif isinstance(i, int):
            names.append(region.constant(i, "index").name)
        else:
            raise TraceError("captured tensors are indexed by traced indices "
                             "or Python ints")
    slot = region.captures.index_of(tensor)
    type_ = region.captures.type_of(slot)
    etype = element_type(tensor)
    value = region.emit(
        f"tensor.extract %cap{slot}[{', '.join(names)}] : {type_}", etype)
    if etype in ("f16", "bf16"):
        return region.emit(f"arith.extf {value.name} : {etype} to f32", "f32")
    if etype == "f64":
        return region.emit(f"arith.truncf {value.name} : f64 to f32", "f32")
    if etype in ("i32", "i64", "i8"):
        return region.emit(f"arith.index_cast {value.name} : {etype} to index",
                           "index")
    return value


def trace(fn, arg_types, result_type, captures):
    """Traces `fn` on fresh arguments of `arg_types` (a list of (name,
    type)); returns the region's text without the capture arguments, which
    the caller appends once every region is traced (see finish_region)."""
    region = Region(captures)
    args = [Sym(region, f"%{name}", type_) for name, type_ in arg_types]
    _active.append(region)
    try:
        result = fn(*args)
    finally:
        _active.pop()
    if isinstance(result, (bool, int, float)) and not isinstance(result, Sym):
        result = region.constant(result, result_type)
    if not isinstance(result, Sym):
        raise TraceError(f"the traced function returned "
                         f"{type(result).__name__}, not a traced value")
    if result.type != result_type:
        if result_type == "f32":
            result = result._as("f32")
        else:
            raise TraceError(f"the traced function must return a {result_type}"
                             f" (a comparison), not a {result.type}")
    return region, arg_types, result


def finish_region(keyword, traced):
    region, arg_types, result = traced
    captures = region.captures
    args = [f"%{name}: {type_}" for name, type_ in arg_types]
    args += [f"%cap{i}: {captures.type_of(i)}"
             for i in range(len(captures.tensors))]
    body = "\n      ".join(region.lines)
    return (f"    {keyword} {{\n    ^bb0({', '.join(args)}):\n"
            f"      {body}\n      attn.yield {result.name} : {result.type}\n"
            f"    }}")
