// Every attn.attention example lowers to the flash tile program
// (AttentionTileProgram.cpp): per query block, a loop over the key tiles
// the schedule visits carries the running maximum, sum and accumulator
// (attn_tile tiles); each key tile's scores are a matmul of Q and K and a
// map (scale, score_mod, the mask where the tile is partial); softmax takes
// attn_tile.online_softmax and attn_tile.finalize, the other
// normalizations their weights (l1 also a row sum); the output rows are one
// attn_tile.store.

// RUN: attn-opt %S/../../../examples/alibi.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/block_sparse_flex.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/block_sparse_flex.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=BLOCKS
// RUN: attn-opt %S/../../../examples/causal_gqa_lse.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/causal_gqa_lse.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=LSE
// RUN: attn-opt %S/../../../examples/cross_attention_pooling_mqa.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/diag_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/document_mask.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/document_mask.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=DOCUMENT
// RUN: attn-opt %S/../../../examples/duo_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/neighborhood_2d.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/neighborhood_3d_video.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/prefix_lm.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/sigma_diffqkv.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/softcap_sliding_window.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/softcap_sliding_window.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTCAP
// RUN: attn-opt %S/../../../examples/streaming_llm_sinks.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/strided_shard.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/transfusion_mask_mod.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=SOFTMAX
// RUN: attn-opt %S/../../../examples/sigmoid_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=WEIGHTS
// RUN: attn-opt %S/../../../examples/relu_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=WEIGHTS
// RUN: attn-opt %S/../../../examples/softplus_l1_attention.mlir --attn-lower-to-tiles | FileCheck %s --check-prefix=L1

// SOFTMAX: attn_tile.load {{.*}} -> !attn_tile.tile<[[BQ:[0-9]+]]x{{[0-9]+}}xf32>
// The loops over key ranges also carry the next tile's K and V (block
// lists' loops fetch each listed block in its iteration).
// SOFTMAX: scf.for {{.*}} iter_args({{.*}}) -> (!attn_tile.tile<[[BQ]]xf32>, !attn_tile.tile<[[BQ]]xf32>, !attn_tile.tile<[[BQ]]x{{[0-9]+}}xf32>{{(, !attn_tile.tile<[0-9]+x[0-9]+xf32>, !attn_tile.tile<[0-9]+x[0-9]+xf32>)?}})
// SOFTMAX: attn_tile.matmul {{.*}} {transpose_rhs}
// SOFTMAX: attn_tile.map
// SOFTMAX: attn_tile.online_softmax
// SOFTMAX: attn_tile.matmul
// SOFTMAX: attn_tile.finalize
// SOFTMAX: attn_tile.store

// The log-sum-exp of each row from the final maximum and sum.
// LSE: attn_tile.log_sum_exp
// LSE-NEXT: attn_tile.store

// score_mod's soft cap runs in the scores' map.
// SOFTCAP: attn_tile.map
// SOFTCAP: math.tanh
// SOFTCAP: attn_tile.online_softmax

// Segment ids are read per element where a tile is partial.
// DOCUMENT: attn_tile.map
// DOCUMENT: memref.load
// DOCUMENT: attn_tile.online_softmax

// A run-time block mask: the listed partial blocks, then the full ones.
// BLOCKS: } {attn.stage = "partial_key_blocks"}
// BLOCKS: } {attn.stage = "full_key_blocks"}

// WEIGHTS: attn_tile.matmul {{.*}} {transpose_rhs}
// WEIGHTS-NOT: attn_tile.online_softmax
// WEIGHTS-NOT: attn_tile.reduce
// WEIGHTS: attn_tile.matmul
// WEIGHTS-NOT: attn_tile.finalize
// WEIGHTS: attn_tile.store

// L1: attn_tile.matmul {{.*}} {transpose_rhs}
// L1-NOT: attn_tile.online_softmax
// L1: attn_tile.reduce <add>
// L1: attn_tile.matmul
// L1: attn_tile.finalize
// L1: attn_tile.store
