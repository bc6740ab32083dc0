// RUN: attn-opt %s --split-input-file --pass-pipeline="builtin.module(gpu.module(attn-tile-to-simt))" | FileCheck %s

// A chunk loop that carries a state tile, on the SIMT strategy: every tile
// is a view of the block's dynamic shared memory (2-D rows padded to an
// odd number of words: 8 columns become 9), the carried state is copied
// before the yield into a region that lives across the loop, and each op's
// elements are shared by the 64 threads, a barrier after each op.

// CHECK-LABEL: gpu.func @carried_state
// The initial state: a splat over 16 x 8 elements, thread t taking t,
// t + 64, ...
// CHECK:      %[[TID:.*]] = gpu.thread_id x
// CHECK:      scf.for %[[E:.*]] = %[[TID]] to %c128 step %c64 {
// CHECK:        arith.divui %[[E]], %c8
// CHECK:        arith.remui %[[E]], %c8
// CHECK:        memref.store {{.*}} : memref<16x8xf32, strided<[9, 1]>, #gpu.address_space<workgroup>>
// CHECK:      }
// CHECK-NEXT: gpu.barrier
// CHECK:      scf.for {{.*}} iter_args(%[[S:.*]] = %{{.*}}) -> (memref<16x8xf32, strided<[9, 1]>, #gpu.address_space<workgroup>>)
// The chunk's loads: zero past rows_below.
// CHECK:        gpu.dynamic_shared_memory
// CHECK:        memref.view
// CHECK:        scf.if
// CHECK:        gpu.barrier
// The state update reads the carried buffer.
// CHECK:        memref.load %[[S]]
// CHECK:        gpu.barrier
// The copy, into the region that the loop carries, then its yield.
// CHECK:        memref.store %{{.*}}, %[[COPY:[a-z_0-9]+]][
// CHECK:        gpu.barrier
// CHECK:        scf.yield %[[COPY]]
// CHECK-NOT:  memref.alloc
// CHECK:      gpu.return
gpu.module @kernels {
  gpu.func @carried_state(%k: memref<?x16xf32>, %v: memref<?x8xf32>,
                          %out: memref<16x8xf32>, %n: index) kernel
      attributes {attn_tile.simt, known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %zero = arith.constant 0.0 : f32
    %s0 = attn_tile.splat %zero : f32 -> !attn_tile.tile<16x8xf32>
    %numChunks = arith.ceildivui %n, %c4 : index
    %c1 = arith.constant 1 : index
    %s = scf.for %c = %c0 to %numChunks step %c1 iter_args(%state = %s0)
        -> (!attn_tile.tile<16x8xf32>) {
      %t0 = arith.muli %c, %c4 : index
      %kt = attn_tile.load %k[%t0, %c0] rows_below %n
          : memref<?x16xf32> -> !attn_tile.tile<4x16xf32>
      %vt = attn_tile.load %v[%t0, %c0] rows_below %n
          : memref<?x8xf32> -> !attn_tile.tile<4x8xf32>
      %next = attn_tile.state_update %state, %kt, %vt
          : !attn_tile.tile<16x8xf32>, !attn_tile.tile<4x16xf32>,
            !attn_tile.tile<4x8xf32>
      scf.yield %next : !attn_tile.tile<16x8xf32>
    }
    attn_tile.store %s, %out[%c0, %c0]
        : !attn_tile.tile<16x8xf32> -> memref<16x8xf32>
    gpu.return
  }
}

// -----

// Tiles larger than attn_tile.simt_shared_tile_bytes live in the workspace
// slice [b, h, :] of the block's (sequence, head) (x: heads, y: sequences),
// f32 rows one after the other; the others stay in shared memory. The UT
// solve runs each column on its own thread.

// CHECK-LABEL: gpu.func @workspace_tiles
// CHECK-DAG:  %[[H:.*]] = gpu.block_id x
// CHECK-DAG:  %[[B:.*]] = gpu.block_id y
// CHECK:      memref.subview %{{.*}}[%[[B]], %[[H]], 0] [1, 1, 1024]
// CHECK:      memref.extract_strided_metadata
// CHECK:      memref.reinterpret_cast {{.*}} to memref<32x32xf32, strided<[32, 1], offset: ?>>
// The solve: the identity, then one column a thread.
// CHECK:      gpu.barrier
// CHECK:      scf.for %[[M:[a-z0-9_]+]] = %thread_id_x{{[_0-9]*}} to %c32{{[_0-9]*}} step %c32{{[_0-9]*}} {
// CHECK:        %[[NEXT:.*]] = arith.addi %[[M]], %c1
// CHECK:        scf.for %{{.*}} = %[[NEXT]] to
// CHECK:      gpu.barrier
// The row sums: a 1-D tile of 128 bytes stays in shared memory.
// CHECK:      memref.view {{.*}} to memref<32xf32, #gpu.address_space<workgroup>>
gpu.module @kernels {
  gpu.func @workspace_tiles(%a: memref<32x32xf32>, %out: memref<32xf32>,
                            %ws: memref<?x2x2048xf32, strided<[?, ?, ?], offset: ?>>) kernel
      attributes {attn_tile.simt, attn_tile.simt_workspace = 2 : i64,
                  attn_tile.simt_shared_tile_bytes = 1024 : i64,
                  known_block_size = array<i32: 32, 1, 1>} {
    %c0 = arith.constant 0 : index
    %at = attn_tile.load %a[%c0, %c0]
        : memref<32x32xf32> -> !attn_tile.tile<32x32xf32>
    %t = attn_tile.ut_solve %at : !attn_tile.tile<32x32xf32>
    %sums = attn_tile.reduce <add> %t
        : !attn_tile.tile<32x32xf32> -> !attn_tile.tile<32xf32>
    attn_tile.store %sums, %out[%c0]
        : !attn_tile.tile<32xf32> -> memref<32xf32>
    gpu.return
  }
}
