// Bad sizes, bad input files and bad options end attn-run with a clear
// message and exit code 1 (`not` fails on a crash), before any kernel runs.

// RUN: not attn-run %s --op 0 --sizes n=10 2>&1 | FileCheck %s --check-prefix=STATIC
// STATIC: attn-run: error: query length 10 contradicts the spec: query has static query length 8

// RUN: not attn-run %s --op 0 --sizes n=abc 2>&1 | FileCheck %s --check-prefix=SYNTAX
// SYNTAX: attn-run: error: --sizes: 'n=abc' is not NAME=SIZE with a non-negative size

// RUN: not attn-run %s --op 2 --sizes b=1,h=4,n=6 2>&1 | FileCheck %s --check-prefix=HEADS
// HEADS: attn-run: error: --sizes: h=4 contradicts the spec, which has 2
// RUN: not attn-run %s --op 2 --sizes b=1,n=6,m=3 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: attn-run: error: --sizes: 'm' is neither b, n, nq, nk, h, dk, dv nor an argument of the kernel
// RUN: attn-run %s --op 2 --sizes b=1,h=2,dk=16,dv=8,n=6 | FileCheck %s --check-prefix=RESTATED
// RESTATED: query[1, 2, 6, 16]

// RUN: not attn-run %s --op 2 --sizes b=1,nq=5,nk=6 2>&1 | FileCheck %s --check-prefix=SELF
// SELF: attn-run: error: attn.linear_attention needs equal query and key lengths, got 5 and 6

// RUN: not attn-run %s --op 3 --sizes b=1,n=30 2>&1 | FileCheck %s --check-prefix=GRID
// GRID: attn-run: error: 'attn.attention' op neighborhood grid holds 24 tokens but the query sequence length is 30

// A captured tensor read at j holds Nk entries unless given (more in
// attn-run-limits.mlir).
// RUN: attn-run %s --op 4 --sizes b=1,n=30 | FileCheck %s --check-prefix=CAPTURE
// CAPTURE: capture0[30]

// RUN: not attn-run %s --op 9 2>&1 | FileCheck %s --check-prefix=OP
// OP: attn-run: error: {{.*}} holds 7 attn ops; --op 9 is out of range

// RUN: not attn-run %s --backend=cuda 2>&1 | FileCheck %s --check-prefix=CUDA
// CUDA: attn-run: error: no CUDA driver: libcuda.so.1 could not be loaded

// Input files: written for one spec, read for another.
// RUN: rm -rf %t && attn-run %s --op 1 --sizes b=2,n=12 --write-outputs %t
// RUN: not attn-run %s --op 2 --inputs %t 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: attn-run: error: query has size 8 in dim 3, the spec needs 16
// RUN: not attn-run %s --op 4 --inputs %t 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: attn-run: error: input capture0 is missing: no {{.*}}capture0.npy
// RUN: cp %t/query.npy %t/query_segment_ids.npy && cp %t/query.npy %t/key_segment_ids.npy
// RUN: not attn-run %s --op 1 --inputs %t 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: attn-run: error: {{.*}}query_segment_ids.npy: query_segment_ids needs i32 values, the file holds f32
// RUN: rm -rf %t2 && mkdir -p %t2 && cp %t/query.npy %t/key.npy %t2/ && cp %t/query.npy %t2/value.npy
// RUN: rm -rf %t3 && attn-run %s --op 0 --write-outputs %t3 && cp %t3/key.npy %t2/key.npy
// RUN: not attn-run %s --op 5 --inputs %t2 2>&1 | FileCheck %s --check-prefix=BATCH
// BATCH: attn-run: error: key has batch 1 in dim 0, but the batch is 2

// A block mask listing key blocks past the keys: inputs written for 70 keys
// (9 blocks of 8), keys and values replaced by 30 (4 blocks).
// RUN: rm -rf %t4 %t5 && attn-run %s --op 6 --sizes b=1,nq=20,nk=70 --write-outputs %t4
// RUN: attn-run %s --op 6 --sizes b=1,nq=20,nk=30 --write-outputs %t5 && cp %t5/key.npy %t5/value.npy %t4/
// RUN: not attn-run %s --op 6 --inputs %t4 2>&1 | FileCheck %s --check-prefix=BLOCKS
// BLOCKS: attn-run: error: {{(full_)?}}kv_indices lists key block {{[4-8]}} (flat query block {{[0-9]+}}); key blocks lie in [0, 4)

// Bad specs fail in the verifier, located.
// RUN: echo 'func.func @f(%%q: tensor<?x3x?x8xf32>, %%k: tensor<?x2x?x8xf32>) { %%o = attn.attention %%q, %%k, %%k : tensor<?x3x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x3x?x8xf32>  return }' > %t.bad.mlir
// RUN: not attn-run %t.bad.mlir 2>&1 | FileCheck %s --check-prefix=VERIFY
// VERIFY: bad.mlir:1:{{[0-9]+}}: error: 'attn.attention' op query heads (3) must be a multiple of key heads (2)
// VERIFY: attn-run: error: cannot parse or verify

func.func @static_length(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>,
                         %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
      -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}

func.func @documents(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                     %v: tensor<?x2x?x8xf32>, %qs: tensor<?x?xi32>,
                     %ks: tensor<?x?xi32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v segment_ids(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>)
      {mask = #attn.document}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @linear(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                  %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.linear_attention %q, %k, %v {causal}
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @grid(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.neighborhood<grid = [4, 6], kernel = [3, 3]>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @captured(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                    %v: tensor<?x2x?x8xf32>, %t: tensor<?xf32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<?xf32>)
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %tt: tensor<?xf32>):
      %x = tensor.extract %tt[%j] : tensor<?xf32>
      %r = arith.addf %s, %x : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x2x?x8xf32>
}

func.func @plain(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                 %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

func.func @blocks(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                  %v: tensor<?x2x?x8xf32>, %n: tensor<?x2x?xi32>,
                  %i: tensor<?x2x?x?xi32>, %fn: tensor<?x2x?xi32>,
                  %fi: tensor<?x2x?x?xi32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      block_mask(%n, %i, %fn, %fi : tensor<?x2x?xi32>, tensor<?x2x?x?xi32>,
                 tensor<?x2x?xi32>, tensor<?x2x?x?xi32>)
      {block_size = array<i64: 16, 8>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}
