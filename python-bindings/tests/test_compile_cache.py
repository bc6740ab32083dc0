"""attn.compile and the compile caches."""

import os

import numpy as np
import pytest

import attn

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
EXAMPLE = os.path.join(ROOT, "examples", "causal_gqa_lse.mlir")


def test_compile_from_path_describes_the_kernel():
    kernel = attn.compile(EXAMPLE, backend="cpu")
    assert kernel.input_names == ["query", "key", "value"]
    assert [a["name"] for a in kernel.outputs] == ["output", "lse"]
    assert kernel.backend == "cpu"


def test_second_compile_hits_memory():
    attn.compile(EXAMPLE, backend="cpu")
    before = attn.cache_stats()
    kernel = attn.compile(EXAMPLE, backend="cpu")
    after = attn.cache_stats()
    assert after["memory_hits"] == before["memory_hits"] + 1
    assert after["compiles"] == before["compiles"]
    assert kernel is attn.compile(EXAMPLE, backend="cpu")


def test_options_are_part_of_the_key():
    a = attn.compile(EXAMPLE, backend="cuda", chip="sm_80")
    b = attn.compile(EXAMPLE, backend="cuda", chip="sm_90a")
    c = attn.compile(EXAMPLE, backend="cuda", chip="sm_90a",
                     tensor_cores=False)
    assert a is not b and b is not c
    assert ".target sm_80" in a.ptx() and ".target sm_90a" in b.ptx()
    assert "mma.sync" in b.ptx() and "mma.sync" not in c.ptx()


DENSE = """
func.func @dense(%q: tensor<?x4x?x{d}xbf16>, %k: tensor<?x4x?x{d}xbf16>,
                 %v: tensor<?x4x?x{d}xbf16>) -> tensor<?x4x?x{d}xbf16> {{
  %o = attn.attention %q, %k, %v
      : tensor<?x4x?x{d}xbf16>, tensor<?x4x?x{d}xbf16>,
        tensor<?x4x?x{d}xbf16> -> tensor<?x4x?x{d}xbf16>
  return %o : tensor<?x4x?x{d}xbf16>
}}
"""


@pytest.mark.parametrize("d, rows", [(64, 128), (128, 128), (256, 64)])
def test_tensor_core_attention_rows_follow_the_head_dim(d, rows):
    # The flash tile program's block of 4 warps holds 128 query rows while
    # their scores and accumulator fit in registers (Dv <= 128), else 64.
    kernel = attn.compile(DENSE.format(d=d), backend="cuda", chip="sm_90a")
    assert "mma.sync" in kernel.ptx()
    assert kernel.description["block_queries"] == rows


def test_cuda_ptx_is_cached_on_disk(tmp_path):
    kernel = attn.compile(EXAMPLE, backend="cuda")
    files = os.listdir(os.environ["ATTN_CACHE_DIR"])
    assert len(files) == 1 and files[0].endswith(".ptx")
    attn.clear_memory_cache()
    before = attn.cache_stats()
    again = attn.compile(EXAMPLE, backend="cuda")
    after = attn.cache_stats()
    assert after["disk_hits"] == before["disk_hits"] + 1
    assert after["compiles"] == before["compiles"]
    assert again.ptx() == kernel.ptx()
    assert again.description["block_queries"] == 128


def test_new_capture_values_need_no_recompile():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 4, 9, 16)).astype(np.float32)
    outs = []
    before = attn.cache_stats()
    for scale in (0.5, 2.0):
        slopes = (scale * np.arange(1, 5)).astype(np.float32)
        outs.append(attn.attention(q, q, q, score_mod=lambda s, b, h, i, j:
                                   s - attn.capture(slopes)[h] * (i - j),
                                   mask="causal"))
    after = attn.cache_stats()
    assert after["compiles"] == before["compiles"] + 1
    assert after["memory_hits"] == before["memory_hits"] + 1
    assert not np.allclose(outs[0], outs[1])


def test_compile_takes_a_pathlib_path():
    import pathlib
    kernel = attn.compile(pathlib.Path(EXAMPLE), backend="cpu")
    assert kernel is attn.compile(EXAMPLE, backend="cpu")
