// RUN: attn-opt %s --pass-pipeline='builtin.module(gpu.module(attn-tile-to-mma-sync))' | FileCheck %s

#mma = #attn_tile.mma<warps = [4, 1]>
#rows = #attn_tile.slice<dim = 1, parent = #mma>

module attributes {gpu.container_module} {
gpu.module @kernels {
  // CHECK-LABEL: gpu.func @scores
  gpu.func @scores(%q: memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                   %o: memref<?x2x?x64xf32>, %b: index, %h: index,
                   %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    // Two consecutive shared loads: one barrier before, cp.async of 16-byte
    // chunks zero-filled past %n, one wait and one barrier after the second.
    // CHECK: gpu.barrier
    // CHECK: nvgpu.device_async_copy
    // CHECK: nvgpu.device_async_create_group
    // CHECK-NOT: gpu.barrier
    // CHECK: nvgpu.device_async_copy
    // CHECK: nvvm.cp.async.wait.group 0
    // CHECK-NEXT: gpu.barrier
    %x = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    %y = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    // S = X Y^T on m16n8k16 MMAs: A fragments by ldmatrix, B fragments by
    // ldmatrix of the rows of Y (not transposed: Y is stored [n][k]).
    // CHECK: vector.broadcast %{{.*}} : f32 to vector<32xf32>
    // CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
    // CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
    // CHECK: nvvm.mma.sync
    %acc = attn_tile.splat %zero : f32 -> !attn_tile.tile<64x64xf32, #mma>
    %s = attn_tile.matmul %x, %y, %acc {transpose_rhs}
        : !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xf32, #mma>
    // A row maximum: within the thread, then two shuffles in the quad.
    // CHECK: arith.maxnumf
    // CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32
    // CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32
    %m = attn_tile.reduce <max> %s
        : !attn_tile.tile<64x64xf32, #mma> -> !attn_tile.tile<64xf32, #rows>
    // The map's body runs once per element the thread holds (32).
    // CHECK-COUNT-32: arith.subf
    %d = attn_tile.map %s, %m {broadcast = array<i64: -1, 0>}
        : (!attn_tile.tile<64x64xf32, #mma>, !attn_tile.tile<64xf32, #rows>)
          -> !attn_tile.tile<64x64xf32, #mma> {
    ^bb0(%i: index, %j: index, %v: f32, %mi: f32):
      %r = arith.subf %v, %mi : f32
      attn_tile.yield %r : f32
    }
    // CHECK: memref.store %{{.*}}, %{{.*}} : memref<?x2x?x64xf32>
    attn_tile.store %d, %o[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xf32, #mma> -> memref<?x2x?x64xf32>
    gpu.return
  }
}
}
