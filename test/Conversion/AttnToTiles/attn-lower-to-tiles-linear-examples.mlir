// The linear-attention examples lower to the chunked tile program: every
// chunk loads its tiles (additive rules without a gate per key feature load
// the next chunk's ahead and carry them), the state is carried by scf.for, and each variant
// shows its own chunk ops (cumulative log gates, the decay mask or the
// per-feature decayed scores, the UT solve of the delta rule, the
// state update), causal or not. The hybrids' programs are in
// attn-lower-to-tiles-hybrid-examples.mlir.

// RUN: attn-opt %S/../../../examples/gla.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=GLA
// GLA: scf.for {{.*}} iter_args({{.*}}) -> (!attn_tile.tile<128x256xf32>)
// GLA:   attn_tile.load {{.*}} -> !attn_tile.tile<64x128xf32>
// GLA:   %[[P:.*]] = attn_tile.cumsum %{{.*}} : !attn_tile.tile<64x128xf32>
// GLA:   attn_tile.decayed_scores %{{.*}}, %{{.*}}, %[[P]]
// GLA:   attn_tile.state_update {{.*}} log_decay %[[P]] : !attn_tile.tile<128x256xf32>, {{.*}}, !attn_tile.tile<64x128xf32>
// GLA:   attn_tile.reduce <add>

// RUN: attn-opt %S/../../../examples/mamba2_ssd.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=MAMBA
// Its chunk-parallel form: a segment's boundary block starts the chain of
// boundaries from the initial state; its output block starts there too (or
// at the boundary before), and the last segment writes the final state.
// The initial state is read only in the first segment's branch.
// MAMBA: attn_tile.decay_state
// MAMBA: } {attn.stage = "segment_boundary"}
// MAMBA: scf.if %{{.*}} -> (!attn_tile.tile<128x64xf32>)
// MAMBA-NEXT: %[[B0:.*]] = attn_tile.load %{{.*}} : memref<?x16x128x64xf32{{.*}}> -> !attn_tile.tile<128x64xf32>
// MAMBA-NEXT: scf.yield %[[B0]]
// MAMBA: } else {
// MAMBA: %[[S0:.*]] = scf.if %{{.*}} -> (!attn_tile.tile<128x64xf32>)
// MAMBA-NEXT: %[[I0:.*]] = attn_tile.load %{{.*}} : memref<?x16x128x64xf32{{.*}}> -> !attn_tile.tile<128x64xf32>
// MAMBA-NEXT: scf.yield %[[I0]]
// MAMBA: scf.for {{.*}} iter_args(%{{.*}} = %[[S0]], {{.*}})
// MAMBA:   attn_tile.cumsum %{{.*}} : !attn_tile.tile<256xf32>
// MAMBA:   attn_tile.decay_mask
// MAMBA:   attn_tile.state_update
// MAMBA: } {attn.stage = "chunks"}
// MAMBA: scf.if
// MAMBA:   attn_tile.store %{{.*}} : !attn_tile.tile<128x64xf32> -> memref<?x16x128x64xf32

// RUN: attn-opt %S/../../../examples/retnet_retention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=RETNET
// RETNET: attn_tile.map : () -> !attn_tile.tile<64xf32>
// RETNET: attn_tile.cumsum
// RETNET: attn_tile.decay_mask
// RETNET: attn_tile.state_update

// RUN: attn-opt %S/../../../examples/transnormerllm_lightning_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=LIGHTNING
// LIGHTNING: attn_tile.cumsum
// LIGHTNING: attn_tile.reduce <add>
// LIGHTNING: math.sqrt

// RUN: attn-opt %S/../../../examples/elu_linear_attention_stateful.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=ELU
// The denominators' state z is the initial state's last column.
// ELU: attn_tile.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c64{{.*}}] : {{.*}} -> !attn_tile.tile<64x1xf32>
// ELU: scf.for
// ELU:   math.exp
// ELU:   attn_tile.state_update
// ELU:   attn_tile.state_update
// ELU:   attn_tile.reduce <add>

// RUN: attn-opt %S/../../../examples/norm_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=NORM
// Ungated: the causal mask is kept by coordinates in the scores' map.
// NORM: attn_tile.matmul {{.*}} {transpose_rhs}
// NORM-NEXT: attn_tile.map
// NORM: arith.cmpi sle
// NORM: attn_tile.reduce <add>

// The delta rules run their chunk-parallel form on the CPU too
// (ChunkSegments' delta transforms): one segment is the whole chunk loop,
// solving each chunk's UT inverse; more are transform blocks (each chunk's
// W = T diag(exp(p)) K and U = T V, stored in the values' type), a chain
// block (the state through each segment from the values U - W S, stored
// where the segment ends) and output blocks. Ungated, the output blocks
// read the stored transforms as well.
// RUN: attn-opt %S/../../../examples/deltanet.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=DELTA
// DELTA: %[[W:.*]] = memref.alloc(%{{.*}}) : memref<?x128xbf16>
// DELTA: %[[U:.*]] = memref.alloc(%{{.*}}) : memref<?x128xbf16>
// DELTA: attn_tile.matmul {{.*}} {transpose_rhs}
// DELTA-NEXT: attn_tile.map
// DELTA: arith.cmpi sle
// DELTA: attn_tile.ut_solve
// DELTA: attn_tile.state_update
// DELTA: } {attn.stage = "chunks"}
// DELTA: attn_tile.ut_solve
// DELTA: %[[TW:.*]] = attn_tile.matmul {{.*}} : !attn_tile.tile<64x64xbf16>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x128xf32>
// DELTA-NEXT: attn_tile.store %[[TW]], %[[W]][
// DELTA: %[[TU:.*]] = attn_tile.matmul {{.*}} : !attn_tile.tile<64x64xbf16>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x128xf32>
// DELTA: attn_tile.store %[[TU]], %[[U]][
// DELTA: } {attn.stage = "chunk_transforms"}
// DELTA: attn_tile.load %[[W]][
// DELTA: attn_tile.load %[[U]][
// DELTA-NOT: attn_tile.ut_solve
// DELTA: attn_tile.state_update
// DELTA: } {attn.stage = "chain_chunks"}
// DELTA: } {attn.stage = "chain_tail"}
// DELTA: attn_tile.load %[[W]][
// DELTA: attn_tile.load %[[U]][
// DELTA-NOT: attn_tile.ut_solve
// DELTA: } {attn.stage = "chunks"}

// Past Dv = 128 the transform blocks compute U by 64 value columns.
// RUN: attn-opt %S/../../ptx/linear_tc_delta_dv192.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=DV192
// DV192: attn_tile.store %{{.*}}, %{{.*}}[%{{.*}}, %c0{{.*}}] : !attn_tile.tile<64x64xf32> -> memref<?x192xbf16>
// DV192: attn_tile.store %{{.*}}, %{{.*}}[%{{.*}}, %c64{{.*}}] : !attn_tile.tile<64x64xf32> -> memref<?x192xbf16>
// DV192: attn_tile.store %{{.*}}, %{{.*}}[%{{.*}}, %c128{{.*}}] : !attn_tile.tile<64x64xf32> -> memref<?x192xbf16>
// DV192: } {attn.stage = "chunk_transforms"}

// With a gate per token too: one segment solves each chunk's inverse (its
// mask with the decays); with more, the transform blocks store W (the
// decays in it), the chain fetches ahead, and the output blocks read W and U.
// RUN: attn-opt %S/../../../examples/gated_deltanet.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=GATED
// GATED: %[[W:.*]] = memref.alloc(%{{.*}}) : memref<?x128xbf16>
// GATED: %[[U:.*]] = memref.alloc(%{{.*}}) : memref<?x128xbf16>
// GATED: %[[SP:.*]] = attn_tile.cumsum
// GATED: attn_tile.decay_mask %[[SP]], %[[SP]] {diagonal = -1 : i64}
// GATED: attn_tile.ut_solve
// GATED: attn_tile.state_update {{.*}} log_decay %[[SP]]
// GATED: } {attn.stage = "chunks"}
// GATED: %[[P:.*]] = attn_tile.cumsum
// GATED: attn_tile.decay_mask %[[P]], %[[P]] {diagonal = -1 : i64}
// GATED: attn_tile.ut_solve
// GATED: attn_tile.store %{{.*}}, %[[W]][
// GATED: } {attn.stage = "chunk_transforms"}
// GATED: scf.for {{.*}} iter_args({{.*}}) -> (!attn_tile.tile<128x128xf32>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64xf32>)
// GATED: attn_tile.load %[[W]][
// GATED: %[[CP:.*]] = attn_tile.cumsum
// GATED: attn_tile.state_update {{.*}} log_decay %[[CP]]
// GATED: } {attn.stage = "chain_chunks"}
// GATED: attn_tile.load %[[W]][
// GATED: attn_tile.load %[[U]][
// GATED-NOT: attn_tile.ut_solve
// GATED: %[[OP:.*]] = attn_tile.cumsum
// GATED-NOT: attn_tile.ut_solve
// GATED: attn_tile.state_update {{.*}} log_decay %[[OP]]
// GATED: } {attn.stage = "chunks"}

// RUN: attn-opt %S/../../../examples/elu_linear_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=ELU0
// ELU0: attn_tile.state_update

// Non-causal (test/Integration/CPU/linear-forms.mlir's first op): the state
// of every key first, then every chunk of queries reads it.
// RUN: attn-opt %S/../../Integration/CPU/linear-forms.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=NONCAUSAL
// NONCAUSAL-LABEL: func.func @non_causal_0_tiled(
// NONCAUSAL: %[[S:.*]]:2 = scf.for {{.*}} -> (!attn_tile.tile<8x6xf32>, !attn_tile.tile<8x1xf32>)
// NONCAUSAL:   attn_tile.state_update
// NONCAUSAL:   attn_tile.state_update
// NONCAUSAL: } {attn.stage = "key_states"}
// NONCAUSAL: scf.for
// NONCAUSAL:   attn_tile.matmul %{{.*}}, %[[S]]#0
// NONCAUSAL:   attn_tile.matmul %{{.*}}, %[[S]]#1
// NONCAUSAL: } {attn.stage = "query_outputs"}

// RUN: attn-opt %S/../../../examples/based_taylor_linear_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=TAYLOR
// Based's Taylor features of Q and K: [64, 1 + 16 + 256], and the state
// [273, 64] (and the denominators' [273, 1]).
// TAYLOR: scf.for {{.*}} iter_args({{.*}}) -> (!attn_tile.tile<273x64xf32>, !attn_tile.tile<273x1xf32>,
// TAYLOR:   attn_tile.taylor2_features %{{.*}} : !attn_tile.tile<64x16xbf16> -> !attn_tile.tile<64x273xbf16>
// TAYLOR:   attn_tile.taylor2_features %{{.*}} : !attn_tile.tile<64x16xbf16> -> !attn_tile.tile<64x273xbf16>
// TAYLOR:   attn_tile.state_update

// RUN: attn-opt %S/../../../examples/hedgehog_linear_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=HEDGEHOG
// Hedgehog: each side's weights W [64, 64] from feature_weights[side, h],
// the projection x W, then [softmax, softmax of its negation].
// HEDGEHOG: scf.for {{.*}} iter_args({{.*}}) -> (!attn_tile.tile<128x64xf32>, !attn_tile.tile<128x1xf32>,
// HEDGEHOG:   attn_tile.load %{{.*}}[%c0{{.*}}, %{{.*}}, %c0{{.*}}, %c0{{.*}}] : memref<2x12x64x64xf32{{.*}}> -> !attn_tile.tile<64x64xf32>
// HEDGEHOG:   attn_tile.matmul
// HEDGEHOG:   attn_tile.softmax_features %{{.*}} : !attn_tile.tile<64x64xf32> -> !attn_tile.tile<64x128xf32>
// HEDGEHOG:   attn_tile.load %{{.*}}[%c1{{.*}}, %{{.*}}, %c0{{.*}}, %c0{{.*}}] : memref<2x12x64x64xf32{{.*}}> -> !attn_tile.tile<64x64xf32>
// HEDGEHOG:   attn_tile.softmax_features
// HEDGEHOG:   attn_tile.state_update

