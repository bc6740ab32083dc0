// RUN: attn-opt %s --attn-lower-to-gpu="half-storage=f16 threads=64" | FileCheck %s
// RUN: attn-opt %s --attn-to-ptx="chip=sm_80 half-storage=f16" | FileCheck %s --check-prefix=PTX

// Attention with a value head dim (8) the tensor-core kernel does not
// take: the flash tile program on the SIMT strategy, one block
// of `threads` threads per query block of 32 rows (the largest tiles whose
// program fits the shared memory budget), the grid (query blocks, heads,
// batch). Its tiles are f32 and each key tile is loaded in its own
// iteration.
// CHECK-LABEL: gpu.module @attn_kernels
// CHECK:       gpu.func @causal_0_gpu(
// CHECK-SAME:    memref<?x4x?x16xf16, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-SAME:    memref<?x4x?x8xf16, strided<[?, ?, ?, ?], offset: ?>>) kernel
// CHECK-SAME:    attn_tile.simt
// CHECK-SAME:    known_block_size = array<i32: 64, 1, 1>
// CHECK-DAG:     %[[B:.*]] = gpu.block_id z
// CHECK-DAG:     %[[H:.*]] = gpu.block_id y
// CHECK-DAG:     %[[X:.*]] = gpu.block_id x
// CHECK:         %[[Q0:.*]] = arith.muli %[[X]], %c32
// CHECK:         attn_tile.load %{{.*}}[%[[B]], %[[H]], %[[Q0]], %{{.*}}] rows_below %{{.*}} -> !attn_tile.tile<32x16xf32>
// CHECK:         scf.for
// CHECK:           attn_tile.load {{.*}} -> !attn_tile.tile<32x16xf32>
// CHECK:           attn_tile.load {{.*}} -> !attn_tile.tile<32x8xf32>
// CHECK:           attn_tile.online_softmax
// CHECK:         {attn.stage = "key_blocks"}
// CHECK:         attn_tile.finalize
// CHECK:         gpu.return
func.func @causal(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x2x?x16xbf16>,
                  %v: tensor<?x2x?x8xbf16>) -> tensor<?x4x?x8xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x4x?x16xbf16>, tensor<?x2x?x16xbf16>, tensor<?x2x?x8xbf16>
        -> tensor<?x4x?x8xbf16>
  return %o : tensor<?x4x?x8xbf16>
}

// Linear attention: one block per (head, sequence) carries the chunked
// tile program (x: heads, y: sequences); its tiles fit in shared memory,
// so the kernel takes no workspace.
// CHECK:       gpu.func @linear_0_gpu(
// CHECK-SAME:    memref<?x2x?x4xf16, strided<[?, ?, ?, ?], offset: ?>>) kernel
// CHECK-SAME:    attn_tile.simt
// CHECK-DAG:     %[[LH:.*]] = gpu.block_id x
// CHECK-DAG:     %[[LB:.*]] = gpu.block_id y
// CHECK:         attn_tile.splat {{.*}} -> !attn_tile.tile<8x4xf32>
// CHECK:         scf.for
// CHECK:           attn_tile.load %{{.*}}[%[[LB]], %[[LH]], {{.*}} -> !attn_tile.tile<16x8xf32>
// CHECK:           attn_tile.state_update
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
