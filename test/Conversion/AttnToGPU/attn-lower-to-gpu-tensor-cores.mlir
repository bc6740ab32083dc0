// RUN: attn-opt %s --attn-lower-to-gpu | attn-opt --pass-pipeline='builtin.module(gpu.module(attn-tile-to-mma-sync))' | FileCheck %s
// RUN: attn-opt %s --attn-lower-to-gpu="tensor-cores=false" | FileCheck %s --check-prefix=SIMT
// RUN: attn-opt %s --attn-to-ptx="chip=sm_80" | FileCheck %s --check-prefix=PTX

// bf16 attention with head dims that are multiples of 16 runs on tensor
// cores: the flash tile program on the mma.sync strategy, 128 threads (4
// warps of 16 query rows: a score_mod keeps blocks at 64 rows), Q staged
// by cp.async and read into registers once; in the key loop, the next
// tile's K and V fetched by cp.async while this one runs, one masked and
// one unmasked key-tile body, each with S = Q K^T (K's fragments by
// ldmatrix; Dk = 32: 2 k-steps x 8 n-tiles) and O += P V (64 keys: 4
// k-steps x 2 n-tiles) on mma.sync, V read transposed, and the score
// region inlined on the accumulator fragments (32 elements a thread).
// CHECK-LABEL: gpu.func @softcap_0_gpu(
// CHECK-SAME:    known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME:    nvvm.maxnreg = 255 : i32
// CHECK:         gpu.dynamic_shared_memory
// CHECK:         nvgpu.device_async_copy {{.*}}, 8, {{.*}} {bypassL1}
// CHECK:         scf.for
// CHECK-NEXT:      nvvm.cp.async.wait.group 0
// CHECK-NEXT:      gpu.barrier
// CHECK:           nvgpu.device_async_copy
// CHECK:           scf.if
// CHECK:             nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK-COUNT-16:    nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK-COUNT-32:    math.tanh
// CHECK:             gpu.shuffle  xor
// CHECK:             math.exp2
// CHECK:             nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-8:     nvvm.mma.sync
// CHECK:         {attn.stage = "key_blocks"}
// CHECK:         gpu.return

// Without tensor cores the same tile program goes to the SIMT strategy:
// f32 tiles, no layouts, each key tile loaded in its own iteration.
// SIMT-LABEL:  gpu.func @softcap_0_gpu(
// SIMT-SAME:     attn_tile.simt
// SIMT-NOT:      nvvm.mma.sync
// SIMT:          attn_tile.load {{.*}} -> !attn_tile.tile<32x32xf32>
// SIMT:          scf.for
// SIMT:            attn_tile.load {{.*}} -> !attn_tile.tile<32x32xf32>
// SIMT:            attn_tile.load {{.*}} -> !attn_tile.tile<32x16xf32>
// SIMT:            attn_tile.online_softmax
// SIMT:          gpu.return

// The PTX has the tensor-core instructions and the launch bounds.
// PTX:         gpu.binary @attn_kernels
// PTX-SAME:      .maxntid 128, 1, 1
// PTX-SAME:      .maxnreg 255
// PTX-SAME:      cp.async.cg.shared.global
// PTX-SAME:      ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-SAME:      mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-SAME:      ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
func.func @softcap(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x2x?x32xbf16>,
                   %v: tensor<?x2x?x16xbf16>) -> tensor<?x4x?x16xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x4x?x32xbf16>, tensor<?x2x?x32xbf16>, tensor<?x2x?x16xbf16>
        -> tensor<?x4x?x16xbf16>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %c = arith.constant 20.0 : f32
      %x = arith.divf %s, %c : f32
      %t = math.tanh %x : f32
      %y = arith.mulf %t, %c : f32
      attn.yield %y : f32
    }
  return %o : tensor<?x4x?x16xbf16>
}
