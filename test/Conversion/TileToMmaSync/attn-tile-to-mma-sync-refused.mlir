// RUN: attn-opt %s --pass-pipeline='builtin.module(gpu.module(attn-tile-to-mma-sync))' -split-input-file -verify-diagnostics

// Valid IR the pass refuses (not an "invalid" input: the verifier accepts it).

// A shared tile an scf.for carries must be loaded before the loop and again
// in its body: the two loads share a ring of two regions. Any other carried
// shared tile would have its two values in one region, so it is refused.

#mma = #attn_tile.mma<warps = [4, 1]>
module attributes {gpu.container_module} {
gpu.module @kernels {
  gpu.func @carried_map(%q: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                        %n: index, %chunks: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %x0 = attn_tile.load %q[%c0, %c0] rows_below %n
        : memref<?x64xbf16, strided<[?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    // expected-error @below {{carries a shared tile that is not loaded before the loop and again in its body}}
    %last = scf.for %c = %c0 to %chunks step %c1 iter_args(%x = %x0)
        -> (!attn_tile.tile<64x64xbf16, #attn_tile.shared>) {
      %y = attn_tile.map %x
          : (!attn_tile.tile<64x64xbf16, #attn_tile.shared>)
            -> !attn_tile.tile<64x64xbf16, #attn_tile.shared> {
      ^bb0(%i: index, %j: index, %v: bf16):
        attn_tile.yield %v : bf16
      }
      scf.yield %y : !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    }
    gpu.return
  }
}
}
