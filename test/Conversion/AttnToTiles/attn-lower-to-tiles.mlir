// RUN: attn-opt %s --attn-lower-to-tiles="block-queries=32 block-keys=16" --canonicalize --cse | FileCheck %s

// attn.attention is the flash tile program (AttentionTileProgram.cpp): per
// query block, Q is one tile and the running maximum, sum and accumulator
// are scf.for operands over the key tiles, beside the K and V tiles of the
// next key tile, fetched at each iteration's start (emitKeyTiles' fetch;
// past the last tile with no rows); each key tile's scores are a matmul, a
// map only where needed (score_mod, the mask where the tile is partial, a
// compare where the keys' end cuts the tile short; the scale goes to
// attn_tile.online_softmax when there is no score_mod), then the online
// softmax and P V onto the rescaled accumulator; attn_tile.finalize and
// attn_tile.log_sum_exp end the row.
//
// Causal: the key blocks of query block [q0, q1) stop at the diagonal,
// min(q1 + Nk - Nq, Nk); blocks left of the diagonal run without mask code.

// CHECK-LABEL: func.func @causal_0_tiled(
// CHECK-DAG: %[[NQ:.*]] = memref.dim %arg0, %c2
// CHECK-DAG: %[[NK:.*]] = memref.dim %arg1, %c2
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c1 {
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1 {
// CHECK: scf.for %[[QB:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   %[[Q0:.*]] = arith.muli %[[QB]], %c32
// CHECK:   %[[Q1:.*]] = arith.minui %{{.*}}, %[[NQ]]
// CHECK:   %[[Q:.*]] = attn_tile.load %arg0[{{.*}}, %[[Q0]], %c0] rows_below %[[Q1]] {{.*}} -> !attn_tile.tile<32x8xf32>
// CHECK:   %[[M0:.*]] = attn_tile.splat %cst{{.*}} : f32 -> !attn_tile.tile<32xf32>
// CHECK:   %[[SHIFT:.*]] = arith.subi %[[NK]], %[[NQ]]
// CHECK:   %[[DIAG_END:.*]] = arith.addi %[[Q1]], %[[SHIFT]]
// CHECK:   %[[END:.*]] = arith.minsi %[[DIAG_END]], %[[NK]]
// CHECK:   %[[END_POS:.*]] = arith.maxsi %[[END]], %c0
// CHECK:   %[[NUM_KB:.*]] = arith.ceildivui %[[END_POS]], %c16
// CHECK:   %[[K0:.*]] = attn_tile.load %arg1{{.*}} -> !attn_tile.tile<16x8xf32>
// CHECK:   %[[V0:.*]] = attn_tile.load %arg2{{.*}} -> !attn_tile.tile<16x8xf32>
// CHECK:   %[[STATE:.*]]:5 = scf.for %{{.*}} = %c0 to %[[NUM_KB]] step %c1 iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}}, %[[K:.*]] = %[[K0]], %[[V:.*]] = %[[V0]]) -> (!attn_tile.tile<32xf32>, !attn_tile.tile<32xf32>, !attn_tile.tile<32x8xf32>, !attn_tile.tile<16x8xf32>, !attn_tile.tile<16x8xf32>) {
// CHECK:     %[[KNEXT:.*]] = attn_tile.load %arg1{{.*}} rows_below %[[NEXT_END:.*]] : {{.*}} -> !attn_tile.tile<16x8xf32>
// CHECK:     %[[VNEXT:.*]] = attn_tile.load %arg2{{.*}} rows_below %[[NEXT_END]] : {{.*}} -> !attn_tile.tile<16x8xf32>
// CHECK:     %[[FULL:.*]] = arith.andi
// CHECK:     %[[NEW:.*]]:3 = scf.if %[[FULL]] -> (!attn_tile.tile<32xf32>, !attn_tile.tile<32xf32>, !attn_tile.tile<32x8xf32>) {
// CHECK:       %[[DOTS:.*]] = attn_tile.matmul %[[Q]], %[[K]], %{{.*}} {transpose_rhs}
// CHECK:       %[[WHOLE:.*]] = arith.cmpi eq, %{{.*}}, %c16
// CHECK:       %[[S:.*]] = scf.if %[[WHOLE]] -> (!attn_tile.tile<32x16xf32>) {
// CHECK-NEXT:    scf.yield %[[DOTS]]
// CHECK-NEXT:  } else {
// CHECK-NEXT:    attn_tile.map %[[DOTS]]
// CHECK-NOT:     arith.cmpi sle
// CHECK:       %[[P:.*]], %[[M1:.*]], %[[L1:.*]], %[[C:.*]] = attn_tile.online_softmax %[[S]], %[[M]], %[[L]] {scale = 0.353553385 : f32}
// CHECK:       %[[RESCALED:.*]] = attn_tile.map %[[ACC]], %[[C]] {broadcast = array<i64: -1, 0>}
// CHECK:       %[[ACC1:.*]] = attn_tile.matmul %[[P]], %[[V]], %[[RESCALED]]
// CHECK:       scf.yield %[[M1]], %[[L1]], %[[ACC1]]
// CHECK:     } else {
// CHECK:       arith.cmpi sle, %{{.*}}, %{{.*}} : index
// CHECK:       arith.select %{{.*}}, %{{.*}}, %cst{{.*}} : f32
// CHECK:       attn_tile.online_softmax
// CHECK:     scf.yield %[[NEW]]#0, %[[NEW]]#1, %[[NEW]]#2, %[[KNEXT]], %[[VNEXT]]
// CHECK:   %[[O:.*]] = attn_tile.finalize %[[STATE]]#2, %[[STATE]]#1
// CHECK:   attn_tile.store %[[O]], %arg3[{{.*}}, %[[Q0]], %c0] rows_below %[[Q1]]
func.func @causal(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                  %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

// Sliding window: the first key block is the one holding q0 + shift - left,
// not block 0.

// CHECK-LABEL: func.func @window_0_tiled(
// CHECK-DAG: %[[W_NQ:.*]] = memref.dim %arg0, %c2
// CHECK-DAG: %[[W_NK:.*]] = memref.dim %arg1, %c2
// CHECK:   %[[W_Q0:.*]] = arith.muli %{{.*}}, %c32
// CHECK:   %[[W_SHIFT:.*]] = arith.subi %[[W_NK]], %[[W_NQ]]
// CHECK:   %[[W_ROW:.*]] = arith.addi %[[W_Q0]], %[[W_SHIFT]]
// CHECK:   %[[W_LO:.*]] = arith.subi %[[W_ROW]], %c100
// CHECK:   %[[W_BEGIN:.*]] = arith.maxsi %[[W_LO]], %c0
// CHECK:   %[[W_FIRST:.*]] = arith.divui %[[W_BEGIN]], %c16
// CHECK:   scf.for %{{.*}} = %[[W_FIRST]] to %{{.*}} step %c1 iter_args(
func.func @window(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                  %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.sliding_window<left = 100>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

// Sinks or-ed with a window under causal: the sink blocks and the window
// blocks are separate loops, and the blocks between them are never visited.

// CHECK-LABEL: func.func @sinks_window_0_tiled(
// CHECK:   %[[S_END:.*]] = arith.minsi %{{.*}}, %c4 : index
// CHECK:   %[[S_CLIP:.*]] = arith.minsi %[[S_END]], %{{.*}} : index
// CHECK:   %[[S_POS:.*]] = arith.maxsi %[[S_CLIP]], %c0
// CHECK:   %[[S_BLOCKS:.*]] = arith.ceildivui %[[S_POS]], %c16
// CHECK:   scf.for %{{.*}} = %c0 to %[[S_BLOCKS]] step %c1 iter_args(
// CHECK:   %[[W_BLOCK0:.*]] = arith.divui %{{.*}}, %c16
// CHECK:   %[[W_BLOCKS:.*]] = arith.ceildivui %{{.*}}, %c16
// CHECK:   scf.for %{{.*}} = %[[W_BLOCK0]] to %[[W_BLOCKS]] step %c1 iter_args(
func.func @sinks_window(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                        %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal, #attn.or<[#attn.sinks<count = 4>,
                                                 #attn.sliding_window<left = 100>]>]>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

// Without a mask every block is full: no mask code at all (only the
// tile's own bounds, unsigned compares of i and j with q1 and k1).

// CHECK-LABEL: func.func @dense_0_tiled(
// CHECK-NOT: arith.cmpi {{s[lg][te]}}
// CHECK: attn_tile.online_softmax
// CHECK-NOT: arith.cmpi {{s[lg][te]}}
// CHECK: return
func.func @dense(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                 %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

// Chunked linear attention is a tile program: per chunk of 16 tokens, the
// state carried from earlier chunks (inter-chunk, decayed from the chunk
// start) and the decay-masked causal scores of the chunk (intra-chunk,
// accumulated onto it) give the outputs; then the state absorbs the chunk.
// The state is an explicit scf.for operand, and so are the chunk's inputs:
// the first chunk's are loaded before the loop, and each iteration loads
// the next chunk's before it computes its own.
//
// The program takes its chunk-parallel form (ChunkSegments): a sequence of
// 2c chunks or more is cut into min(c, 4) segments, and the CPU runs one
// after the other the blocks a GPU runs side by side: a boundary block per
// segment but the last (its local state and decay over the segment's
// chunks, then the state where it ends, D o S + L, from the boundary
// before), then an output block per segment (the chunk loop from the state
// where its segment starts).

// CHECK-LABEL: func.func @gated_0_tiled(
// CHECK: %[[CHUNKS:.*]] = arith.ceildivui %[[N:.*]], %c16
// CHECK: %[[HALF:.*]] = arith.divui %[[CHUNKS]], %c2
// CHECK: %[[MIN:.*]] = arith.minui %[[HALF]], %c4
// CHECK: %[[COUNT:.*]] = arith.maxui %[[MIN]], %c1
// CHECK: %[[NB:.*]] = arith.subi %[[COUNT]], %c1
// CHECK: %[[BOUNDS:.*]] = memref.alloc(%[[NB]]) : memref<?x8x4xf32>
// CHECK: %[[BLOCKS:.*]] = arith.addi %[[COUNT]], %[[NB]]
// CHECK: scf.for %[[BLOCK:.*]] = %c0 to %[[BLOCKS]]
// CHECK:   %[[ISB:.*]] = arith.cmpi ult, %[[BLOCK]], %[[NB]]
// CHECK:   %[[SEG:.*]] = arith.select %[[ISB]], %[[BLOCK]], %{{.*}}
// CHECK:   %[[PER:.*]] = arith.ceildivui %[[CHUNKS]], %[[COUNT]]
// CHECK:   %[[B0:.*]] = arith.muli %[[SEG]], %[[PER]]
// CHECK:   %[[BEGIN:.*]] = arith.minui %[[B0]], %[[CHUNKS]]
// CHECK:   %[[E0:.*]] = arith.addi %[[BEGIN]], %[[PER]]
// CHECK:   %[[END:.*]] = arith.minui %[[E0]], %[[CHUNKS]]
// CHECK:   scf.if %[[ISB]] {
// CHECK:     %[[L0:.*]] = attn_tile.splat %{{.*}} : f32 -> !attn_tile.tile<8x4xf32>
// CHECK:     %[[D0:.*]] = attn_tile.splat %{{.*}} : f32 -> !attn_tile.tile<8x4xf32>
// The boundary loop fetches the next chunk's K and V ahead; the gates
// are read first, in their own chunk.
// CHECK:     %[[BT0:.*]] = arith.muli %[[BEGIN]], %c16
// CHECK:     %[[BK0:.*]] = attn_tile.load %arg1[%{{.*}}, %{{.*}}, %[[BT0]], %c0]
// CHECK:     %[[BV0:.*]] = attn_tile.load %arg2[%{{.*}}, %{{.*}}, %[[BT0]], %c0]
// CHECK:     %[[LD:.*]]:4 = scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %{{.*}} iter_args(%[[L:.*]] = %[[L0]], %[[D:.*]] = %[[D0]], %[[BK:.*]] = %[[BK0]], %[[BV:.*]] = %[[BV0]])
// CHECK:       %[[BG:.*]] = attn_tile.load %arg3[
// CHECK:       %[[BKN:.*]] = attn_tile.load %arg1[
// CHECK:       %[[BVN:.*]] = attn_tile.load %arg2[
// CHECK:       %[[BP:.*]] = attn_tile.cumsum
// CHECK:       %[[LN:.*]] = attn_tile.state_update %[[L]], %[[BK]], %[[BV]] log_decay %[[BP]]
// CHECK:       %[[DN:.*]] = attn_tile.decay_state %[[D]] log_decay %[[BP]]
// CHECK:       scf.yield %[[LN]], %[[DN]], %[[BKN]], %[[BVN]]
// CHECK:     } {attn.stage = "segment_boundary"}
// CHECK:     %[[START:.*]] = scf.if %{{.*}} -> (!attn_tile.tile<8x4xf32>) {
// CHECK:       scf.yield %[[L0]]
// CHECK:     } else {
// CHECK:       %[[BEFORE:.*]] = attn_tile.load %[[BOUNDS]][
// CHECK:       scf.yield %[[BEFORE]]
// CHECK:     }
// CHECK:     %[[AFTER:.*]] = attn_tile.map %[[START]], %[[LD]]#0, %[[LD]]#1
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:     attn_tile.store %[[AFTER]], %[[BOUNDS]][%[[SEG]], %c0, %c0]
// CHECK:   } else {
// CHECK:     %[[S0:.*]] = scf.if %{{.*}} -> (!attn_tile.tile<8x4xf32>) {
// CHECK:     %[[T00:.*]] = arith.muli %[[BEGIN]], %c16
// CHECK:     %[[Q0:.*]] = attn_tile.load %arg0[%{{.*}}, %{{.*}}, %[[T00]], %c0] rows_below %[[N]] : {{.*}} -> !attn_tile.tile<16x8xf32>
// CHECK:     %[[K0:.*]] = attn_tile.load %arg1[
// CHECK:     %[[V0:.*]] = attn_tile.load %arg2[
// CHECK:     %[[G0:.*]] = attn_tile.load %arg3[
// CHECK:     scf.for %[[C:.*]] = %[[BEGIN]] to %[[END]] step %{{.*}} iter_args(%[[S:.*]] = %[[S0]], %[[Q:.*]] = %[[Q0]], %[[K:.*]] = %[[K0]], %[[V:.*]] = %[[V0]], %[[G:.*]] = %[[G0]]) -> (!attn_tile.tile<8x4xf32>, !attn_tile.tile<16x8xf32>, !attn_tile.tile<16x8xf32>, !attn_tile.tile<16x4xf32>, !attn_tile.tile<16xf32>)
// CHECK:       %[[T0:.*]] = arith.muli %[[C]], %c16
// CHECK:       %[[T1:.*]] = arith.addi %[[T0]], %c16
// CHECK:       %[[QN:.*]] = attn_tile.load %arg0[%{{.*}}, %{{.*}}, %[[T1]], %{{.*}}] rows_below %[[N]] : {{.*}} -> !attn_tile.tile<16x8xf32>
// CHECK:       %[[KN:.*]] = attn_tile.load %arg1[
// CHECK:       %[[VN:.*]] = attn_tile.load %arg2[
// CHECK:       %[[GN:.*]] = attn_tile.load %arg3[%{{.*}}, %{{.*}}, %[[T1]]] rows_below %[[N]] : {{.*}} -> !attn_tile.tile<16xf32>
// CHECK:       %[[P:.*]] = attn_tile.cumsum %[[G]]
// CHECK:       %[[QK:.*]] = attn_tile.matmul %[[Q]], %[[K]], %{{.*}} {transpose_rhs}
// CHECK:       %[[DM:.*]] = attn_tile.decay_mask %[[P]], %[[P]]
// CHECK:       %[[A:.*]] = attn_tile.map %[[QK]], %[[DM]]
// CHECK:       %[[INTER:.*]] = attn_tile.matmul %[[Q]], %[[S]], %{{.*}} :
// CHECK:       %[[DECAYED:.*]] = attn_tile.map %[[INTER]], %[[P]] {broadcast = array<i64: -1, 0>}
// CHECK:       %[[O:.*]] = attn_tile.matmul %[[A]], %[[V]], %[[DECAYED]] :
// CHECK:       %[[NEXT:.*]] = attn_tile.state_update %[[S]], %[[K]], %[[V]] log_decay %[[P]]
// CHECK:       attn_tile.store %[[O]], %arg4[%{{.*}}, %{{.*}}, %[[T0]], %{{.*}}] rows_below %[[N]]
// CHECK:       scf.yield %[[NEXT]], %[[QN]], %[[KN]], %[[VN]], %[[GN]]
// CHECK:     } {attn.stage = "chunks"}
// CHECK:   }
// CHECK: } {attn.stage = "segment_blocks"}
// CHECK: memref.dealloc %[[BOUNDS]]
func.func @gated(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                 %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?xf32>)
    -> tensor<?x2x?x4xf32> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x2x?xf32>)
      {causal, gate = #attn.gate<per_token>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// The delta rule takes the WY/UT form: with L = tril(diag(beta) K K^T, -1),
// the chunk's values become U = (I + L)^-1 (diag(beta) (V - K S)), and U goes
// through the additive chunk's steps (outputs, then the state update).
// Without a gate the map keeps j < i by the element's coordinates (no mask
// tile, which would be the same in every chunk).

// CHECK-LABEL: func.func @delta_0_tiled(
// CHECK: scf.for %{{.*}} iter_args(%[[S:.*]] = %{{.*}}) -> (!attn_tile.tile<8x4xf32>)
// CHECK:   %[[Q:.*]] = attn_tile.load %arg0[
// CHECK:   %[[K:.*]] = attn_tile.load %arg1[
// CHECK:   %[[V:.*]] = attn_tile.load %arg2[
// CHECK:   %[[BETA:.*]] = attn_tile.load %arg3[{{.*}}] rows_below %{{.*}} : {{.*}} -> !attn_tile.tile<16xf32>
// CHECK:   %[[GRAM:.*]] = attn_tile.matmul %[[K]], %[[K]], %{{.*}} {transpose_rhs}
// CHECK-NOT: attn_tile.decay_mask
// CHECK:   %[[L:.*]] = attn_tile.map %[[GRAM]], %[[BETA]] {broadcast = array<i64: -1, 0>}
// CHECK-NEXT: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index, %{{.*}}: f32, %{{.*}}: f32):
// CHECK:     %[[LIMIT:.*]] = arith.addi %[[I]], %c-1
// CHECK:     arith.cmpi sle, %[[J]], %[[LIMIT]]
// CHECK:     arith.select
// CHECK:   %[[INV:.*]] = attn_tile.ut_solve %[[L]]
// CHECK:   %[[KS:.*]] = attn_tile.matmul %[[K]], %[[S]], %{{.*}} :
// CHECK:   %[[R:.*]] = attn_tile.map %[[V]], %[[KS]], %[[BETA]] {broadcast = array<i64: -1, -1, 0>}
// CHECK:   %[[U:.*]] = attn_tile.matmul %[[INV]], %[[R]], %{{.*}} :
// CHECK:   attn_tile.matmul %{{.*}}, %[[U]], %{{.*}} :
// CHECK:   %[[NEXT:.*]] = attn_tile.state_update %[[S]], %[[K]], %[[U]]
// CHECK:   scf.yield %[[NEXT]]
func.func @delta(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                 %v: tensor<?x2x?x4xf32>, %beta: tensor<?x2x?xf32>)
    -> tensor<?x2x?x4xf32> {
  %o = attn.linear_attention %q, %k, %v beta(%beta : tensor<?x2x?xf32>)
      {causal, update = #attn.update<delta>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// A run-time block mask: the tiles take its block size, and the kernel
// visits exactly the listed key blocks, partial ones with the mask and full
// ones without.

// CHECK-LABEL: func.func @block_sparse_0_tiled(
// CHECK: arith.ceildivui %{{.*}}, %c64
// CHECK: %[[NP:.*]] = memref.load %arg3[
// CHECK: %[[NPI:.*]] = arith.index_cast %[[NP]]
// CHECK: scf.for %{{.*}} = %c0 to %[[NPI]]
// CHECK:   memref.load %arg4[
// CHECK:   arith.cmpi sle
// CHECK: } {attn.stage = "partial_key_blocks"}
// CHECK: %[[NF:.*]] = memref.load %arg5[
// CHECK: %[[NFI:.*]] = arith.index_cast %[[NF]]
// CHECK: scf.for %{{.*}} = %c0 to %[[NFI]]
// CHECK-NOT: arith.cmpi sle
// CHECK: } {attn.stage = "full_key_blocks"}
func.func @block_sparse(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                        %v: tensor<?x2x?x8xf32>, %n: tensor<?x2x?xi32>,
                        %i: tensor<?x2x?x?xi32>, %fn: tensor<?x2x?xi32>,
                        %fi: tensor<?x2x?x?xi32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      block_mask(%n, %i, %fn, %fi : tensor<?x2x?xi32>, tensor<?x2x?x?xi32>,
                 tensor<?x2x?xi32>, tensor<?x2x?x?xi32>)
      {block_size = array<i64: 64, 32>, mask = #attn.causal}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

// attn.hybrid is the hybrid tile program (HybridTileProgram.cpp). Under a
// shared denominator with window 20 and chunks of 16, the linear term's
// chunk loop runs over the key chunks [k0, k0 + 16) (keys below n - 20),
// whose queries start 20 tokens later; the per-token log gates are summed
// over [k0, k0 + 36), the keys' decays being the first 16 sums and the
// queries' the last 16.
// CHECK-LABEL: func.func @lagged_hybrid_0_tiled(
// CHECK-DAG: %[[C20:.*]] = arith.constant 20 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: } {attn.stage = "window_only_queries"}
// CHECK: %[[KEYS:.*]] = arith.subi %{{.*}}, %[[C20]] : index
// CHECK: %[[CHUNKS:.*]] = arith.ceildivui %[[KEYS]], %[[C16]] : index
// CHECK: scf.for %[[CI:.*]] = %{{.*}} to %[[CHUNKS]]
// CHECK:   %[[P:.*]] = attn_tile.cumsum %{{.*}} : !attn_tile.tile<36xf32>
// CHECK:   attn_tile.extract_rows %[[P]] {offset = 20 : i64} : !attn_tile.tile<36xf32> -> !attn_tile.tile<16xf32>
// CHECK:   attn_tile.extract_rows %[[P]] {offset = 0 : i64} : !attn_tile.tile<36xf32> -> !attn_tile.tile<16xf32>
// CHECK:   attn_tile.online_softmax
// CHECK:   attn_tile.finalize
func.func @lagged_hybrid(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                         %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?xf32>)
    -> tensor<?x2x?x4xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<?x2x?xf32>)
      {combine = #attn.combine<shared_denominator>, window = 20,
       gate = #attn.gate<per_token>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}
