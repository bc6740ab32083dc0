// Impossible sizes, captured tensors too small for the indices that read
// them, NaN in checked outputs and unsupported .npy versions end attn-run
// with a clear message and exit code 1 (`not` fails on a crash or an
// abort), before anything is allocated or run; sizes the spec fixes need not
// be given.

// Sizes whose tensors no machine holds: refused before allocating (LLVM's
// allocator used to abort with "LLVM ERROR: out of memory").
// RUN: not attn-run %examples/causal_gqa_lse.mlir --sizes b=1,n=1099511627776 2>&1 | FileCheck %s --check-prefix=HUGE-N
// HUGE-N: attn-run: error: holding the arguments (20.1 PiB (22588366881030144 bytes)) 2 times needs 40.1 PiB (45176733762060288 bytes) of host memory, more than this machine's {{.*}}
// RUN: not attn-run %examples/causal_gqa_lse.mlir --sizes b=1099511627776 2>&1 | FileCheck %s --check-prefix=HUGE-B
// HUGE-B: attn-run: error: holding the arguments (2.0 EiB (2258836688103014400 bytes)) 2 times needs 3.9 EiB (4517673376206028800 bytes) of host memory
// RUN: not attn-run %examples/causal_gqa_lse.mlir --sizes b=65536,n=65536 2>&1 | FileCheck %s --check-prefix=HUGE-BN
// HUGE-BN: attn-run: error: holding the arguments (80.2 TiB (88235808129024 bytes)) 2 times needs 160.5 TiB (176471616258048 bytes) of host memory
// RUN: not attn-run %examples/transfusion_mask_mod.mlir --sizes b=1,n=64,capture0=1x1099511627776 2>&1 | FileCheck %s --check-prefix=HUGE-CAPTURE
// HUGE-CAPTURE: attn-run: error: holding the arguments (4.0 TiB (4398050705408 bytes)) 2 times needs 8.0 TiB (8796101410816 bytes) of host memory

// Sizes whose byte counts overflow 64 bits (2^62 used to wrap to 0 bytes
// and spin).
// RUN: not attn-run %examples/causal_gqa_lse.mlir --sizes b=1,n=9223372036854775807 2>&1 | FileCheck %s --check-prefix=WRAP-MAX
// WRAP-MAX: attn-run: error: query would have shape [1, 16, 9223372036854775807, 128]: more elements than a 64-bit byte count holds
// RUN: not attn-run %examples/causal_gqa_lse.mlir --sizes b=1,n=4611686018427387904 2>&1 | FileCheck %s --check-prefix=WRAP-ZERO
// WRAP-ZERO: attn-run: error: query would have shape [1, 16, 4611686018427387904, 128]: more elements than a 64-bit byte count holds
// RUN: not attn-run %s --op 0 --sizes b=1,n=64,capture0=4611686018427387904 2>&1 | FileCheck %s --check-prefix=WRAP-CAPTURE
// WRAP-CAPTURE: attn-run: error: capture0 would have shape [4611686018427387904]: more elements than a 64-bit byte count holds

// Tile sizes beyond kMaxBlockSize are refused (a 2^31-query tile used to
// crash the tiled kernel's buffers), and a problem whose outputs are all
// empty runs nothing, however large the batch (it used to loop for minutes).
// RUN: not attn-run %examples/causal_gqa_lse.mlir --sizes n=1 --check --block-queries 2147483648 2>&1 | FileCheck %s --check-prefix=HUGE-TILE
// HUGE-TILE: attn-run: error: --block-queries must lie in [1, 16384], got 2147483648
// RUN: not attn-run %examples/alibi.mlir --check --block-keys 4611686018427387904 2>&1 | FileCheck %s --check-prefix=HUGE-KEY-TILE
// HUGE-KEY-TILE: attn-run: error: --block-keys must lie in [1, 16384], got 4611686018427387904
// RUN: attn-run %examples/causal_gqa_lse.mlir --check --sizes b=4611686018427387904,n=0 | FileCheck %s --check-prefix=EMPTY-HUGE-BATCH
// EMPTY-HUGE-BATCH: output[4611686018427387904, 16, 0, 128] lse[4611686018427387904, 16, 0] (every output is empty: nothing to run)
// RUN: attn-run %examples/gla.mlir --check --sizes b=4294967296,nq=0 | FileCheck %s --check-prefix=EMPTY-LINEAR
// EMPTY-LINEAR: (every output is empty: nothing to run)
// No batch and a huge length: the block mask's check allocated one entry
// per key block before finding there was no query block to check (fuzz
// seed 2027: "LLVM ERROR: out of memory").
// RUN: attn-run %examples/block_sparse_flex.mlir --check --sizes b=0,n=4611686018427387904 | FileCheck %s --check-prefix=EMPTY-BLOCK-MASK
// EMPTY-BLOCK-MASK: kv_indices[0, 32, 72057594037927936, 72057594037927936] {{.*}} (every output is empty: nothing to run)

// A captured tensor read at (b, i) and (b, j) needs B x max(Nq, Nk)
// entries; given smaller, it is refused, and not given, it defaults to that.
// RUN: not attn-run %examples/transfusion_mask_mod.mlir --sizes b=1,n=64,capture0=1x1 2>&1 | FileCheck %s --check-prefix=CAPTURE-SMALL
// CAPTURE-SMALL: attn-run: error: capture0 dim 1 is indexed by the query index i, so it needs at least Nq = 64 entries, got 1
// RUN: not attn-run %examples/transfusion_mask_mod.mlir --sizes b=2,n=64,capture0=1x64 2>&1 | FileCheck %s --check-prefix=CAPTURE-BATCH
// CAPTURE-BATCH: attn-run: error: capture0 dim 0 is indexed by the batch index b, so it needs at least B = 2 entries, got 1
// RUN: not attn-run %examples/transfusion_mask_mod.mlir --sizes b=1,nq=20,nk=30,capture0=1x20 2>&1 | FileCheck %s --check-prefix=CAPTURE-KEYS
// CAPTURE-KEYS: attn-run: error: capture0 dim 1 is indexed by the key index j, so it needs at least Nk = 30 entries, got 20
// RUN: attn-run %examples/transfusion_mask_mod.mlir --sizes b=2,nq=19,nk=13 | FileCheck %s --check-prefix=CAPTURE-DEFAULT
// CAPTURE-DEFAULT: query[2, 32, 19, 128] key[2, 32, 13, 128] value[2, 32, 13, 128] capture0[2, 19] output[2, 32, 19, 128]
// A computed index says nothing of the size; an empty tensor has nothing to
// read at any index.
// RUN: not attn-run %s --op 0 --sizes b=1,n=5 2>&1 | FileCheck %s --check-prefix=CAPTURE-COMPUTED
// CAPTURE-COMPUTED: attn-run: error: dim 0 of capture0 is dynamic; give its shape
// RUN: not attn-run %s --op 0 --sizes b=1,n=5,capture0=0 2>&1 | FileCheck %s --check-prefix=CAPTURE-EMPTY
// CAPTURE-EMPTY: attn-run: error: capture0 has shape [0] with no elements, but a region of the spec reads it with tensor.extract
// RUN: attn-run %s --op 0 --sizes b=1,n=5,capture0=1 --check | FileCheck %s --check-prefix=CAPTURE-ONE
// CAPTURE-ONE: capture0[1] output[1, 2, 5, 8] max_rel_err=

// A neighborhood grid fixes the sequence length: nothing to give.
// RUN: attn-run %s --op 1 --sizes b=1 --check | FileCheck %s --check-prefix=GRID
// GRID: query[1, 2, 24, 8] key[1, 2, 24, 8] value[1, 2, 24, 8] output[1, 2, 24, 8] max_rel_err=

// NaN inputs give NaN outputs on both sides: a check that compares nothing
// fails, and says so.
// RUN: rm -rf %t && attn-run %s --op 2 --sizes b=1,n=5 --write-outputs %t
// RUN: python3 %S/Inputs/edit_npy.py %t/query.npy fill nan
// RUN: python3 %S/Inputs/edit_npy.py %t/key.npy fill nan
// RUN: python3 %S/Inputs/edit_npy.py %t/value.npy fill nan
// RUN: not attn-run %s --op 2 --inputs %t --check 2>&1 | FileCheck %s --check-prefix=ALL-NAN
// ALL-NAN-DAG: output[1, 2, 5, 8] max_rel_err=nan (output) tol=1.0e-04 nan_matched=80
// ALL-NAN-DAG: attn-run: error: max_rel_err nan: output: no position is finite on both sides and 80 are NaN on both, so the check compared nothing
// A NaN on one side only fails, naming where.
// RUN: rm -rf %t.ref && attn-run %s --op 2 --sizes b=1,n=5 --write-outputs %t.ref
// RUN: python3 %S/Inputs/edit_npy.py %t.ref/output.npy set 13 nan
// RUN: not attn-run %s --op 2 --sizes b=1,n=5 --ref %t.ref 2>&1 | FileCheck %s --check-prefix=ONE-NAN
// ONE-NAN-DAG: max_rel_err=inf (output)
// ONE-NAN-DAG: attn-run: error: max_rel_err inf: output: 1 positions hold NaN or infinity on one side only; the first, [0, 0, 1, 5], is {{[-0-9.e]+}} against the reference's nan

// .npy versions are printed as numbers.
// RUN: python3 %S/Inputs/edit_npy.py %t.ref/query.npy version 4
// RUN: not attn-run %s --op 2 --inputs %t.ref 2>&1 | FileCheck %s --check-prefix=VERSION
// VERSION: attn-run: error: {{.*}}query.npy: .npy format version 4.0 is not supported (1.0, 2.0 and 3.0 are)

func.func @computed_index(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                          %v: tensor<?x2x?x8xf32>, %t: tensor<?xf32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<?xf32>)
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %tt: tensor<?xf32>):
      %d = arith.subi %i, %i : index
      %x = tensor.extract %tt[%d] : tensor<?xf32>
      %r = arith.addf %s, %x : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x2x?x8xf32>
}

func.func @grid(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal,
                         #attn.neighborhood<grid = [4, 6], kernel = [3, 3]>]>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @plain(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                 %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}
