#!/usr/bin/env python3
"""A bounded, seeded fuzz test of attn's parser, verifier and lowerings.

It runs, for a time budget, four kinds of cases, each on two workers:

  specs   example and test specs mutated at the token level (extreme
          integers and floats, other types and tensor dims, duplicated,
          deleted and swapped lines, inserted attributes, truncations,
          flipped brackets, identifiers swapped between specs) through
          attn-opt (with and without the attn passes, and their options),
          attn-compile and attn-run;
  sizes   attn-run on small examples with absurd --sizes and flags;
  npy     attn-run --inputs DIR with malformed or mismatched .npy files;
  python  the Python package in a subprocess: attn.verify and attn.compile
          on mutated specs and kernels called with bad arrays, since a crash
          there kills the user's process.

A run fails when it is killed by a signal, times out, exits with a code other
than 0 or 1, exits 1 without a message, or prints an LLVM crash marker
(LLVM ERROR, a stack dump, an assertion, ...). Every case is a function of
(seed, kind, index) alone, so a seed replays the same cases; how many run
depends on the budget. Each failing input is written, with the command that
runs it, under WORK_DIR/seed-SEED/failures/ and named in the output.

Environment: ATTN_FUZZ_SEED (default 11), ATTN_FUZZ_SECONDS (total budget,
default 50), ATTN_FUZZ_JOBS (workers, default 2), ATTN_FUZZ_TIMEOUT (seconds
per run, default 10), ATTN_FUZZ_KINDS (e.g. "specs,npy"; default all),
ATTN_FUZZ_MEMORY_MB (address-space limit of every run, default 4096; 0 for
none). Options of the same names override them (--seed, --seconds, ...).

Exit status: 0 when no run failed, 1 otherwise; the last line is
`fuzz: N runs, K failures (seed S)`.
"""

import argparse
import concurrent.futures
import json
import math
import os
import queue
import random
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np

# np.load of the malformed files this script writes may warn of overflows.
warnings.filterwarnings("ignore", category=RuntimeWarning)

# ---------------------------------------------------------------------------
# Classification

CRASH_MARKERS = [
    "LLVM ERROR",
    "Stack dump",
    "PLEASE submit a bug report",
    "Assertion",
    "Segmentation fault",
    "AddressSanitizer",
    "UndefinedBehaviorSanitizer",
    "UNREACHABLE",
    "terminate called",
    "Fatal Python error",
]


def classify(returncode, output, timed_out):
    """None for a clean run (exit 0, or exit 1 with a message), else why the
    run failed."""
    if timed_out:
        return "timeout"
    for marker in CRASH_MARKERS:
        if marker in output:
            return f"exit {returncode}, prints '{marker}'"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"killed by signal {name}"
    if returncode >= 128:
        return f"exit {returncode} (a signal through a shell?)"
    if returncode not in (0, 1):
        return f"exit {returncode}"
    if returncode == 1 and not output.strip():
        return "exit 1 without a message"
    return None


_FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ (.*?)(?: \(/[^()]*\)|$)")
_SKIP_FRAME = re.compile(
    r"llvm::sys::|SignalHandler|PrintStackTrace|__restore_rt|raise|abort|"
    r"__assert|pthread_kill|gsignal|libc\.so|llvm::report_fatal_error|"
    r"llvm::llvm_unreachable|__cxa|std::terminate|__gnu_cxx|"
    r"report_bad_alloc_error|0x[0-9a-f]+$")


def signature(reason, output):
    """A short key that tells distinct failures apart: the first marker line
    (without numbers) or the first frame of the stack dump that is not the
    signal handler's, else the reason."""
    lines = output.splitlines()
    for line in lines:
        if any(m in line for m in ("LLVM ERROR", "Assertion", "UNREACHABLE",
                                   "terminate called", "Fatal Python")):
            return re.sub(r"\d+", "N", line.strip())[:200]
    frames = []
    for line in lines:
        m = _FRAME.match(line)
        name = m.group(1).strip() if m else ""
        if name and not name.startswith("(") and not _SKIP_FRAME.search(name):
            # The function's name without its parameters.
            depth, short = 0, []
            for c in name:
                depth += c == "("
                if depth == 0:
                    short.append(c)
                depth -= c == ")"
            frames.append("".join(short))
            if len(frames) == 3:
                break
    if frames:
        return f"{reason} in {' < '.join(frames)}"[:300]
    return reason


def first_error_lines(output, count=6):
    lines = [l for l in output.splitlines() if l.strip()]
    marked = [i for i, l in enumerate(lines)
              if any(m in l for m in CRASH_MARKERS) or "error" in l]
    start = marked[0] if marked else 0
    return lines[start:start + count]


# ---------------------------------------------------------------------------
# The corpus and the spec mutator

EXTREME_INTS = [
    "0", "-1", "1", "2", "3", "63", "64", "65", "-2", "2147483647",
    "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
    "4611686018427387904", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
    "18446744073709551616", "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999999999999", "1" + "0" * 400,
    "0x7fffffffffffffff", "0xffffffffffffffffffffffff", "-0", "00",
]

EXTREME_FLOATS = [
    "nan", "inf", "-inf", "-0.0", "0.0", "1e39", "-1e39", "1.0e+308",
    "1e309", "4.9e-324", "1e-50", "0x7FC00000", "0x7F800000", "0xFF800000",
    "0x7FF8000000000000", "3.4028235e+38", "1.0e-45", "65504.0", "65520.0",
    "1.0e400", "-0.0e0", "0x0", "0xFFFFFFFFFFFFFFFFFFFF",
]

TYPE_NAMES = ["bf16", "f16", "f32", "f64", "i1", "i8", "i16", "i32", "i64",
              "index", "f8E4M3FN", "tf32", "ui32", "si8", "complex<f32>",
              "none", "vector<4xf32>", "tensor<2xf32>", "f80", "i0",
              "i4294967296", "i65536"]

DIM_VALUES = ["0", "?", "1", "2", "3", "7", "4096", "2147483648",
              "4611686018427387904", "9223372036854775807",
              "99999999999999999999", "-1", "*", ""]

# Attributes to insert into attribute dictionaries of ops and functions
# (besides the ones harvested from the corpus).
INSERTED_ATTRS = [
    "a = array<index: 1>",
    "block_size = array<i64: 64, 64>",
    "block_size = array<i64: 0, 0>",
    "block_size = array<i64: -1, 64>",
    "block_size = array<i64: 64>",
    "block_size = array<i64: 9223372036854775807, 1>",
    "block_size = array<i32: 64, 64>",
    "block_size = array<index: 64, 64>",
    "block_size = [64, 64]",
    "mask = #attn.per_head<[#attn.causal], heads = [0]>",
    "mask = #attn.per_head<[#attn.causal], heads = [-1]>",
    "mask = #attn.per_head<[#attn.causal], heads = [9223372036854775807]>",
    "mask = #attn.per_head<[], heads = []>",
    "mask = #attn.causal",
    "mask = #attn.causal<offset = -9223372036854775808>",
    "mask = #attn.causal<offset = 9223372036854775807>",
    "mask = #attn.and<[]>",
    "mask = #attn.or<[]>",
    "mask = #attn.or<[#attn.causal]>",
    "mask = #attn.sliding_window<left = -1>",
    "mask = #attn.sliding_window<left = 9223372036854775807, right = 9223372036854775807>",
    "mask = #attn.sinks<count = 0>",
    "mask = #attn.sinks<count = -1>",
    "mask = #attn.block_diagonal<size = 0>",
    "mask = #attn.block_diagonal<size = -1>",
    "mask = #attn.prefix_lm<prefix = -9223372036854775808>",
    "mask = #attn.strided_shard<stride = 0>",
    "mask = #attn.strided_shard<stride = 4, block = 0>",
    "mask = #attn.neighborhood<grid = [0, 0], kernel = [3, 3]>",
    "mask = #attn.neighborhood<grid = [4611686018427387904, 4], kernel = [1, 1]>",
    "mask = #attn.neighborhood<grid = [4, 8], kernel = [0, 3], dilation = [0, 2]>",
    "mask = #attn.neighborhood<grid = [], kernel = []>",
    "mask = #attn.document",
    "mask = \"causal\"",
    "mask = 1 : i64",
    "scale = 0.0 : f32", "scale = 0x7FC00000 : f32", "scale = -1.0 : f32",
    "scale = 1.0e+38 : f32", "scale = 1.0 : f64", "scale = 1 : i32",
    "chunk_size = 0", "chunk_size = -1", "chunk_size = 9223372036854775807",
    "chunk_size = 3", "chunk_size = 1", "chunk_size = 2147483648 : i64",
    "norm_eps = 0.0 : f32", "norm_eps = -1.0 : f32",
    "causal", "causal = false", "causal = 3",
    "gate = #attn.gate<per_key>", "gate = #attn.gate<per_head>",
    "update = #attn.update<delta>", "feature_map = #attn.feature_map<elu_plus_one>",
    "normalization = #attn.normalization<softmax>",
    "normalization = #attn.linear_normalization<rms_norm>",
    "combine = #attn.combine<weighted_sum>",
    "window = 0", "window = -1", "window = 9223372036854775807",
    "x = dense<1> : tensor<2xi32>", "x = dense<[1, 2]> : tensor<3xi32>",
    "x = dense_resource<blob> : tensor<1xf32>", "x = array<f32: 1.0>",
    "x = array<i1: true>", "x = array<bf16: 1.0>", "x = array<f64: nan>",
    "x = affine_map<(d0) -> (d0)>", "x = #attn.causal",
    "x = #attn<causal>", "x = #attn.unknown", "x = #attn.causal<>",
    "x = @sym", "x = unit", "x = {}", "x = []", "x = [[[[[[[[]]]]]]]]",
    "x = strided<[1], offset: ?>", "x = loc(\"f\":1:2)",
    "x = distinct[0]<>", "x = #llvm.noalias", "x = array<i64>",
    "llvm.emit_c_interface", "attn.kernel = \"x\"",
    "emit_c_interface", "sym_visibility = \"private\"",
]

BRACKETS = "<>{}()[]"

# Specs of this script's own, besides the examples: a captured index read
# from data (no size check can bound it; the kernels must clamp it).
EXTRA_SPECS = {
    "gather_bias": """\
// attn-run: --sizes b=1,n=17,capture0=1x17,capture1=4
func.func @gather_bias(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                       %v: tensor<?x2x?x16xf32>, %ids: tensor<?x?xi32>,
                       %table: tensor<?xf32>) -> tensor<?x2x?x16xf32> {
  %o = attn.attention %q, %k, %v captures(%ids, %table : tensor<?x?xi32>, tensor<?xf32>)
      {mask = #attn.causal}
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
      -> tensor<?x2x?x16xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %t: tensor<?x?xi32>, %tab: tensor<?xf32>):
      %id = tensor.extract %t[%b, %j] : tensor<?x?xi32>
      %x = arith.index_cast %id : i32 to index
      %bias = tensor.extract %tab[%x] : tensor<?xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x2x?x16xf32>
}
""",
}


def load_corpus(source_dir):
    """(name, text) of every example and every split of the dialect tests,
    and of EXTRA_SPECS."""
    corpus = [(f"examples/{name}", text) for name, text in EXTRA_SPECS.items()]
    paths = []
    for folder in ("examples", "test/Dialect/Attn", "test/Transforms"):
        full = os.path.join(source_dir, folder)
        if os.path.isdir(full):
            paths += sorted(os.path.join(full, f) for f in os.listdir(full)
                            if f.endswith(".mlir"))
    for path in paths:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        rel = os.path.relpath(path, source_dir)
        # A crash marker in a comment, echoed by a diagnostic, would read as
        # a crash.
        text = "".join(l for l in text.splitlines(keepends=True)
                       if not any(m in l for m in CRASH_MARKERS))
        splits = re.split(r"^// -----\s*$", text, flags=re.M)
        for index, split in enumerate(splits):
            if "attn." in split or "func.func" in split:
                corpus.append((f"{rel}#{index}" if len(splits) > 1 else rel,
                               split))
    return corpus


def _balanced_end(text, start, opening, closing):
    """The index after the bracket that closes the one at `start`."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _split_top_level(text):
    items, depth, current = [], 0, []
    for c in text:
        if c in "<[({":
            depth += 1
        elif c in ">])}":
            depth -= 1
        if c == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(c)
    if "".join(current).strip():
        items.append("".join(current).strip())
    return items


class Vocabulary:
    """What the mutator splices between specs: attribute entries, mask
    attributes, identifiers by sigil, lines."""

    def __init__(self, corpus):
        self.attrs = set(INSERTED_ATTRS)
        self.masks = set()
        self.idents = {"%": set(), "#": set(), "@": set(), "^": set(),
                       "": set()}
        self.lines = []
        # Valid specs reach the lowerings: the examples weigh more than the
        # splits of the invalid-input tests.
        self.weights = [4 if name.startswith("examples/") else
                        1 if "invalid" in name else 2 for name, _ in corpus]
        for _, text in corpus:
            body = strip_comments(text)
            self.lines += [l for l in body.splitlines() if l.strip()]
            for m in re.finditer(r"\{(?=\s*[a-z_]+\s*[=,}])", body):
                end = _balanced_end(body, m.start(), "{", "}")
                if end and end - m.start() < 400:
                    for item in _split_top_level(body[m.start() + 1:end - 1]):
                        if item and "\n" not in item:
                            self.attrs.add(item)
            for m in re.finditer(r"#attn\.\w+", body):
                end = m.end()
                if end < len(body) and body[end] == "<":
                    close = _balanced_end(body, end, "<", ">")
                    if close:
                        end = close
                self.masks.add(body[m.start():end])
            for m in re.finditer(r"([%#@^]?)([A-Za-z_][\w.$]*)", body):
                self.idents[m.group(1)].add(m.group(0))
        self.attrs = sorted(self.attrs)
        self.masks = sorted(self.masks)
        self.idents = {k: sorted(v) for k, v in self.idents.items()}


def largest_tensor(text, dynamic=17):
    """The most elements of a tensor type in `text` (a ? counts `dynamic`)."""
    largest = 0
    for m in _SHAPED.finditer(text):
        count = 1
        for d in m.group(2).split("x")[:-1]:
            count *= dynamic if d == "?" else int(d) if d.isdigit() else 1
        largest = max(largest, count)
    return largest


def gray_zone(text):
    """Whether the static shapes of `text` are large enough that a run takes
    long, but not so large that every machine must refuse them: such specs
    are not run, only compiled."""
    return 1 << 22 <= largest_tensor(text) < 1 << 44


def random_chip(rng):
    """A target chip: mostly the supported ones, sometimes older, newer or
    no NVIDIA architecture at all."""
    if rng.random() < 0.6:
        return rng.choice(["sm_80", "sm_90a"])
    return rng.choice(["sm_70", "sm_75", "sm_86", "sm_89", "sm_90",
                       "sm_100a", "sm_120", "sm_12", "sm_", "x", "sm_80a",
                       "sm_99999999999999999999", "compute_80", ""])


def strip_comments(text):
    return "\n".join(l for l in text.splitlines()
                     if not l.lstrip().startswith("//"))


_INT = re.compile(r"(?<![\w.#%@^$])-?\d+(?![\w.])")
_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d*(?:[eE][-+]?\d+)?")
_TYPE = re.compile(r"(bf16|f16|f32|f64|i1|i8|i16|i32|i64|index)(?!\w)")
_SHAPED = re.compile(r"(tensor|vector|memref)<([^<>]*)>")
_IDENT = re.compile(r"([%#@^]?)([A-Za-z_][\w.$]*)")
_ATTR_DICT = re.compile(r"\{(?=\s*[a-z_]+\s*(?:=|,|\}))")
_OP = re.compile(r"\b(attn\.\w+|arith\.\w+|math\.\w+|tensor\.extract)"
                 r"((?:\s+%[\w#]+,?)+)")
_FUNC_BODY = re.compile(r"func\.func[^{]*?\{\s*$", re.M | re.S)


def _pick(rng, matches):
    matches = list(matches)
    return rng.choice(matches) if matches else None


def _replace(text, match, new, group=0):
    return text[:match.start(group)] + new + text[match.end(group):]


def mutate_int(rng, text, vocab):
    m = _pick(rng, _INT.finditer(text))
    return _replace(text, m, rng.choice(EXTREME_INTS)) if m else None


def mutate_float(rng, text, vocab):
    m = _pick(rng, _FLOAT.finditer(text))
    return _replace(text, m, rng.choice(EXTREME_FLOATS)) if m else None


def mutate_type(rng, text, vocab):
    matches = []
    for m in _TYPE.finditer(text):
        before = text[m.start() - 1] if m.start() else " "
        before2 = text[m.start() - 2] if m.start() > 1 else " "
        if not (before.isalnum() or before == "_") or (
                before == "x" and (before2.isdigit() or before2 == "?")):
            matches.append(m)
    m = _pick(rng, matches)
    if not m:
        return None
    common = {"bf16": "index", "i32": "i1", "f32": "f16", "i1": "i32",
              "index": "i64", "f16": "bf16", "i64": "index"}
    new = common.get(m.group(1)) if rng.random() < 0.4 else None
    return _replace(text, m, new or rng.choice(TYPE_NAMES))


def mutate_shape(rng, text, vocab):
    m = _pick(rng, _SHAPED.finditer(text))
    if not m:
        return None
    dims = m.group(2).split("x")
    choice = rng.random()
    if choice < 0.6 and len(dims) > 1:
        dims[rng.randrange(len(dims) - 1)] = rng.choice(DIM_VALUES)
    elif choice < 0.75:
        dims.insert(rng.randrange(len(dims)), rng.choice(DIM_VALUES))
    elif choice < 0.9 and len(dims) > 1:
        del dims[rng.randrange(len(dims) - 1)]
    else:
        kind = rng.choice(["tensor", "vector", "memref"])
        return _replace(text, m, f"{kind}<{m.group(2)}>")
    return _replace(text, m, "x".join(dims), group=2)


def mutate_lines(rng, text, vocab):
    lines = text.splitlines()
    if not lines:
        return None
    i = rng.randrange(len(lines))
    op = rng.randrange(4)
    if op == 0:
        lines.insert(i, lines[i])
    elif op == 1:
        del lines[i]
    elif op == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines.insert(i, rng.choice(vocab.lines))
    return "\n".join(lines) + "\n"


def _attr_text(rng, vocab):
    if rng.random() < 0.5:
        return rng.choice(INSERTED_ATTRS)
    return rng.choice(vocab.attrs)


def mutate_insert_attr(rng, text, vocab):
    attr = _attr_text(rng, vocab)
    where = rng.randrange(4)
    if where == 0:
        m = _pick(rng, _ATTR_DICT.finditer(text))
        if m:
            return text[:m.end()] + attr + ", " + text[m.end():]
    if where <= 1:
        m = _pick(rng, _OP.finditer(text))
        if m:
            return text[:m.end()] + " {" + attr + "}" + text[m.end():]
    if where <= 2:
        m = _pick(rng, _FUNC_BODY.finditer(text))
        if m:
            brace = text.rindex("{", m.start(), m.end())
            return text[:brace] + "attributes {" + attr + "} " + text[brace:]
    return "module attributes {" + attr + "} {\n" + text + "\n}\n"


def mutate_mask(rng, text, vocab):
    m = _pick(rng, re.finditer(r"#attn\.\w+", text))
    if not m:
        return None
    end = m.end()
    if end < len(text) and text[end] == "<":
        end = _balanced_end(text, end, "<", ">") or end
    return text[:m.start()] + rng.choice(vocab.masks) + text[end:]


def mutate_ident(rng, text, vocab):
    m = _pick(rng, _IDENT.finditer(text))
    if not m:
        return None
    pool = vocab.idents.get(m.group(1)) or vocab.idents[""]
    return _replace(text, m, rng.choice(pool))


def mutate_truncate(rng, text, vocab):
    if not text:
        return None
    return text[:rng.randrange(len(text))]


def mutate_bracket(rng, text, vocab):
    positions = [i for i, c in enumerate(text) if c in BRACKETS]
    if not positions:
        return None
    i = rng.choice(positions)
    op = rng.randrange(3)
    if op == 0:
        return text[:i] + rng.choice(BRACKETS) + text[i + 1:]
    if op == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] * rng.choice([2, 3, 200]) + text[i:]


def mutate_bytes(rng, text, vocab):
    junk = rng.choice(["\x00", "\xff", "\u2028", "\"", "\\", "\x7f", "%",
                       "#", "@", "^", ":", "=", "->", "loc(", "{-#", "#-}",
                       "\ufeff", "\udced\udca0\udc80", "\udcff", "`", "'", "\t", "\r"])
    i = rng.randrange(len(text) + 1)
    return text[:i] + junk + text[i:]


def mutate_splice(rng, text, vocab):
    """Replaces a line range with lines of another spec."""
    lines = text.splitlines()
    if not lines:
        return None
    i = rng.randrange(len(lines))
    j = min(len(lines), i + rng.randrange(1, 4))
    start = rng.randrange(len(vocab.lines))
    lines[i:j] = vocab.lines[start:start + rng.randrange(1, 4)]
    return "\n".join(lines) + "\n"


def mutate_region_op(rng, text, vocab):
    m = _pick(rng, re.finditer(r"\b(arith|math)\.(\w+)", text))
    if not m:
        return None
    ops = ["addf", "subf", "mulf", "divf", "maximumf", "minimumf", "negf",
           "cmpi", "cmpf", "select", "andi", "ori", "xori", "addi", "subi",
           "muli", "divsi", "remsi", "index_cast", "sitofp", "fptosi",
           "constant", "exp", "log", "tanh", "sqrt", "rsqrt", "absf",
           "extf", "truncf", "bitcast"]
    return _replace(text, m, rng.choice(["arith", "math"]) + "." +
                    rng.choice(ops))


def mutate_predicate(rng, text, vocab):
    m = _pick(rng, re.finditer(r"(cmp[if]) (\w+),", text))
    if not m:
        return None
    preds = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt",
             "uge", "oeq", "olt", "uno", "true", "false", "bogus"]
    return _replace(text, m, rng.choice(preds), group=2)


def mutate_global_dim(rng, text, vocab):
    """Changes one dim everywhere it occurs in a shape (all 16 heads become
    3 heads, every ? becomes 5), so the types stay consistent and the spec
    may reach the lowerings."""
    dims = sorted({d for m in _SHAPED.finditer(text)
                   for d in m.group(2).split("x")[:-1]})
    if not dims:
        return None
    old = rng.choice(dims)
    new = rng.choice(["0", "1", "2", "3", "5", "7", "8", "17", "64", "65",
                      "256", "?", "1024", "2147483648", "4611686018427387904"])

    def fix(m):
        parts = m.group(2).split("x")
        parts[:-1] = [new if d == old else d for d in parts[:-1]]
        return f"{m.group(1)}<{'x'.join(parts)}>"
    return _SHAPED.sub(fix, text)


def mutate_global_type(rng, text, vocab):
    """Changes one element type everywhere in the shapes."""
    types = sorted({m.group(2).split("x")[-1] for m in _SHAPED.finditer(text)})
    if not types:
        return None
    old = rng.choice(types)
    new = rng.choice(["bf16", "f16", "f32", "f64", "i1", "i32", "i64",
                      "index", "f8E4M3FN"])

    def fix(m):
        parts = m.group(2).split("x")
        if parts[-1] == old:
            parts[-1] = new
        return f"{m.group(1)}<{'x'.join(parts)}>"
    return _SHAPED.sub(fix, text)


def mutate_small_int(rng, text, vocab):
    m = _pick(rng, _INT.finditer(text))
    return _replace(text, m, rng.choice(["0", "1", "2", "3", "4", "7", "16",
                                         "63", "64", "-1", "-3"])) \
        if m else None


def mutate_valid_attr(rng, text, vocab):
    m = _pick(rng, _ATTR_DICT.finditer(text))
    if not m:
        return None
    return text[:m.end()] + rng.choice(vocab.attrs) + ", " + text[m.end():]


# Mutations that often keep a spec valid, so it reaches the lowerings.
GENTLE_MUTATORS = [
    (mutate_global_dim, 4), (mutate_global_type, 2), (mutate_mask, 4),
    (mutate_small_int, 4), (mutate_valid_attr, 2), (mutate_predicate, 1),
    (mutate_region_op, 1),
]

MUTATORS = [
    (mutate_int, 6), (mutate_float, 3), (mutate_type, 4), (mutate_shape, 5),
    (mutate_lines, 4), (mutate_insert_attr, 6), (mutate_mask, 4),
    (mutate_ident, 3), (mutate_truncate, 1), (mutate_bracket, 2),
    (mutate_bytes, 1), (mutate_splice, 2), (mutate_region_op, 2),
    (mutate_predicate, 1),
]


def mutate_spec(rng, corpus, vocab):
    """(source name, mutated text, names of the mutations)."""
    gentle = rng.random() < 0.35
    if gentle:
        name, text = rng.choice([(n, t) for n, t in corpus
                                 if "invalid" not in n])
    else:
        name, text = rng.choices(corpus, vocab.weights)[0]
    if rng.random() < 0.9:
        text = strip_comments(text) + "\n"
    applied = []
    if gentle:
        count = rng.choice([1, 1, 2])
        functions, weights = zip(*GENTLE_MUTATORS)
        applied.append("gentle")
    else:
        count = 1 + min(int(rng.expovariate(0.8)), 5)
        functions, weights = zip(*MUTATORS)
    for _ in range(count):
        for _attempt in range(5):
            mutator = rng.choices(functions, weights)[0]
            new = mutator(rng, text, vocab)
            if new is not None and new != text:
                text = new
                applied.append(mutator.__name__[len("mutate_"):])
                break
    return name, text, applied


# ---------------------------------------------------------------------------
# Running commands

class Tools:
    def __init__(self, args):
        self.opt = args.attn_opt
        self.run = args.attn_run
        self.compile = args.attn_compile
        self.python_dir = args.python_dir
        self.source_dir = args.source_dir


class Result:
    def __init__(self, returncode, output, timed_out, seconds):
        self.returncode = returncode
        self.output = output
        self.timed_out = timed_out
        self.seconds = seconds


def run_command(argv, timeout, cwd=None, env=None, capture_stdout=True):
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
    except OSError as error:
        return Result(127, f"cannot run {argv[0]}: {error}", False, 0)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        timed_out = True
    text = (out or b"")[-200000:].decode("utf-8", "replace") + \
        (err or b"")[-200000:].decode("utf-8", "replace")
    return Result(proc.returncode, text, timed_out, time.monotonic() - start)


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.tools = Tools(args)
        self.seed = args.seed
        self.timeout = args.timeout
        self.root = os.path.join(args.work_dir, f"seed-{args.seed}")
        shutil.rmtree(self.root, ignore_errors=True)
        self.scratch = os.path.join(self.root, "scratch")
        self.failures_dir = os.path.join(self.root, "failures")
        os.makedirs(self.scratch)
        os.makedirs(self.failures_dir)
        self.lock = threading.Lock()
        self.runs = 0
        self.failures = []
        self.slow = []
        self.outcomes = {}  # kind: [exit 0, exit 1, failed]
        self.keep = False  # keep every case's files (--case)
        self.corpus = load_corpus(args.source_dir)
        self.vocab = Vocabulary(self.corpus)
        self.env = dict(os.environ)
        symbolizer = "/usr/lib/llvm-22/bin/llvm-symbolizer"
        if "LLVM_SYMBOLIZER_PATH" not in self.env and os.path.exists(symbolizer):
            self.env["LLVM_SYMBOLIZER_PATH"] = symbolizer
        self.env["ATTN_CACHE_DIR"] = os.path.join(self.root, "cache")
        for name in EXTRA_SPECS:
            self.example(name)  # written once, before the workers start

    def execute(self, argv, capture_stdout=True):
        """Runs argv with the per-run timeout; a run that times out runs
        again with three times as long, so a loaded machine is not taken for
        a hang."""
        result = run_command(argv, self.timeout, env=self.env,
                             capture_stdout=capture_stdout)
        if result.returncode == 127 and result.output.startswith("cannot run"):
            # The tool is missing, as while a build relinks it: wait a
            # little for it.
            for _ in range(120):
                if os.access(argv[0], os.X_OK):
                    break
                time.sleep(1)
            time.sleep(2)
            result = run_command(argv, self.timeout, env=self.env,
                                 capture_stdout=capture_stdout)
        if result.timed_out:
            print(f"fuzz: no answer in {self.timeout:g}s, running again for "
                  f"{self.timeout * 3:g}s: {shlex.join(argv)}", flush=True)
            result = run_command(argv, self.timeout * 3, env=self.env,
                                 capture_stdout=capture_stdout)
        return result

    def rng(self, kind, index):
        return random.Random(f"{self.seed}/{kind}/{index}")

    def case_dir(self, kind, index):
        path = os.path.join(self.scratch, f"{kind}-{index:06d}")
        os.makedirs(path, exist_ok=True)
        return path

    def record(self, kind, index, argv, result, files, note="", extra="",
               reason=None, sig_extra=""):
        """Counts a run; on failure copies its files and command to the
        failures folder and prints them."""
        reason = reason or classify(result.returncode, result.output,
                                    result.timed_out)
        with self.lock:
            self.runs += 1
            counts = self.outcomes.setdefault(kind, [0, 0, 0])
            counts[0 if result.returncode == 0 and reason is None else
                   1 if reason is None else 2] += 1
            if reason is None and result.seconds > self.timeout / 2:
                self.slow.append((kind, index, result.seconds,
                                  shlex.join(argv)))
        if self.keep:
            print(f"fuzz: {kind} case {index}: exit {result.returncode} in "
                  f"{result.seconds:.1f}s{' [' + note + ']' if note else ''}"
                  f"\n  command: {shlex.join(argv)}\n" +
                  "\n".join("  | " + l[:300]
                            for l in result.output.splitlines()[:40]))
        if reason is None:
            return None
        dest = os.path.join(self.failures_dir, f"{kind}-{index:06d}")
        os.makedirs(dest, exist_ok=True)
        mapping = {}
        for path in files:
            target = os.path.join(dest, os.path.basename(path))
            if os.path.isdir(path):
                shutil.copytree(path, target, dirs_exist_ok=True)
            elif os.path.exists(path):
                shutil.copy(path, target)
            mapping[path] = target
        shown = [mapping.get(a, a) for a in argv]
        for old, new in mapping.items():
            shown = [s.replace(old, new) for s in shown]
            extra = extra.replace(old, new)
        command = shlex.join(shown)
        with open(os.path.join(dest, "command.sh"), "w") as f:
            f.write("#!/bin/sh\n" + command + "\n")
        with open(os.path.join(dest, "output.txt"), "w") as f:
            f.write(result.output)
        sig = signature(reason, result.output) + sig_extra
        with self.lock:
            self.failures.append({"kind": kind, "index": index,
                                  "reason": reason, "signature": sig,
                                  "dir": dest, "command": command})
            print(f"FAIL {kind} case {index}: {reason} ({result.seconds:.1f}s)"
                  f"{' [' + note + ']' if note else ''}", flush=True)
            print(f"  command: {command}")
            if extra:
                print(f"  {extra}")
            print(f"  saved:   {dest}")
            for line in first_error_lines(result.output):
                print(f"  | {line[:300]}")
            sys.stdout.flush()
        return reason

    def drive(self, kind, seconds, case, jobs=None):
        """Runs case(index) for indices 0, 1, ... on the workers until the
        budget is spent."""
        jobs = jobs or self.args.jobs
        deadline = time.monotonic() + seconds
        counter = [0]
        counter_lock = threading.Lock()
        done = [0]

        def worker():
            while time.monotonic() < deadline:
                with counter_lock:
                    index = counter[0]
                    counter[0] += 1
                try:
                    case(index)
                except Exception:  # noqa: BLE001 - a bug of this script
                    self.harness_error(kind, index)
                with counter_lock:
                    done[0] += 1

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            for future in [pool.submit(worker) for _ in range(jobs)]:
                future.result()
        self.report_kind(kind, done[0], time.monotonic() - start)

    def harness_error(self, kind, index):
        import traceback
        with self.lock:
            self.runs += 1
            self.failures.append({"kind": kind, "index": index,
                                  "reason": "fuzz_tools.py error",
                                  "signature": "fuzz_tools.py error",
                                  "dir": "-", "command": "-"})
            print(f"FAIL {kind} case {index}: fuzz_tools.py itself failed:")
            print(traceback.format_exc(), flush=True)

    def report_kind(self, kind, cases, seconds):
        ok, refused, failed = self.outcomes.get(kind, [0, 0, 0])
        print(f"fuzz: {kind}: {cases} cases in {seconds:.1f}s: {ok} exit 0, "
              f"{refused} refused cleanly, {failed} failed", flush=True)

    # -- specs ---------------------------------------------------------------

    def pass_args(self, rng):
        def bq():
            return rng.choice(["0", "-1", "1", "3", "16", "64", "65",
                               "2147483648", "4611686018427387904"])
        options = [
            [], [], [], ["--attn-simplify-masks"], ["--attn-simplify-masks"],
            ["--attn-lower-to-reference"], ["--attn-lower-to-tiles"],
            ["--attn-lower-to-tiles"], ["--attn-lower-to-gpu"],
            ["--attn-lower-to-gpu"],
            ["--attn-simplify-masks", "--attn-lower-to-tiles"],
            ["--verify-roundtrip"], ["--mlir-print-op-generic"],
            ["--attn-lower-to-reference", "--attn-cpu-to-llvm"],
            ["--attn-lower-to-tiles", "--attn-cpu-to-llvm"],
            ["--attn-lower-to-gpu", "--attn-convert-nvgpu-to-nvvm"],
            ["--attn-to-ptx=chip=" + random_chip(rng)],
            [f"--attn-lower-to-tiles=block-queries={bq()} block-keys={bq()}"
             f" float-storage={rng.choice(['f32', 'f16', 'bf16', 'f64', 'i32', 'x'])}"],
            [f"--attn-lower-to-reference=float-storage="
             f"{rng.choice(['f32', 'f16', 'bf16', 'f64', 'i1', ''])}"],
            [f"--attn-lower-to-gpu=block-keys={bq()} threads="
             f"{rng.choice(['0', '1', '32', '33', '128', '1024', '-1', '4294967296'])}"
             f" half-storage={rng.choice(['bf16', 'f16', 'f32', 'x'])}"
             f" tensor-cores={rng.choice(['true', 'false'])}"],
        ]
        return rng.choice(options)

    def spec_case(self, index):
        rng = self.rng("specs", index)
        name, text, applied = mutate_spec(rng, self.corpus, self.vocab)
        folder = self.case_dir("specs", index)
        path = os.path.join(folder, "input.mlir")
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        tool = rng.random()
        if tool < 0.75:
            argv = [self.tools.opt] + self.pass_args(rng) + [path, "-o",
                                                             os.devnull]
        elif tool < 0.85:
            argv = [self.tools.compile, path, "--chip=" + random_chip(rng),
                    "-o", os.path.join(folder, "out.ptx")]
            if rng.random() < 0.3:
                argv.append("--half-storage=" + rng.choice(["bf16", "f16",
                                                            "f32"]))
            if rng.random() < 0.2:
                argv.append("--tensor-cores=false")
        elif gray_zone(text):
            # Valid but large static shapes would run for minutes.
            argv = [self.tools.opt, "--attn-lower-to-reference",
                    "--attn-cpu-to-llvm", path, "-o", os.devnull]
        else:
            argv = [self.tools.run, path, "--check", "--block-queries", "16",
                    "--block-keys", "16"] + self.small_sizes(name)
        result = self.execute(argv,
                             capture_stdout=argv[0] == self.tools.run)
        self.record("specs", index, argv, result, [path],
                    note=f"{name}: {', '.join(applied)}")
        if not self.keep:
            shutil.rmtree(folder, ignore_errors=True)

    def small_sizes(self, name):
        """The `// attn-run:` sizes of an example with lengths over 19 made
        19 (so captured tables keep matching), else b=1,n=17."""
        source = dict(self.corpus).get(name, "")
        m = re.search(r"^// attn-run: (.*)$", source, re.M)
        if not m:
            return ["--sizes", "b=1,n=17"]
        args = shlex.split(m.group(1))
        return [re.sub(r"\d+", lambda d: d.group(0) if int(d.group(0)) <= 19
                       else "19", a) for a in args]

    # -- sizes ---------------------------------------------------------------

    SIZE_SPECS = ["causal_gqa_lse", "gla", "transfusion_mask_mod", "alibi",
                  "document_mask", "block_sparse_flex", "deltanet",
                  "lolcats_hybrid", "neighborhood_2d", "gather_bias"]
    SIZE_VALUES = ["0", "1", "2", "17", "63", "2147483648", "1099511627776",
                   "4611686018427387904", "9223372036854775807",
                   "9223372036854775808", "-1", "1e3", "garbage", "", " 7",
                   "0x10", "99999999999999999999", "+5", "2x3", "1x0x5",
                   "4294967296"]

    def example(self, name):
        if name in EXTRA_SPECS:
            path = os.path.join(self.root, "extra", name + ".mlir")
            if not os.path.exists(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(EXTRA_SPECS[name])
            return path
        return os.path.join(self.tools.source_dir, "examples", name + ".mlir")

    def sizes_case(self, index):
        rng = self.rng("sizes", index)
        name = rng.choice(self.SIZE_SPECS)
        spec = self.example(name)
        names = ["b", "n", "nq", "nk", "h", "dk", "dv", "capture0",
                 "capture1", "query", "key", "value", "output", "zz", "",
                 "b", "n", "nq", "nk"]
        items = []
        for _ in range(rng.randint(1, 4)):
            key = rng.choice(names)
            def one():
                return rng.choice(["0", "1", "2", "5", "17", "63"]
                                  if rng.random() < 0.5 else self.SIZE_VALUES)
            if key.startswith("capture") or rng.random() < 0.1:
                value = "x".join(one() for _ in range(rng.randint(1, 3)))
            else:
                value = one()
            items.append(f"{key}={value}" if rng.random() < 0.95 else key)
        sep = "," if rng.random() < 0.9 else rng.choice([";", ",,", " ", "=="])
        sizes = sep.join(items)
        # A run whose sizes are all small and valid stays small: the work
        # is b * nq * nk * heads * dims.
        small = [int(v) for v in re.findall(r"(?<![\w-])\d+(?![\w])", sizes)]
        if small and max(small) <= 63 and not re.search(r"\d{3,}", sizes):
            sizes = re.sub(r"\bb=\d+", "b=" + rng.choice(["0", "1", "2"]),
                           sizes)
        argv = [self.tools.run, spec, "--sizes", sizes]
        if rng.random() < 0.6:
            argv.append("--check")
        if rng.random() < 0.25:
            argv += ["--block-queries", rng.choice(
                ["0", "-1", "1", "7", "16", "2147483648", "4611686018427387904"])]
        if rng.random() < 0.25:
            argv += ["--block-keys", rng.choice(
                ["0", "-1", "1", "7", "16", "2147483648", "4611686018427387904"])]
        if rng.random() < 0.05:
            argv += ["--op", rng.choice(["1", "4294967295", "-1"])]
        if rng.random() < 0.05:
            argv += ["--seed", rng.choice(["18446744073709551615",
                                           "18446744073709551616", "-1"])]
        if rng.random() < 0.05:
            argv += ["--tol", rng.choice(["nan", "-1", "inf"])]
        if rng.random() < 0.03:
            argv += ["--backend=cuda"]
        result = self.execute(argv)
        self.record("sizes", index, argv, result, [])

    # -- npy -----------------------------------------------------------------

    NPY_SPECS = {
        "causal_gqa_lse": "b=1,n=5",
        "gla": "b=1,n=5",
        "transfusion_mask_mod": "b=1,n=5,capture0=1x5",
        "alibi": "b=1,n=5",
        "document_mask": "b=1,n=5",
        "block_sparse_flex": "b=1,n=5",
        "deltanet": "b=1,n=5",
        "gather_bias": "b=1,n=5,capture0=1x5,capture1=4",
    }

    def prepare_npy(self):
        """Valid input files of each NPY spec, written by attn-run itself:
        {spec: (folder, [input names])}."""
        self.npy_bases = {}
        for name, sizes in self.NPY_SPECS.items():
            spec = self.example(name)
            if not os.path.exists(spec):
                continue
            folder = os.path.join(self.root, "npy-base", name)
            argv = [self.tools.run, spec, "--sizes", sizes,
                    "--write-outputs", folder]
            result = run_command(argv, self.timeout * 3, env=self.env)
            self.record("npy-setup", len(self.npy_bases), argv, result, [])
            if result.returncode != 0 or not os.path.isdir(folder):
                print(f"fuzz: npy: cannot write the inputs of {name}: "
                      f"{result.output.strip()[:300]}")
                continue
            # --write-outputs writes the outputs too; --inputs reads only the
            # inputs, --ref only the outputs.
            names = sorted(f[:-4] for f in os.listdir(folder)
                           if f.endswith(".npy"))
            self.npy_bases[name] = (folder, names)

    def npy_case(self, index):
        rng = self.rng("npy", index)
        if not self.npy_bases:
            return
        name = rng.choice(sorted(self.npy_bases))
        base, names = self.npy_bases[name]
        folder = self.case_dir("npy", index)
        inputs = os.path.join(folder, "inputs")
        shutil.copytree(base, inputs)
        notes = []
        ref = rng.random() < 0.1
        outputs = {"output", "lse", "final_state"}
        targets = [n for n in names if ref or n not in outputs]
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            target = rng.choice(targets)
            try:
                what = corrupt_npy(rng, os.path.join(inputs, target + ".npy"),
                                   names, inputs)
            except (ValueError, IndexError, OSError) as error:
                # An earlier corruption left nothing this one applies to.
                what = f"not corrupted further ({type(error).__name__})"
            notes.append(f"{target}: {what}")
        argv = [self.tools.run, self.example(name), "--inputs", inputs]
        if rng.random() < 0.5:
            argv.append("--check")
        if rng.random() < 0.15:
            argv += ["--sizes", rng.choice(["b=2", "n=7", "b=1,n=5",
                                            "nq=3,nk=5", "capture0=1x5",
                                            "b=9223372036854775807"])]
        if ref:
            argv += ["--ref", inputs]
        result = self.execute(argv)
        self.record("npy", index, argv, result, [inputs],
                    note=f"{name}: {'; '.join(notes)}")
        if not self.keep:
            shutil.rmtree(folder, ignore_errors=True)

    # -- python --------------------------------------------------------------

    def python_case(self, rng, index):
        """A JSON-able case for the Python worker."""
        choice = rng.random()
        if choice < 0.55:
            name, text, applied = mutate_spec(rng, self.corpus, self.vocab)
            return {"op": "verify", "text": text,
                    "note": f"{name}: {', '.join(applied)}"}
        if choice < 0.8:
            name, text, applied = mutate_spec(rng, self.corpus, self.vocab)
            return {"op": "compile", "text": text,
                    "backend": "cpu" if rng.random() < 0.85 else "cuda",
                    "chip": random_chip(rng),
                    "half_storage": rng.choice([None, None, "bf16", "f16",
                                                "f32"]),
                    "tensor_cores": rng.random() < 0.8,
                    "call": rng.random() < 0.5,
                    "arrays": rng.randrange(1 << 30),
                    "note": f"{name}: {', '.join(applied)}"}
        name = rng.choice(["causal_gqa_lse", "gla", "transfusion_mask_mod",
                           "alibi", "document_mask", "block_sparse_flex"])
        with open(self.example(name)) as f:
            text = f.read()
        if rng.random() < 0.2:
            chip = random_chip(rng)
            half = rng.choice([None, "bf16", "f16", "f32", "x"])
            return {"op": "compile", "text": text, "backend": "cuda",
                    "chip": chip, "half_storage": half,
                    "tensor_cores": rng.random() < 0.8,
                    "note": f"{name}: cuda, chip={chip!r}, "
                            f"half_storage={half!r}"}
        return {"op": "compile", "text": text, "backend": "cpu",
                "call": True, "arrays": rng.randrange(1 << 30),
                "note": f"{name}: bad arrays"}

    def python_phase(self, seconds, only=None):
        deadline = time.monotonic() + seconds
        counter = [0 if only is None else only]
        counter_lock = threading.Lock()
        done = [0]
        stopped = []
        env = dict(self.env)
        env["PYTHONPATH"] = self.tools.python_dir + (
            os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        script = os.path.join(self.root, "python_worker.py")
        with open(script, "w") as f:
            f.write(PYTHON_WORKER)

        def slot():
            worker = None
            while time.monotonic() < deadline or (only is not None
                                                  and counter[0] == only):
                with counter_lock:
                    index = counter[0]
                    counter[0] += 1
                case = self.python_case(self.rng("python", index), index)
                case["id"] = index
                if worker is None:
                    worker = PythonWorker(script, env)
                status, output, seconds_taken = worker.run(
                    case, self.timeout * 2)
                if status == "startup":
                    # The package does not even import: one failure, and no
                    # more cases.
                    worker.close()
                    with counter_lock:
                        if not stopped:
                            stopped.append(index)
                            self.record("python", index, [sys.executable],
                                        Result(1, output, False, 0), [],
                                        reason="the Python package does not "
                                        "import")
                    return
                with counter_lock:
                    done[0] += 1
                self.record_python(index, case, status, output,
                                   seconds_taken, script, env)
                if status not in ("ok", "refused"):
                    worker.close()
                    worker = None
            if worker:
                worker.close()

        start = time.monotonic()
        jobs = 1 if only is not None else self.args.jobs
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            for future in [pool.submit(slot) for _ in range(jobs)]:
                future.result()
        self.report_kind("python", done[0], time.monotonic() - start)

    def record_python(self, index, case, status, output, seconds, script,
                      env):
        folder = self.case_dir("python", index)
        spec = os.path.join(folder, "input.mlir")
        with open(spec, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(case["text"])
        replay = dict(case)
        replay.pop("text")
        replay["spec"] = "input.mlir"  # beside case.json
        case_file = os.path.join(folder, "case.json")
        with open(case_file, "w") as f:
            json.dump(replay, f)
        argv = ["env", "PYTHONPATH=" + env["PYTHONPATH"]]
        if env.get("ATTN_C_LIBRARY"):
            argv.append("ATTN_C_LIBRARY=" + env["ATTN_C_LIBRARY"])
        argv += [sys.executable, "-s", script, case_file]
        if status == "ok":
            returncode, timed_out = 0, False
        elif status == "refused":
            returncode, timed_out = 1, False
        elif status == "timeout":
            returncode, timed_out = 0, True
        elif status.startswith("exit "):
            returncode, timed_out = int(status.split()[1]), False
            if returncode in (0, 1):
                returncode = 3  # the worker must not exit within a case
        else:
            returncode, timed_out = 3, False
        reason = None
        if status == "unexpected":
            reason = "unexpected Python exception"
        elif status.startswith("exit "):
            code = int(status.split()[1])
            reason = "the Python process died: " + (
                classify(code, output, False) or f"exit {code}")
        extra = sig_extra = ""
        if status.startswith("exit "):
            # The process died: what do the tools say of the same spec?
            for tool in ([self.tools.opt, spec, "-o", os.devnull],
                         [self.tools.run, spec, "--sizes", "b=1,n=5"]):
                other = run_command(tool, self.timeout, env=self.env)
                why = classify(other.returncode, other.output,
                               other.timed_out)
                if why:
                    sig_extra = f" (as {os.path.basename(tool[0])}: " \
                        f"{signature(why, other.output)})"
                    extra = f"the same spec crashes {shlex.join(tool)}" \
                        f"{sig_extra}"
                    break
        result = Result(returncode, output, timed_out, seconds)
        self.record("python", index, argv, result, [spec, case_file, script],
                    note=case.get("note", ""), extra=extra, reason=reason,
                    sig_extra=sig_extra)
        if not self.keep:
            shutil.rmtree(folder, ignore_errors=True)

    # -- all -----------------------------------------------------------------

    def run_one(self, kind, index):
        """Runs one case and keeps its files (--case KIND:INDEX)."""
        self.keep = True
        if kind == "npy":
            self.prepare_npy()
        if kind == "python":
            self.python_phase(0, only=index)
        else:
            {"specs": self.spec_case, "sizes": self.sizes_case,
             "npy": self.npy_case}[kind](index)
        print(f"fuzz: the case's files are under {self.scratch}")

    def run_all(self):
        kinds = self.args.kinds
        shares = {"specs": 0.45, "sizes": 0.15, "npy": 0.15, "python": 0.25}
        total = sum(shares[k] for k in kinds)
        start = time.monotonic()
        for kind in kinds:
            elapsed = time.monotonic() - start
            left = self.args.seconds - elapsed
            share = self.args.seconds * shares[kind] / total
            seconds = max(1.0, min(share, left))
            if kind == "specs":
                self.drive("specs", seconds, self.spec_case)
            elif kind == "sizes":
                self.drive("sizes", seconds, self.sizes_case)
            elif kind == "npy":
                t0 = time.monotonic()
                self.prepare_npy()
                self.drive("npy", max(1.0, seconds - (time.monotonic() - t0)),
                           self.npy_case)
            elif kind == "python":
                self.python_phase(seconds)


# ---------------------------------------------------------------------------
# Malformed .npy files

NPY_MAGIC = b"\x93NUMPY"


def _npy_bytes(header, data, major=1):
    header = header.encode("latin1", "replace")
    prefix = len(NPY_MAGIC) + 2 + (2 if major == 1 else 4)
    pad = (-(prefix + len(header) + 1)) % 64
    header = header + b" " * pad + b"\n"
    length = (len(header).to_bytes(2, "little") if major == 1
              else len(header).to_bytes(4, "little"))
    return NPY_MAGIC + bytes([major, 0]) + length + header + data


def _header(descr, fortran, shape):
    return f"{{'descr': {descr!r}, 'fortran_order': {fortran}, " \
           f"'shape': {shape}, }}"


def corrupt_npy(rng, path, names, folder):
    """Rewrites the .npy file at `path` into one of many bad forms; returns
    what it did."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        array = np.load(path)
    except Exception:  # noqa: BLE001 - a file an earlier corruption broke
        array = np.zeros((1, 2), np.float32)
    # Files that reach the kernels (valid ones with odd shapes or values)
    # weigh more than the trivial ones (missing, a directory).
    weights = [1] * 22
    for i in (10, 12, 17, 18):
        weights[i] = 2
    for i in (13, 14, 15):
        weights[i] = 0.3
    choice = rng.choices(range(22), weights)[0]
    what = ""
    data = raw
    if choice == 0:
        cut = rng.randrange(len(raw))
        data, what = raw[:cut], f"truncated at byte {cut} of {len(raw)}"
    elif choice == 1:
        i = rng.randrange(6)
        data = raw[:i] + bytes([raw[i] ^ 0x20]) + raw[i + 1:]
        what = f"magic byte {i} flipped"
    elif choice == 2:
        major, minor = rng.choice([(0, 0), (3, 0), (4, 0), (1, 1), (2, 0),
                                   (255, 255), (3, 1)])
        data = raw[:6] + bytes([major, minor]) + raw[8:]
        what = f"version {major}.{minor} with the 1.0 layout"
    elif choice == 3:
        length = rng.choice([0, 1, 0xFFFF, len(raw), len(raw) - 9])
        data = raw[:8] + max(0, min(length, 0xFFFF)).to_bytes(2, "little") + \
            raw[10:]
        what = f"header length {length}"
    elif choice == 4:
        # Version 3.0: a 4-byte length, maybe past the end of the file.
        header_end = raw.index(b"\n", 10) + 1
        header = raw[10:header_end]
        length = rng.choice([len(header), 0xFFFFFFFF, 0x7FFFFFFF,
                             len(raw) * 4])
        data = NPY_MAGIC + bytes([rng.choice([2, 3]), 0]) + \
            length.to_bytes(4, "little") + header + raw[header_end:]
        what = f"version 2/3 header length {length}"
    elif choice == 5:
        descr = rng.choice(["<f4", "<f8", "<f2", "|b1", "|i1", "<i4", "<i8",
                            ">f4", ">i8", "<u4", "<c8", "|O", "<U3", "f4",
                            "<f16", "", "<f4<f4", "'", "|V8", "<M8[s]"])
        data = _npy_bytes(_header(descr, False, tuple(array.shape)),
                          array.tobytes())
        what = f"descr {descr!r} over the original bytes"
    elif choice == 6:
        dims = [rng.choice([0, 1, 2, 5, -1, 2 ** 31, 2 ** 62, 2 ** 63 - 1,
                            2 ** 63, 2 ** 64, 10 ** 30, -(2 ** 63)])
                for _ in range(rng.randint(0, 6))]
        shape = tuple(dims)
        data = _npy_bytes(_header("<f4", False, shape),
                          array.tobytes()[:rng.choice([0, 4, 64, 4096])])
        what = f"shape {shape}"
    elif choice == 7:
        header = rng.choice([
            "{}", "{'descr': '<f4'}", "{'descr': '<f4', 'shape': (2,)}",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (None,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ((1,),)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
            "1, " * 5000 + ")}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
            "9" * 400 + ",)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-0,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (0x10,)}",
            "{'descr': \"<f4\", 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4\\x00', 'fortran_order': False, 'shape': (1,)}",
            "{" * 3000, "}" * 10, "\x00" * 40, "'" * 7,
            "{'descr': '\u00e9', 'fortran_order': False, 'shape': (1,)}",
        ])
        data = _npy_bytes(header, b"\x00" * 4 * rng.choice([0, 1, 2]),
                          major=rng.choice([1, 2]))
        what = f"header {header[:60]!r}"
    elif choice == 8:
        if array.ndim >= 2 and array.shape[-1] > 1 and array.shape[-2] > 1:
            np.save(path, np.asfortranarray(array))
            return "Fortran order"
        np.save(path, array)
        with open(path, "rb") as f:
            raw = f.read()
        data = raw.replace(b"'fortran_order': False", b"'fortran_order': True ")
        what = "fortran_order True on a 1-wide array"
    elif choice == 9:
        dtype = rng.choice([np.float64, np.float16, np.int32, np.int64,
                            np.int8, np.bool_, np.uint8, np.complex64,
                            np.uint64])
        np.save(path, array.astype(dtype))
        return f"dtype {np.dtype(dtype).name}"
    elif choice == 10:
        if array.ndim == 0:
            return "skipped (scalar)"
        axis = rng.randrange(array.ndim)
        shape = list(array.shape)
        shape[axis] = rng.choice([0, 1, 2, max(0, shape[axis] - 1),
                                  shape[axis] + 1, 7])
        np.save(path, np.resize(array, shape).astype(array.dtype))
        return f"shape {tuple(array.shape)} -> {tuple(shape)}"
    elif choice == 11:
        shape = rng.choice([(), (5,), tuple(array.shape) + (1,),
                            tuple(array.shape[1:]), (1,) * 9])
        np.save(path, np.resize(array, shape).astype(array.dtype))
        return f"rank: shape {shape}"
    elif choice == 12:
        filled = array.copy()
        if filled.dtype.kind == "f":
            value = rng.choice([np.nan, np.inf, -np.inf, 3e38, -0.0, 1e-45])
        else:
            info = np.iinfo(filled.dtype) if filled.dtype.kind in "iu" else None
            value = rng.choice([info.max, info.min, -1, 2 ** 20]
                               if info else [1])
        flat = filled.reshape(-1)
        if flat.size:
            which = rng.sample(range(flat.size), min(flat.size,
                                                     rng.choice([1, 3, 1000])))
            flat[which] = value
        np.save(path, filled)
        return f"values set to {value}"
    elif choice == 13:
        os.remove(path)
        return "missing"
    elif choice == 14:
        os.remove(path)
        os.mkdir(path)
        return "a directory"
    elif choice == 15:
        data, what = b"", "empty"
    elif choice == 16:
        data = raw + b"\x00" * rng.choice([1, 4, 4096])
        what = "trailing bytes"
    elif choice == 17:
        # A mismatch between tensors: every input with its first dim (the
        # batch) changed.
        new_b = rng.choice([0, 2, 3])
        for other in names:
            other_path = os.path.join(folder, other + ".npy")
            try:
                a = np.load(other_path)
            except Exception:  # noqa: BLE001
                continue
            if a.ndim:
                np.save(other_path, np.resize(a, (new_b,) + a.shape[1:])
                        .astype(a.dtype))
        return f"every batch {new_b}"
    elif choice == 18:
        # The same tensor's length in all files changed (nq = nk = new).
        new_n = rng.choice([0, 1, 3, 70])
        for other in names:
            other_path = os.path.join(folder, other + ".npy")
            try:
                a = np.load(other_path)
            except Exception:  # noqa: BLE001
                continue
            if a.ndim >= 3:
                shape = list(a.shape)
                shape[2] = new_n
            elif a.ndim == 2:
                shape = [a.shape[0], new_n]
            else:
                continue
            # An earlier corruption may have left a file whose leading
            # dimension is huge: resizing it would exhaust the fuzzer's
            # own memory (seed 2027, npy case 119), so leave it as it is.
            if math.prod(shape) * a.itemsize > 2 ** 28:
                continue
            np.save(other_path, np.resize(a, shape).astype(a.dtype))
        return f"every length {new_n}"
    elif choice == 19:
        data = NPY_MAGIC + b"\x01\x00" + b"\xff\xff" + b"{" + b"x" * 10
        what = "header length 65535 past EOF"
    elif choice == 20:
        header = _header("<f4", False, (2 ** 31, 2 ** 31, 2 ** 2))
        data = _npy_bytes(header, b"")
        what = "a shape whose bytes overflow int64"
    else:
        header = _header(rng.choice(["<i4", "<i8", "|i1", "|b1"]), False,
                         tuple(array.shape))
        count = int(np.prod(array.shape)) if array.ndim else 1
        width = {"<i4": 4, "<i8": 8, "|i1": 1, "|b1": 1}
        descr = header.split("'")[3]
        values = np.full(count, rng.choice([-1, 2 ** 31 - 1, -(2 ** 31),
                                            2 ** 40, 255]), dtype=np.int64)
        data = _npy_bytes(header, values.astype(
            {"<i4": "<i4", "<i8": "<i8", "|i1": "i1", "|b1": "u1"}[descr],
            casting="unsafe").tobytes()[:count * width[descr]])
        what = f"integers {descr} out of range"
    with open(path, "wb") as f:
        f.write(data)
    return what


# ---------------------------------------------------------------------------
# The Python package, in a worker process

PYTHON_WORKER = r'''
import faulthandler, json, os, random, sys, traceback
import numpy as np
faulthandler.enable()
import attn

EXPECTED = (attn.AttnError, ValueError, TypeError, OverflowError,
            MemoryError, attn.TraceError, UnicodeError)

def arrays_for(kernel, seed):
    """Inputs for `kernel`: right ones, or bad in one of many ways."""
    rng = random.Random(seed)
    mode = rng.randrange(12)
    b, n = rng.choice([(1, 5), (2, 3), (0, 4), (1, 0), (1, 1)])
    out = {}
    total = 0
    for a in kernel.inputs:
        count = 1
        for d in a.get("shape", []):
            count *= d if d >= 0 else 5
        total += count
    if total > 1 << 22:
        return None, "not run: the inputs are too large to run quickly"
    for a in kernel.inputs:
        dims = []
        for d, symbol in zip(a.get("shape", []), a.get("dims", [])):
            if d >= 0:
                dims.append(d)
            elif symbol == "B":
                dims.append(b)
            elif symbol == "QB":
                dims.append((n + 63) // 64)
            else:
                dims.append(n)
        # AttnDType codes: f32 f64 f16 bf16 i1 i8 i32 i64.
        dtype = [np.float32, np.float64, np.float16, np.float32, np.bool_,
                 np.int8, np.int32, np.int64][a["dtype"]]
        x = np.zeros(dims, dtype=dtype)
        if dtype != np.bool_:
            x += np.asarray(np.random.default_rng(seed).standard_normal(
                x.shape) if x.dtype.kind == "f" else 0, dtype=x.dtype)
        out[a["name"]] = x
    names = list(out)
    if not names:
        return out, "no inputs"
    victim = rng.choice(names)
    x = out[victim]
    what = f"{victim}: "
    if mode == 0:
        what += "as described"
    elif mode == 1:
        out[victim] = x.astype(rng.choice([np.float64, np.int32, np.float16,
                                           np.bool_, np.complex64, np.uint8]))
        what += f"dtype {out[victim].dtype}"
    elif mode == 2:
        out[victim] = x.reshape(x.shape + (1,))
        what += "rank + 1"
    elif mode == 3:
        out[victim] = np.zeros(x.shape[1:], x.dtype)
        what += "rank - 1"
    elif mode == 4:
        shape = (2 ** 40,) + x.shape[1:]
        out[victim] = np.lib.stride_tricks.as_strided(
            np.zeros(1, x.dtype), shape, (0,) * len(shape))
        what += f"broadcast shape {shape}"
    elif mode == 5 and x.ndim:
        out[victim] = np.repeat(x, 2, axis=0)[::2]
        what += "non-contiguous"
    elif mode == 6 and x.ndim:
        out[victim] = x[::-1]
        what += "negative strides"
    elif mode == 7:
        shape = list(x.shape)
        if shape:
            shape[rng.randrange(len(shape))] = rng.choice([0, 7, 64])
        out[victim] = np.zeros(shape, x.dtype)
        what += f"shape {tuple(shape)}"
    elif mode == 8:
        out[victim] = "not an array"
        what += "a string"
    elif mode == 9 and x.dtype.kind == "f":
        x[...] = rng.choice([np.nan, np.inf, 1e38])
        what += "non-finite values"
    elif mode == 10 and x.dtype.kind in "iu":
        x[...] = rng.choice([-1, 2 ** 31 - 1, -(2 ** 31), 1000])
        what += "integers out of range"
    elif mode == 11:
        ro = x.copy()
        ro.flags.writeable = False
        out[victim] = ro
        what += "read-only"
    else:
        what += "as described"
    return out, what


def run(case):
    text = case["text"]
    if case["op"] == "verify":
        attn.verify(text)
        return "verified"
    if case.get("backend") == "cuda":
        kernel = attn.compile(text, backend="cuda", chip=case["chip"],
                              half_storage=case.get("half_storage"),
                              tensor_cores=case.get("tensor_cores", True))
    else:
        kernel = attn.compile(text, backend="cpu")
    if not case.get("call") or kernel.backend != "cpu":
        return "compiled"
    arrays, what = arrays_for(kernel, case.get("arrays", 0))
    sys.stdout.write(f"NOTE {case['id']} {what}\n")
    sys.stdout.flush()
    if arrays is None:
        return what
    kernel(**arrays)
    return "ran: " + what


def main():
    if len(sys.argv) > 1:
        # Replay one saved case: python_worker.py case.json
        with open(sys.argv[1]) as f:
            case = json.load(f)
        spec = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])),
                            case.pop("spec"))
        with open(spec, encoding="utf-8", errors="surrogateescape") as f:
            case["text"] = f.read()
        case.setdefault("id", 0)
        try:
            print(run(case))
        except EXPECTED as e:
            print(f"{type(e).__name__}: {e}")
        return
    for line in sys.stdin:
        case = json.loads(line)
        sys.stdout.write(f"BEGIN {case['id']}\n")
        sys.stdout.flush()
        try:
            status = "ok " + run(case)
        except EXPECTED as e:
            status = f"refused {type(e).__name__}: {str(e)[:300]!r}"
        except Exception as e:
            status = "unexpected " + "".join(
                traceback.format_exception(e)).replace("\n", "\\n")
        # The memory cache keeps every kernel (and its JIT's threads): a
        # process that compiles thousands of specs must empty it.
        attn.clear_memory_cache()
        sys.stdout.write(f"END {case['id']} {status}\n")
        sys.stdout.flush()
        sys.stderr.flush()


main()
'''


class PythonWorker:
    """A Python process that runs cases one at a time from stdin."""

    def __init__(self, script, env):
        self.proc = subprocess.Popen(
            [sys.executable, "-s", script], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            start_new_session=True)
        self.lines = queue.Queue()
        self.stderr = []
        self.stderr_lock = threading.Lock()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def _read_stderr(self):
        for line in self.proc.stderr:
            with self.stderr_lock:
                self.stderr.append(line.decode("utf-8", "replace"))

    def run(self, case, timeout):
        """(status, output, seconds): status is ok, timeout, exit N,
        unexpected."""
        with self.stderr_lock:
            start_err = len(self.stderr)
        start = time.monotonic()
        notes = []
        try:
            self.proc.stdin.write((json.dumps(case) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        deadline = start + timeout
        status = None
        began = False
        while status is None:
            left = deadline - time.monotonic()
            if left <= 0:
                status = "timeout"
                break
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait()
                status = f"exit {self.proc.returncode}" if began else "startup"
            elif line == f"BEGIN {case['id']}":
                began = True
            elif line.startswith(f"END {case['id']} "):
                rest = line[len(f"END {case['id']} "):]
                status = rest.split(" ", 1)[0]
                notes.append(rest.replace("\\n", "\n"))
            elif line.startswith("NOTE "):
                notes.append(line)
        if status.startswith("exit") or status == "startup":
            time.sleep(0.2)  # let the stderr reader drain
        with self.stderr_lock:
            err = "".join(self.stderr[start_err:])
        return status, "\n".join(notes) + "\n" + err, time.monotonic() - start

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc)
            self.proc.wait()


# ---------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.normpath(os.path.join(here, "..", ".."))
    parser.add_argument("--bin-dir", default=os.path.join(source, "build",
                                                          "bin"))
    parser.add_argument("--attn-opt")
    parser.add_argument("--attn-run")
    parser.add_argument("--attn-compile")
    parser.add_argument("--source-dir", default=source)
    parser.add_argument("--python-dir")
    parser.add_argument("--work-dir")
    env = os.environ.get
    parser.add_argument("--seed", type=int,
                        default=int(env("ATTN_FUZZ_SEED", "11")))
    parser.add_argument("--seconds", type=float,
                        default=float(env("ATTN_FUZZ_SECONDS", "50")))
    parser.add_argument("--jobs", type=int,
                        default=int(env("ATTN_FUZZ_JOBS", "2")))
    parser.add_argument("--timeout", type=float,
                        default=float(env("ATTN_FUZZ_TIMEOUT", "10")))
    parser.add_argument("--kinds",
                        default=env("ATTN_FUZZ_KINDS", "specs,sizes,npy,python"))
    parser.add_argument("--case", help="run only case KIND:INDEX of the "
                        "seed and keep its files, e.g. specs:95")
    parser.add_argument("--memory-mb", type=int,
                        default=int(env("ATTN_FUZZ_MEMORY_MB", "4096")))
    args = parser.parse_args()
    args.attn_opt = args.attn_opt or os.path.join(args.bin_dir, "attn-opt")
    args.attn_run = args.attn_run or os.path.join(args.bin_dir, "attn-run")
    args.attn_compile = args.attn_compile or os.path.join(args.bin_dir,
                                                          "attn-compile")
    args.python_dir = args.python_dir or os.path.join(args.source_dir,
                                                      "python-bindings")
    args.work_dir = args.work_dir or os.path.join(
        os.path.dirname(os.path.abspath(args.attn_opt)), "..", "test", "fuzz")
    args.work_dir = os.path.abspath(args.work_dir)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for kind in args.kinds:
        if kind not in ("specs", "sizes", "npy", "python"):
            parser.error(f"unknown kind '{kind}'")
    return args


def main():
    args = parse_args()
    for tool in (args.attn_opt, args.attn_run, args.attn_compile):
        if not os.access(tool, os.X_OK):
            print(f"fuzz: error: {tool} is not an executable")
            return 1
    if args.memory_mb > 0:
        # Every run inherits this limit: an absurd size that is allocated
        # fails at once instead of paging the machine out.
        limit = args.memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    print(f"fuzz: seed {args.seed} (ATTN_FUZZ_SEED), {args.seconds:g}s "
          f"(ATTN_FUZZ_SECONDS), {args.jobs} jobs, {args.timeout:g}s per run, "
          f"kinds {','.join(args.kinds)}", flush=True)
    fuzzer = Fuzzer(args)
    print(f"fuzz: {len(fuzzer.corpus)} seed specs; work dir {fuzzer.root}",
          flush=True)
    start = time.monotonic()
    if args.case:
        kind, index = args.case.split(":")
        fuzzer.run_one(kind, int(index))
    else:
        fuzzer.run_all()
    elapsed = time.monotonic() - start
    for kind, index, seconds, command in fuzzer.slow:
        print(f"fuzz: slow ({seconds:.1f}s, not a failure): {kind} case "
              f"{index}: {command}")
    if fuzzer.failures:
        groups = {}
        for failure in fuzzer.failures:
            groups.setdefault(failure["signature"], []).append(failure)
        print(f"fuzz: {len(groups)} distinct failures:")
        for sig, members in groups.items():
            print(f"  {len(members)}x {sig}")
            print(f"      e.g. {members[0]['dir']}")
    print(f"fuzz: {fuzzer.runs} runs, {len(fuzzer.failures)} failures "
          f"(seed {args.seed}) in {elapsed:.0f}s; failing inputs in "
          f"{fuzzer.failures_dir}" if fuzzer.failures else
          f"fuzz: {fuzzer.runs} runs, 0 failures (seed {args.seed}) in "
          f"{elapsed:.0f}s")
    return 1 if fuzzer.failures else 0


if __name__ == "__main__":
    sys.exit(main())
