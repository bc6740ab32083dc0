"""The FlexAttention-style front end: attention, linear_attention and hybrid
build an attn spec from the tensors' shapes and the traced Python functions,
compile it (cached) and run it."""

import math

from . import _kernel, _tensors, _trace

_ETYPE = {_tensors.F32: "f32", _tensors.F16: "f16", _tensors.BF16: "bf16"}

last_spec = [None]


def _chip(info):
    import torch
    major, minor = torch.cuda.get_device_capability(info.device)
    return f"sm_{major}{minor}{'a' if major == 9 else ''}"


def _backend_options(info, check_indices=None):
    """The compile options for tensors like `info`; `check_indices` (None:
    the ATTN_CHECK_INDICES environment variable) as _kernel says."""
    checks = _kernel.check_indices_option(check_indices)
    if info.device >= 0:
        if info.kind == "torch":
            chip = _chip(info)
        else:
            import cupy
            major, minor = divmod(int(cupy.cuda.Device(
                info.device).compute_capability), 10)
            chip = f"sm_{major}{minor}{'a' if major == 9 else ''}"
        return f"backend=cuda chip={chip}" + checks
    return "backend=cpu" + checks


def _qkv_types(q, k, v):
    infos = [_tensors.describe(t, n) for t, n in
             ((q, "query"), (k, "key"), (v, "value"))]
    for info, name in zip(infos, ("query", "key", "value")):
        if len(info.shape) != 4:
            raise ValueError(f"{name} must be [B, H, N, D], got shape "
                             f"{info.shape}")
        # B and N may be 0 (the result is empty too); H and D are part of
        # the kernel and must not.
        for dim, what in ((1, "heads H"), (3, "head dim D")):
            if info.shape[dim] == 0:
                raise ValueError(f"{name} has shape {tuple(info.shape)}: its "
                                 f"{what} (dim {dim}) is 0; attn needs at "
                                 "least 1")
        if info.dtype not in _ETYPE:
            raise TypeError(f"{name}: dtype {_tensors.dtype_name(info.dtype)}"
                            "; attn takes float32, float16 or bfloat16")
    etype = _ETYPE[infos[0].dtype]
    types = [f"tensor<?x{i.shape[1]}x?x{i.shape[3]}x{etype}>" for i in infos]
    return infos, types, etype


def _to_f32_host(x):
    """CPU kernels compute in f32: host inputs are converted."""
    info = _tensors.describe(x, "input")
    if info.device >= 0 or info.dtype == _tensors.F32 or \
            info.dtype not in (_tensors.F16, _tensors.BF16, _tensors.F64):
        return x
    if info.kind == "torch":
        return x.float()
    return x.astype("float32")


def _restore(result, like):
    info = _tensors.describe(like, "input")
    if info.device >= 0:
        return result
    out = []
    for r in (result if isinstance(result, tuple) else (result,)):
        rinfo = _tensors.describe(r, "output")
        if rinfo.dtype == _tensors.F32 and info.dtype != _tensors.F32 and \
                len(rinfo.shape) == 4:
            r = r.to(like.dtype) if info.kind == "torch" else \
                r.astype(like.dtype)
        out.append(r)
    return out[0] if len(out) == 1 else tuple(out)


# The front end's names of the kernel parameters it makes, for messages.
_PARAM_NAMES = {"q": "q", "k": "k", "v": "v", "qs": "segment_ids[0]",
                "ks": "segment_ids[1]", "g": "gate", "beta": "beta",
                "s0": "initial_state", "w": "feature_weights"}


def _input_names(params):
    names = []
    for param in params:
        name = param[1:param.index(":")]
        if name.startswith("captured"):
            names.append(f"the tensor captured as {name}")
        else:
            names.append(_PARAM_NAMES.get(name, f"block_mask.{name}"))
    return names


def _refuse_grad_scalars(**values):
    """Scalars given as 0-d tensors (learned scales, hybrid weights) are
    compiled in as constants and would lose their gradient too."""
    for name, value in values.items():
        items = value if isinstance(value, (tuple, list)) else [value]
        _tensors.refuse_grad(items, [name] * len(items))


def _run(spec, options, inputs, params, show, like):
    _tensors.refuse_grad(inputs, _input_names(params))
    last_spec[0] = spec
    if show:
        print(spec)
    kernel = _kernel.compile_spec(spec, options, name="traced")
    if "backend=cpu" in options:
        inputs = [_to_f32_host(x) for x in inputs]
        return _restore(kernel(*inputs), like)
    return kernel(*inputs)


def _f32(value):
    return f"{float(value):.9e} : f32"


class BlockMask:
    """Run-time block sparsity in FlexAttention's form: per (b, h, query
    block) the count and list of partial key blocks (the masks are evaluated
    in them) and of full ones. Index tensors are int32 [B, H, QB] and
    [B, H, QB, L]. PyTorch's BlockMask is accepted as it is."""

    def __init__(self, kv_num_blocks, kv_indices, full_kv_num_blocks,
                 full_kv_indices, block_size=(128, 128)):
        self.kv_num_blocks = kv_num_blocks
        self.kv_indices = kv_indices
        self.full_kv_num_blocks = full_kv_num_blocks
        self.full_kv_indices = full_kv_indices
        self.BLOCK_SIZE = tuple(block_size)


def _named_mask(mask):
    if mask is None:
        return None
    if mask.startswith("#attn."):
        return mask
    return f"#attn.{mask}"


def attention(q, k, v, score_mod=None, mask_mod=None, *, mask=None,
              scale=None, normalization="softmax", sigmoid_bias=None,
              l1_map=None, block_mask=None, segment_ids=None,
              return_lse=False, show=False, check_indices=None):
    """softmax(score_mod(scale * q k^T)) v over the keys `mask` and
    `mask_mod` keep, for q [B, Hq, Nq, Dk], k [B, Hk, Nk, Dk], v [B, Hv, Nk,
    Dv] (Hq a multiple of Hk and Hv). score_mod(score, b, h, q_idx, kv_idx)
    and mask_mod(b, h, q_idx, kv_idx) are traced into the spec; tensors they
    index become kernel arguments. `mask` names a mask of the dialect
    ("causal", "sliding_window<left = 128>", ...). Returns the output, and
    the log-sum-exp [B, Hq, Nq] (f32) with return_lse. check_indices
    (default: ATTN_CHECK_INDICES=1 in the environment) raises IndexError
    after the launch when the functions read a captured tensor out of
    range (such reads are clamped either way)."""
    _refuse_grad_scalars(scale=scale, sigmoid_bias=sigmoid_bias)
    infos, (qt, kt, vt), etype = _qkv_types(q, k, v)
    heads = infos[0].shape[1]
    out_t = f"tensor<?x{heads}x?x{infos[2].shape[3]}x{etype}>"
    lse_t = f"tensor<?x{heads}x?xf32>"
    captures = _trace.CaptureList()
    regions = []
    if score_mod is not None:
        regions.append(("score_mod", _trace.trace(
            score_mod, [("s", "f32"), ("b", "index"), ("h", "index"),
                        ("i", "index"), ("j", "index")], "f32", captures)))
    if mask_mod is not None:
        regions.append(("mask_mod", _trace.trace(
            mask_mod, [("b", "index"), ("h", "index"), ("i", "index"),
                       ("j", "index")], "i1", captures)))
    if l1_map is not None:
        regions.append(("l1_map", _trace.trace(
            l1_map, [("s", "f32")], "f32", captures)))
    region_text = [_trace.finish_region(kw, t) for kw, t in regions]

    params = [f"%q: {qt}", f"%k: {kt}", f"%v: {vt}"]
    inputs = [q, k, v]
    clauses = []
    if segment_ids is not None:
        qs, ks = segment_ids
        types = []
        for t, n in ((qs, "qs"), (ks, "ks")):
            types.append(f"tensor<?x?x{_trace.element_type(t)}>")
            params.append(f"%{n}: {types[-1]}")
            inputs.append(t)
        clauses.append(f"segment_ids(%qs, %ks : {types[0]}, {types[1]})")
    attrs = []
    if block_mask is not None:
        names = ["kv_num_blocks", "kv_indices", "full_kv_num_blocks",
                 "full_kv_indices"]
        tensors = [getattr(block_mask, n) for n in names]
        types = []
        for n, t in zip(names, tensors):
            rank = len(t.shape)
            types.append(f"tensor<?x{heads}x" + "x".join(["?"] * (rank - 2))
                         + f"x{_trace.element_type(t)}>")
            params.append(f"%{n}: {types[-1]}")
            inputs.append(t)
        clauses.append(f"block_mask(%{', %'.join(names)} : "
                       f"{', '.join(types)})")
        size = block_mask.BLOCK_SIZE
        if isinstance(size, int):
            size = (size, size)
        attrs.append(f"block_size = array<i64: {size[0]}, {size[1]}>")
    if captures.tensors:
        types = [captures.type_of(i) for i in range(len(captures.tensors))]
        for i, t in enumerate(types):
            params.append(f"%captured{i}: {t}")
        inputs.extend(captures.tensors)
        operands = ", ".join(f"%captured{i}" for i in range(len(types)))
        clauses.append(f"captures({operands} : {', '.join(types)})")
    if scale is not None:
        attrs.append(f"scale = {_f32(scale)}")
    if mask is not None:
        attrs.append(f"mask = {_named_mask(mask)}")
    if normalization != "softmax":
        attrs.append(f"normalization = #attn.normalization<{normalization}>")
    if sigmoid_bias is not None:
        attrs.append(f"sigmoid_bias = {_f32(sigmoid_bias)}")
    results = [out_t] + ([lse_t] if return_lse else [])
    names = ["%o"] + (["%lse"] if return_lse else [])
    attr_text = f" {{{', '.join(attrs)}}}" if attrs else ""
    spec = (
        f"func.func @attention({', '.join(params)}) -> ({', '.join(results)}) {{\n"
        f"  {', '.join(names)} = attn.attention %q, %k, %v "
        f"{' '.join(clauses)}{attr_text}\n"
        f"      : {qt}, {kt}, {vt} -> {', '.join(results)}\n"
        + "".join(r + "\n" for r in region_text) +
        f"  return {', '.join(names)} : {', '.join(results)}\n}}\n")
    return _run(spec, _backend_options(infos[0], check_indices), inputs,
                params, show, q)


def _feature_width(feature_map, key_dim, feature_weights):
    if feature_map == "taylor2":
        return 1 + key_dim + key_dim * key_dim
    if feature_map == "hedgehog":
        return 2 * feature_weights.shape[-1]
    return key_dim


def _check_shape(name, shape, expected):
    """Raises ValueError naming `name` when `shape` is not the `expected`
    one; `expected` is a list of (description, shape) choices."""
    if any(tuple(shape) == tuple(e) for _, e in expected):
        return
    choices = " or ".join(f"{d} = {tuple(e)}" for d, e in expected)
    raise ValueError(f"{name} has shape {tuple(shape)}; for these q, k, v it "
                     f"must be {choices}")


def _gate_kind(gate, gate_kind, infos):
    """The gate's kind (the one given, else the one its rank implies) after
    checking its shape against q's [B, H, N, Dk]: gates are per query
    head."""
    batch, heads, length, key_dim = infos[0].shape
    shapes = {"per_head": ("[H]", (heads,)),
              "per_token": ("[B, H, N]", (batch, heads, length)),
              "per_key": ("[B, H, N, Dk]", (batch, heads, length, key_dim))}
    if gate_kind is not None and gate_kind not in shapes:
        raise ValueError(f"gate_kind is {gate_kind!r}; it must be "
                         "'per_head', 'per_token' or 'per_key'")
    shape = _tensors.describe(gate, "gate").shape
    _check_shape("gate", shape, [shapes[gate_kind]] if gate_kind
                 else list(shapes.values()))
    return gate_kind or {1: "per_head", 3: "per_token",
                         4: "per_key"}[len(shape)]


def _linear_common(q, k, v, feature_map, gate, gate_kind, feature_weights):
    infos, (qt, kt, vt), etype = _qkv_types(q, k, v)
    params = [f"%q: {qt}", f"%k: {kt}", f"%v: {vt}"]
    inputs = [q, k, v]
    clauses, attrs, region = [], [], ""
    if gate is not None:
        ginfo = _tensors.describe(gate, "gate")
        kind = _gate_kind(gate, gate_kind, infos)
        et = _ETYPE.get(ginfo.dtype, "f32")
        # Only the chosen kind's shape is read: a [H] gate has no shape[1].
        shape = ginfo.shape
        dims = {"per_head": lambda: f"{shape[0]}",
                "per_token": lambda: f"?x{shape[1]}x?",
                "per_key": lambda: f"?x{shape[1]}x?x{shape[-1]}"}[kind]()
        gt = f"tensor<{dims}x{et}>"
        params.append(f"%g: {gt}")
        inputs.append(gate)
        clauses.append(f"gate(%g : {gt})")
        attrs.append(f"gate = #attn.gate<{kind}>")
    if feature_map == "hedgehog" or feature_weights is not None:
        _, heads, _, key_dim = infos[0].shape
        expected = ("feature_map='hedgehog' takes feature_weights "
                    f"[2, H, Dk, M] = (2, {heads}, {key_dim}, M)")
        if feature_weights is None:
            raise ValueError(f"feature_weights is missing; {expected}")
        shape = _tensors.describe(feature_weights, "feature_weights").shape
        if len(shape) != 4 or tuple(shape[:3]) != (2, heads, key_dim):
            raise ValueError(f"feature_weights has shape {tuple(shape)}; "
                             f"{expected}")
    if callable(feature_map):
        traced = _trace.trace(feature_map, [("x", "f32")], "f32",
                              _trace.CaptureList())
        if traced[0].captures.tensors:
            raise _trace.TraceError("a feature map cannot read tensors")
        region = _trace.finish_region("feature_map", traced) + "\n"
    elif feature_map is not None:
        attrs.append(f"feature_map = #attn.feature_map<{feature_map}>")
    return infos, (qt, kt, vt), etype, params, inputs, clauses, attrs, region


def _weights_clause(feature_weights, params, inputs, clauses):
    if feature_weights is None:
        return
    shape = "x".join(str(s) for s in feature_weights.shape)
    wt = f"tensor<{shape}x{_trace.element_type(feature_weights)}>"
    params.append(f"%w: {wt}")
    inputs.append(feature_weights)
    clauses.append(f"feature_weights(%w : {wt})")


def linear_attention(q, k, v, *, feature_map=None, gate=None, gate_kind=None,
                     rule="additive", beta=None, chunk=64, causal=True,
                     normalization=None, norm_eps=None, scale=None,
                     initial_state=None, feature_weights=None,
                     return_state=False, show=False):
    """Linear attention S_t = G_t S_{t-1} + phi(k_t) v_t^T, o_t = S_t^T
    (scale phi(q_t)), or the delta rule (rule="delta" with beta [B, H, N]).
    `feature_map` is a name ("elu_plus_one", "relu", "taylor2", "hedgehog"
    with feature_weights [2, H, Dk, M]) or an elementwise Python function,
    traced; `gate` is a log-space decay [H], [B, H, N] or [B, H, N, Dk].
    Returns the output, and the final state [B, H, F, Dv] with
    return_state."""
    _refuse_grad_scalars(scale=scale, norm_eps=norm_eps)
    (infos, (qt, kt, vt), etype, params, inputs, clauses, attrs,
     region) = _linear_common(q, k, v, feature_map, gate, gate_kind,
                              feature_weights)
    batch, heads, length, key_dim = infos[0].shape
    value_dim = infos[2].shape[3]
    if beta is not None:
        binfo = _tensors.describe(beta, "beta")
        _check_shape("beta", binfo.shape,
                     [("[B, H, N]", (batch, heads, length))])
        bt = f"tensor<?x{binfo.shape[1]}x?x{_ETYPE.get(binfo.dtype, 'f32')}>"
        params.append(f"%beta: {bt}")
        inputs.append(beta)
        clauses.append(f"beta(%beta : {bt})")
    width = _feature_width(feature_map if isinstance(feature_map, str)
                           else None, key_dim, feature_weights)
    columns = value_dim + (1 if normalization == "denominator" else 0)
    state_t = f"tensor<?x{heads}x{width}x{columns}xf32>"
    if initial_state is not None:
        _check_shape("initial_state",
                     _tensors.describe(initial_state, "initial_state").shape,
                     [("[B, H, F, Dv" + ("+1]" if columns > value_dim
                                         else "]"),
                       (batch, heads, width, columns))])
        params.append(f"%s0: {state_t}")
        inputs.append(initial_state)
        clauses.append(f"initial_state(%s0 : {state_t})")
    _weights_clause(feature_weights, params, inputs, clauses)
    if causal:
        attrs.insert(0, "causal")
    if rule != "additive":
        attrs.append(f"update = #attn.update<{rule}>")
    if scale is not None:
        attrs.append(f"scale = {_f32(scale)}")
    if normalization is not None:
        attrs.append(
            f"normalization = #attn.linear_normalization<{normalization}>")
    if norm_eps is not None:
        attrs.append(f"norm_eps = {_f32(norm_eps)}")
    attrs.append(f"chunk_size = {int(chunk)}")
    out_t = f"tensor<?x{heads}x?x{value_dim}x{etype}>"
    results = [out_t] + ([state_t] if return_state else [])
    names = ["%o"] + (["%state"] if return_state else [])
    spec = (
        f"func.func @linear_attention({', '.join(params)}) -> "
        f"({', '.join(results)}) {{\n"
        f"  {', '.join(names)} = attn.linear_attention %q, %k, %v "
        f"{' '.join(clauses)} {{{', '.join(attrs)}}}\n"
        f"      : {qt}, {kt}, {vt} -> {', '.join(results)}\n{region}"
        f"  return {', '.join(names)} : {', '.join(results)}\n}}\n")
    return _run(spec, _backend_options(infos[0]), inputs, params, show, q)


def hybrid(q, k, v, *, window, combine="shared_denominator", feature_map=None,
           feature_weights=None, weights=None, gate=None, gate_kind=None,
           chunk=64, scale=None, linear_scale=None, normalization=None,
           norm_eps=None, show=False):
    """Softmax attention over the last `window` keys plus linear attention
    over the rest (combine="shared_denominator", LoLCATs) or over all keys
    (combine="weighted_sum", Liger/Based), weighted by `weights` [w0, w1]."""
    _refuse_grad_scalars(weights=weights, scale=scale,
                         linear_scale=linear_scale, norm_eps=norm_eps)
    (infos, (qt, kt, vt), etype, params, inputs, clauses, attrs,
     region) = _linear_common(q, k, v, feature_map, gate, gate_kind,
                              feature_weights)
    _weights_clause(feature_weights, params, inputs, clauses)
    attrs = [f"combine = #attn.combine<{combine}>",
             f"window = {int(window)}"] + attrs
    if weights is not None:
        attrs.append(f"weights = array<f32: {float(weights[0])}, "
                     f"{float(weights[1])}>")
    if scale is not None:
        attrs.append(f"scale = {_f32(scale)}")
    if linear_scale is not None:
        attrs.append(f"linear_scale = {_f32(linear_scale)}")
    if normalization is not None:
        attrs.append(
            f"normalization = #attn.linear_normalization<{normalization}>")
    if norm_eps is not None:
        attrs.append(f"norm_eps = {_f32(norm_eps)}")
    attrs.append(f"chunk_size = {int(chunk)}")
    out_t = f"tensor<?x{infos[0].shape[1]}x?x{infos[2].shape[3]}x{etype}>"
    spec = (
        f"func.func @hybrid({', '.join(params)}) -> {out_t} {{\n"
        f"  %o = attn.hybrid %q, %k, %v {' '.join(clauses)} "
        f"{{{', '.join(attrs)}}}\n"
        f"      : {qt}, {kt}, {vt} -> {out_t}\n{region}"
        f"  return %o : {out_t}\n}}\n")
    return _run(spec, _backend_options(infos[0]), inputs, params, show, q)
