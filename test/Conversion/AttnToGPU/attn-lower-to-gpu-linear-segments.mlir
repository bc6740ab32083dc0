// RUN: attn-opt %s --attn-lower-to-gpu="chip=sm_90a" | FileCheck %s

// The tensor-core linear kernel's chunk-parallel form (ChunkSegments in
// lib/Conversion/AttnToTiles/LinearTileProgram.h). The grid's z axis holds
// splits x (2 S - 1) blocks for S segments: the first splits x (S - 1) are
// boundary blocks, the rest output blocks. A boundary block carries its
// segment's local state and decay, waits for the boundary before it (thread
// 0 spins on an atomic read of its flag, then fences), stores D o S + L and
// raises its own flag (barrier, fence, atomic add). An output block starts
// from the boundary before its segment (or zero) and runs the chunk loop.

// CHECK-LABEL: gpu.func @simple_gla_0_gpu(
// CHECK-SAME:    %[[WS:arg5]]: memref<?x16x?xf32
// CHECK: %[[Z:.*]] = gpu.block_id  z
// CHECK: %[[ZSIZE:.*]] = gpu.grid_dim  z
// CHECK: %[[ISB:.*]] = arith.cmpi ult, %[[Z]], %{{.*}} : index
// CHECK: %[[BOUNDS:.*]] = memref.reinterpret_cast %{{.*}} to offset: [%{{.*}}], sizes: [%{{.*}}, 128, 128], strides: [16384, 128, 1]
// CHECK: scf.if %[[ISB]] {
// CHECK:   scf.for
// CHECK:     attn_tile.state_update
// CHECK:     attn_tile.decay_state
// CHECK:   } {attn.stage = "segment_boundary"}
// CHECK:   %[[START:.*]] = scf.if %{{.*}} -> (!attn_tile.tile<128x64xf32, {{.*}}>) {
// CHECK:   } else {
// CHECK:     scf.if
// CHECK:       scf.while
// CHECK:         memref.atomic_rmw addf %{{.*}}, %[[WS]]
// CHECK:       llvm.fence syncscope("device") acq_rel
// CHECK:     gpu.barrier
// CHECK:     attn_tile.load %[[BOUNDS]]
// CHECK:   %[[AFTER:.*]] = attn_tile.map %[[START]], %{{.*}}#0, %{{.*}}#1
// CHECK:   attn_tile.store %[[AFTER]], %[[BOUNDS]]
// CHECK:   gpu.barrier
// CHECK:   scf.if
// CHECK:     llvm.fence syncscope("device") acq_rel
// CHECK:     memref.atomic_rmw addf %{{.*}}, %[[WS]]
// CHECK: } else {
// CHECK:   scf.if %{{.*}} -> (!attn_tile.tile<128x64xf32, {{.*}}>) {
// CHECK:   } else {
// CHECK:     scf.while
// CHECK:     attn_tile.load %[[BOUNDS]]
// CHECK:   scf.for
// CHECK:     attn_tile.matmul
// CHECK:     attn_tile.state_update
// CHECK:   } {attn.stage = "chunks"}

func.func @simple_gla(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?xf32>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xf32>) {causal, chunk_size = 64, gate = #attn.gate<per_token>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
