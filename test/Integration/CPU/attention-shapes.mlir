// The tiled attention kernel against the reference on awkward shapes:
// lengths that are not multiples of the tiles, GQA 4:1, Dk != Dv, Nq != Nk,
// and masks that empty whole rows (which must give 0, lse -inf, no NaN;
// attn-run checks every emptied row).

// RUN: attn-run %s --op 0 --check --sizes b=2,nq=45,nk=30 --block-queries 16 --block-keys 16 | FileCheck %s --check-prefix=EMPTY
// RUN: attn-run %s --op 0 --check --sizes b=3,nq=17,nk=130 --block-queries 16 --block-keys 32 | FileCheck %s
// RUN: attn-run %s --op 1 --check --sizes b=2,nq=70,nk=33 --block-queries 16 --block-keys 16 | FileCheck %s --check-prefix=EMPTY
// RUN: attn-run %s --op 2 --check --sizes b=1,nq=50,nk=90 --block-queries 16 --block-keys 16 --seed 7 | FileCheck %s
// RUN: attn-run %s --op 3 --check --sizes b=2,nq=1,nk=100 --block-queries 16 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 4 --check --sizes b=2,nq=45,nk=77 --seed 2 | FileCheck %s
// RUN: attn-run %s --op 4 --check --sizes b=1,nq=90,nk=31 --seed 3 | FileCheck %s

// CHECK: max_rel_err=
// CHECK-SAME: tol=1.0e-04
// EMPTY: max_rel_err=
// EMPTY-SAME: empty_rows=

// Causal cross attention, bottom-right aligned: with Nq > Nk the first
// Nq - Nk rows see no key.
func.func @causal_gqa(%q: tensor<?x8x?x40xf32>, %k: tensor<?x2x?x40xf32>,
                      %v: tensor<?x2x?x24xf32>)
    -> (tensor<?x8x?x24xf32>, tensor<?x8x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x8x?x40xf32>, tensor<?x2x?x40xf32>, tensor<?x2x?x24xf32>
      -> tensor<?x8x?x24xf32>, tensor<?x8x?xf32>
  return %o, %lse : tensor<?x8x?x24xf32>, tensor<?x8x?xf32>
}

// A top-left window left of the diagonal: rows whose window lies beyond the
// keys are empty.
func.func @top_left_window(%q: tensor<?x4x?x16xf32>, %k: tensor<?x1x?x16xf32>,
                           %v: tensor<?x1x?x16xf32>)
    -> (tensor<?x4x?x16xf32>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      {mask = #attn.sliding_window<left = 5, right = 2, align = top_left>}
      : tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>, tensor<?x1x?x16xf32>
      -> tensor<?x4x?x16xf32>, tensor<?x4x?xf32>
  return %o, %lse : tensor<?x4x?x16xf32>, tensor<?x4x?xf32>
}

// Per-head patterns with a score_mod and a prefix.
func.func @per_head(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                    %v: tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.per_head<[#attn.prefix_lm<prefix = 20>,
                              #attn.and<[#attn.causal, #attn.or<[#attn.sinks<count = 3>,
                                                                 #attn.sliding_window<left = 9>]>]>,
                              #attn.block_diagonal<size = 12>],
                             heads = [0, 1, 2, 1]>}
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x4x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %c = arith.constant 20.0 : f32
      %x = arith.divf %s, %c : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %c : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x4x?x8xf32>
}

// One query (decoding) over many keys with sigmoid weights.
func.func @decode_sigmoid(%q: tensor<?x4x?x32xf32>, %k: tensor<?x4x?x32xf32>,
                          %v: tensor<?x4x?x32xf32>) -> tensor<?x4x?x32xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.causal, normalization = #attn.normalization<sigmoid>,
       sigmoid_bias = -4.0 : f32}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>
      -> tensor<?x4x?x32xf32>
  return %o : tensor<?x4x?x32xf32>
}

// A run-time block mask with a window applied inside partial blocks and a
// score_mod, on lengths that cut the last blocks short.
func.func @block_sparse(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                        %v: tensor<?x2x?x8xf32>, %n: tensor<?x4x?xi32>,
                        %i: tensor<?x4x?x?xi32>, %fn: tensor<?x4x?xi32>,
                        %fi: tensor<?x4x?x?xi32>) -> tensor<?x4x?x8xf32> {
  %o = attn.attention %q, %k, %v
      block_mask(%n, %i, %fn, %fi : tensor<?x4x?xi32>, tensor<?x4x?x?xi32>,
                 tensor<?x4x?xi32>, tensor<?x4x?x?xi32>)
      {block_size = array<i64: 16, 8>, mask = #attn.sliding_window<left = 20, right = 4>}
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x4x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
      %c = arith.constant 0.5 : f32
      %r = arith.mulf %s, %c : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x4x?x8xf32>
}
