// Every attn.hybrid example lowers to the hybrid tile program
// (HybridTileProgram.cpp): the linear term's chunk loop carries its states,
// and for each chunk's queries a loop over the key tiles of their window
// carries the softmax's running maximum, sum and accumulator
// (attn_tile.online_softmax); the two terms are combined into one store.

// RUN: attn-opt %S/../../../examples/based_hybrid.mlir --attn-lower-to-tiles | FileCheck %s --check-prefixes=CHECK,WEIGHTED,BASED
// RUN: attn-opt %S/../../../examples/liger_hybrid.mlir --attn-lower-to-tiles | FileCheck %s --check-prefixes=CHECK,WEIGHTED,LIGER
// RUN: attn-opt %S/../../../examples/lolcats_hybrid.mlir --attn-lower-to-tiles | FileCheck %s --check-prefixes=CHECK,SHARED

// Under a shared denominator the queries before the window's end read no
// key of the linear term: their blocks come first, softmax only.
// SHARED: attn_tile.online_softmax
// SHARED: attn_tile.finalize
// SHARED: attn_tile.store
// SHARED: } {attn.stage = "window_only_queries"}

// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (!attn_tile.tile<[[F:[0-9]+]]x[[DV:[0-9]+]]xf32>
// BASED:   attn_tile.taylor2_features
// LIGER:   attn_tile.cumsum
// LIGER:   attn_tile.decayed_scores
// SHARED:  attn_tile.softmax_features
// CHECK:   attn_tile.state_update
// The denominators' state (Based: its normalization; LoLCATs: the shared
// denominator) and the row sums of its numerators.
// BASED:   attn_tile.state_update {{.*}} : !attn_tile.tile<[[F]]x1xf32>
// SHARED:  attn_tile.state_update {{.*}} : !attn_tile.tile<[[F]]x1xf32>
// BASED:   attn_tile.reduce <add>
// SHARED:  attn_tile.reduce <add>
// CHECK:   scf.for {{.*}} iter_args({{.*}}) -> (!attn_tile.tile<[[C:[0-9]+]]xf32>, !attn_tile.tile<[[C]]xf32>, !attn_tile.tile<[[C]]x[[DV]]xf32>)
// CHECK:     attn_tile.matmul {{.*}} {transpose_rhs}
// CHECK:     attn_tile.online_softmax
// CHECK:   } {attn.stage = "key_blocks"}
// WEIGHTED: %[[SOFTMAX:.*]] = attn_tile.finalize
// WEIGHTED: attn_tile.map %[[SOFTMAX]], %{{.*}} : (!attn_tile.tile<[[C]]x[[DV]]xf32>, !attn_tile.tile<[[C]]x[[DV]]xf32>)
// SHARED:  %[[NUM:.*]] = attn_tile.map %{{.*}} : (!attn_tile.tile<[[C]]x[[DV]]xf32>, !attn_tile.tile<[[C]]x[[DV]]xf32>, !attn_tile.tile<[[C]]xf32>, !attn_tile.tile<[[C]]xf32>)
// SHARED:  %[[DEN:.*]] = attn_tile.map %{{.*}} : (!attn_tile.tile<[[C]]xf32>, !attn_tile.tile<[[C]]xf32>, !attn_tile.tile<[[C]]xf32>, !attn_tile.tile<[[C]]xf32>)
// SHARED:  attn_tile.finalize %[[NUM]], %[[DEN]]
// CHECK:   attn_tile.store
// CHECK: } {attn.stage = "chunks"}
