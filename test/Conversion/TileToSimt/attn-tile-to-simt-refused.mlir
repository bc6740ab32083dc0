// RUN: attn-opt %s --pass-pipeline='builtin.module(gpu.module(attn-tile-to-simt))' -split-input-file -verify-diagnostics

// Kernels handed to the SIMT strategy that it refuses, each with the reason.

// The threads that share each op must be known.
gpu.module @kernels {
  // expected-error @below {{needs a known block size of [threads, 1, 1] for the SIMT strategy}}
  gpu.func @no_block_size(%out: memref<4xf32>) kernel attributes {attn_tile.simt} {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %t = attn_tile.splat %zero : f32 -> !attn_tile.tile<4xf32>
    attn_tile.store %t, %out[%c0] : !attn_tile.tile<4xf32> -> memref<4xf32>
    gpu.return
  }
}

// -----

// The workspace must be one of the kernel's arguments.
gpu.module @kernels {
  // expected-error @below {{names argument 3 as its workspace, which it does not have}}
  gpu.func @missing_workspace(%out: memref<4xf32>) kernel
      attributes {attn_tile.simt, attn_tile.simt_workspace = 3 : i64,
                  attn_tile.simt_shared_tile_bytes = 0 : i64,
                  known_block_size = array<i32: 32, 1, 1>} {
    gpu.return
  }
}

// -----

// A kernel with a workspace says which tiles stay in shared memory.
gpu.module @kernels {
  // expected-error @below {{names a workspace but not attn_tile.simt_shared_tile_bytes}}
  gpu.func @no_limit(%ws: memref<?x2x64xf32, strided<[?, ?, ?], offset: ?>>) kernel
      attributes {attn_tile.simt, attn_tile.simt_workspace = 0 : i64,
                  known_block_size = array<i32: 32, 1, 1>} {
    gpu.return
  }
}

// -----

// The workspace holds f32 words: a 16-bit tile cannot live there.
gpu.module @kernels {
  gpu.func @wide_tile(%a: memref<8x8xbf16>, %out: memref<8x8xbf16>,
                      %ws: memref<?x2x64xf32, strided<[?, ?, ?], offset: ?>>) kernel
      attributes {attn_tile.simt, attn_tile.simt_workspace = 2 : i64,
                  attn_tile.simt_shared_tile_bytes = 0 : i64,
                  known_block_size = array<i32: 32, 1, 1>} {
    %c0 = arith.constant 0 : index
    // expected-error @below {{has a 'bf16' tile, but the SIMT strategy keeps only f32 tiles in the workspace}}
    %t = attn_tile.load %a[%c0, %c0] : memref<8x8xbf16> -> !attn_tile.tile<8x8xbf16>
    attn_tile.store %t, %out[%c0, %c0] : !attn_tile.tile<8x8xbf16> -> memref<8x8xbf16>
    gpu.return
  }
}
