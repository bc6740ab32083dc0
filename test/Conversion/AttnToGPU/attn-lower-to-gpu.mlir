// RUN: attn-opt %s --attn-lower-to-gpu="half-storage=f16 threads=64" | FileCheck %s
// RUN: attn-opt %s --attn-to-ptx="chip=sm_80 half-storage=f16" | FileCheck %s --check-prefix=PTX

// Attention: one thread per query row; the grid is (query blocks, heads,
// batch); the row's statistics, accumulator and weights are thread-local
// (memref.alloca), and inputs are stored as f16.
// CHECK-LABEL: gpu.module @attn_kernels
// CHECK:       gpu.func @causal_0_gpu(
// CHECK-SAME:    memref<?x4x?x16xf16, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-SAME:    memref<?x4x?x8xf16, strided<[?, ?, ?, ?], offset: ?>>) kernel
// CHECK-DAG:     memref.alloca() : memref<1x8xf32>
// CHECK-DAG:     memref.alloca() : memref<64xf32>
// CHECK-DAG:     %[[B:.*]] = gpu.block_id z
// CHECK-DAG:     %[[H:.*]] = gpu.block_id y
// CHECK-DAG:     %[[X:.*]] = gpu.block_id x
// CHECK-DAG:     %[[T:.*]] = gpu.thread_id x
// CHECK:         %[[BASE:.*]] = arith.muli %[[X]], %c64
// CHECK:         %[[ROW:.*]] = arith.addi %[[BASE]], %[[T]]
// CHECK:         arith.cmpi ult, %[[ROW]]
// CHECK:         {attn.stage = "key_blocks"}
// CHECK-NOT:     memref.alloc(
// CHECK:         gpu.return
func.func @causal(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x2x?x16xbf16>,
                  %v: tensor<?x2x?x8xbf16>) -> tensor<?x4x?x8xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x4x?x16xbf16>, tensor<?x2x?x16xbf16>, tensor<?x2x?x8xbf16>
        -> tensor<?x4x?x8xbf16>
  return %o : tensor<?x4x?x8xbf16>
}

// Linear attention: one block per (head, sequence) carries the chunked
// recurrence. The state and chunk buffers are slices of the workspace
// [B, H, words], whose size is fixed once the body is built; a row's own
// features live in its thread. The block's 32 threads (one warp covers the
// 16-row chunk and the 8 features) take the iterations of each step in
// turn and meet at a barrier before the next step.
// CHECK:       gpu.func @linear_0_gpu(
// CHECK-SAME:    %[[WS:[a-z0-9]+]]: memref<?x2x369xf32, strided<[?, ?, ?], offset: ?>>) kernel
// CHECK-DAG:     %[[WB:.*]] = gpu.block_id y
// CHECK-DAG:     %[[WH:.*]] = gpu.block_id x
// CHECK:         memref.subview %[[WS]][%[[WB]], %[[WH]], 0] [1, 1, 32] [1, 1, 1]
// CHECK:         memref.expand_shape {{.*}} output_shape [8, 4]
// CHECK:         memref.alloca() : memref<8xf32>
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         %[[FIRST:.*]] = arith.addi %{{.*}}, %[[TID]]
// CHECK:         scf.for %{{.*}} = %[[FIRST]] to %c8 step %c32
// CHECK:         gpu.barrier
// CHECK:         {attn.stage = "inter_chunk"}
// CHECK:         {attn.stage = "chunk_outputs"}
// CHECK-NEXT:    gpu.barrier
// CHECK:         {attn.stage = "state_update"}
// CHECK-NEXT:    gpu.barrier
// CHECK-NOT:     memref.alloc(
// CHECK:         gpu.return
func.func @linear(%q: tensor<?x2x?x8xf16>, %k: tensor<?x2x?x8xf16>,
                  %v: tensor<?x2x?x4xf16>) -> tensor<?x2x?x4xf16> {
  %o = attn.linear_attention %q, %k, %v {causal, chunk_size = 16 : i64}
      : tensor<?x2x?x8xf16>, tensor<?x2x?x8xf16>, tensor<?x2x?x4xf16>
        -> tensor<?x2x?x4xf16>
  return %o : tensor<?x2x?x4xf16>
}

// The pipeline ends in PTX for the chip, both kernels in one module.
// PTX:       gpu.binary @attn_kernels
// PTX-SAME:  .target sm_80
// PTX-SAME:  .visible .entry causal_0_gpu(
// PTX-SAME:  .visible .entry linear_0_gpu(
