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

// The delta rule's form (ChunkSegments' delta transforms). Along z: with
// one segment (grid z = the value splits) every block is an output block;
// else a transform block per 8 chunks, two chain blocks per value split
// (32 of its 64 columns each), then the output blocks. The workspace holds
// the boundaries, a flag per chain block and boundary, a flag per
// transform block and, from a multiple of 4 words, each chunk's transforms
// in bf16, two a word: W ([chunks 64, 128]), then U ([chunks 64, 128]).
// Transform blocks solve each chunk's UT inverse, store W and U and raise
// their flag; the chain block fetches each chunk's W, K and U (after its
// group's flag) one chunk ahead, runs no solve, and stores and raises each
// boundary; output blocks (ungated here) read W and U too and wait for
// both chain blocks of their split.

// CHECK-LABEL: gpu.func @delta_0_gpu(
// CHECK-SAME:    %[[DWS:arg5]]: memref<?x16x?xf32
// CHECK: %[[DZ:.*]] = gpu.block_id  z
// CHECK: %[[DZSIZE:.*]] = gpu.grid_dim  z
// CHECK: %[[DCHUNKS:.*]] = arith.ceildivui %{{.*}}, %c64
// CHECK: %[[GROUPS:.*]] = arith.ceildivui %[[DCHUNKS]], %c8
// CHECK: %[[SPLIT:.*]] = arith.cmpi ne, %[[DZSIZE]], %c2
// CHECK: %[[TRANSFORMS:.*]] = arith.select %[[SPLIT]], %[[GROUPS]], %c0
// CHECK: %[[CHAINS:.*]] = arith.select %[[SPLIT]], %c4, %c0
// CHECK: %[[IST:.*]] = arith.cmpi ult, %[[DZ]], %[[TRANSFORMS]]
// CHECK: %[[WBASE:.*]] = builtin.unrealized_conversion_cast %{{.*}} : memref<f32> to memref<bf16>
// CHECK: %[[WS:.*]] = memref.reinterpret_cast %[[WBASE]] to offset: [%{{.*}}], sizes: [%[[ROWS:.*]], 128], strides: [128, 1]
// CHECK: %[[UBASE:.*]] = builtin.unrealized_conversion_cast %{{.*}} : memref<f32> to memref<bf16>
// CHECK: %[[US:.*]] = memref.reinterpret_cast %[[UBASE]] to offset: [%{{.*}}], sizes: [%[[ROWS]], 128], strides: [128, 1]
// CHECK: scf.if %{{.*}} {
// CHECK:   attn_tile.ut_solve
// CHECK: } {attn.stage = "chunks"}
// CHECK: } else {
// CHECK:   scf.if %[[IST]] {
// CHECK:     scf.for
// CHECK:       attn_tile.ut_solve
// CHECK:       attn_tile.store %{{.*}}, %[[WS]]
// CHECK:       attn_tile.store %{{.*}}, %[[US]]
// CHECK:     } {attn.stage = "chunk_transforms"}
// CHECK:     llvm.fence syncscope("device") acq_rel
// CHECK:     memref.atomic_rmw addf %{{.*}}, %[[DWS]]
// CHECK:   } else {
// CHECK:       scf.while
// CHECK:         memref.atomic_rmw addf %{{.*}}, %[[DWS]]
// CHECK:       attn_tile.load %[[WS]][%c0{{.*}}, %c0{{.*}}] rows_below
// CHECK:       attn_tile.load %[[US]][%c0{{.*}}, %{{.*}}] rows_below {{.*}} -> !attn_tile.tile<64x32xbf16, #attn_tile.shared>
// CHECK:       scf.for {{.*}} -> (!attn_tile.tile<128x32xf32, {{.*}}>, !attn_tile.tile<64x128xbf16, #attn_tile.shared>
// CHECK:         scf.while
// CHECK:         attn_tile.load %[[WS]]
// CHECK:         attn_tile.load %[[US]]
// CHECK-NOT:     attn_tile.ut_solve
// CHECK:         attn_tile.state_update
// CHECK:         attn_tile.store {{.*}} : !attn_tile.tile<128x32xf32
// CHECK:         memref.atomic_rmw addf %{{.*}}, %[[DWS]]
// CHECK:       } {attn.stage = "chain_chunks"}
// CHECK:       } {attn.stage = "chain_tail"}
// CHECK:       scf.while
// CHECK:       scf.while
// CHECK:     scf.for
// CHECK:       attn_tile.load %[[WS]]
// CHECK:       attn_tile.load %[[US]]
// CHECK-NOT:   attn_tile.ut_solve
// CHECK:       attn_tile.state_update
// CHECK:     } {attn.stage = "chunks"}

func.func @delta(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %beta: tensor<?x16x?xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v beta(%beta : tensor<?x16x?xbf16>) {causal, chunk_size = 64, update = #attn.update<delta>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
