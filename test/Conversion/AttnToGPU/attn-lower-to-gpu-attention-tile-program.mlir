// RUN: attn-opt %s --attn-lower-to-gpu | FileCheck %s
// RUN: attn-opt %s --attn-lower-to-gpu | attn-opt --pass-pipeline='builtin.module(gpu.module(attn-tile-to-mma-sync))' | FileCheck %s --check-prefix=MMA

// A bf16 attention on tensor cores is the flash tile program
// (AttentionTileProgram.cpp) on the mma.sync strategy's layouts, one block
// of 4 warps per 128 query rows at Dv = 64 (getTensorCoreAttentionTiles):
// Q, K and V in shared memory, the scores and the accumulator in
// #attn_tile.mma registers, the running maximum and sum sliced along their
// rows, P handed to the second matmul as the A operand in registers. The
// key loop carries K and V: the first tile's are loaded before it, and each
// iteration loads the next tile's before it runs on its own (emitKeyTiles'
// fetch). Without a score_mod the scores' scale goes to online_softmax, and
// a whole unmasked tile needs no map at all; one the keys' end cuts short
// keeps its keys by a compare per element.

// CHECK-LABEL: gpu.func @causal_lse_0_gpu(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: attn_tile.load %arg0[%block_id_z, %block_id_y, {{.*}} -> !attn_tile.tile<128x64xbf16, #attn_tile.shared>
// With Dk <= 64, Q's A fragments are read into registers once, before the
// key loop.
// CHECK-NEXT: attn_tile.convert_layout %{{.*}} : !attn_tile.tile<128x64xbf16, #attn_tile.shared> -> !attn_tile.tile<128x64xbf16, #attn_tile.operand<index = 0, parent = #attn_tile.mma<warps = [4, 1]>>>
// CHECK: %[[K0:.*]] = attn_tile.load %arg1{{.*}} -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
// CHECK: %[[V0:.*]] = attn_tile.load %arg2{{.*}} -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
// CHECK: scf.for {{.*}} iter_args({{.*}}, %[[K:.*]] = %[[K0]], %[[V:.*]] = %[[V0]]) -> (!attn_tile.tile<128xf32, #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>>, !attn_tile.tile<128xf32, #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>>, !attn_tile.tile<128x64xf32, #attn_tile.mma<warps = [4, 1]>>, !attn_tile.tile<64x64xbf16, #attn_tile.shared>, !attn_tile.tile<64x64xbf16, #attn_tile.shared>)
// CHECK:   %[[KNEXT:.*]] = attn_tile.load %arg1{{.*}} -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
// CHECK:   %[[VNEXT:.*]] = attn_tile.load %arg2{{.*}} -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
// CHECK:   scf.if
// CHECK:     %[[DOTS:.*]] = attn_tile.matmul %{{.*}}, %[[K]], %{{.*}} {transpose_rhs} : {{.*}}, !attn_tile.tile<128x64xf32, #attn_tile.mma<warps = [4, 1]>>
// CHECK:     %[[SCORES:.*]] = scf.if
// CHECK-NEXT:  scf.yield %[[DOTS]]
// CHECK-NEXT: } else {
// CHECK-NEXT:  attn_tile.map %[[DOTS]]
// CHECK:     attn_tile.online_softmax %[[SCORES]], {{.*}} {scale = 1.250000e-01 : f32}
// CHECK:     attn_tile.convert_layout {{.*}} -> !attn_tile.tile<128x64xbf16, #attn_tile.operand<index = 0, parent = #attn_tile.mma<warps = [4, 1]>>>
// CHECK:     attn_tile.matmul %{{.*}}, %[[V]], %{{.*}}
// CHECK:   scf.yield {{.*}}, %[[KNEXT]], %[[VNEXT]]
// CHECK: attn_tile.finalize
// CHECK: attn_tile.store
// CHECK: attn_tile.log_sum_exp
// CHECK: attn_tile.store

// On the strategy, online_softmax becomes row reductions (two shuffles
// within a quad) and maps (DecomposeTileSoftmax.cpp), each probability one
// multiply-add and an exp2. The carried K and V are double-buffered: each
// iteration waits for the tiles fetched by the one before as it starts.
// MMA-LABEL: gpu.func @causal_lse_0_gpu(
// MMA: scf.for
// MMA-NEXT: nvvm.cp.async.wait.group 0
// MMA-NEXT: gpu.barrier
// MMA:   gpu.shuffle xor
// MMA:   gpu.shuffle xor
// MMA:   math.fma
// MMA-NEXT: math.exp2
func.func @causal_lse(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                      %v: tensor<?x2x?x64xbf16>)
    -> (tensor<?x4x?x64xbf16>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x4x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
      -> tensor<?x4x?x64xbf16>, tensor<?x4x?xf32>
  return %o, %lse : tensor<?x4x?x64xbf16>, tensor<?x4x?xf32>
}

// A block list whose query blocks hold 128 rows (a block mask keeps 64 rows
// a thread block): the 64 rows of a thread block read the list of block
// q0 / 128, not of their own index.
// CHECK-LABEL: gpu.func @block_list_128_0_gpu(
// CHECK: %[[Q0:.*]] = arith.muli %block_id_x, %c64 : index
// CHECK: %[[C128:.*]] = arith.constant 128 : index
// CHECK: %[[LIST:.*]] = arith.divui %[[Q0]], %[[C128]] : index
// CHECK: memref.load %arg3[%block_id_z, %block_id_y, %[[LIST]]]
func.func @block_list_128(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x4x?x64xbf16>,
                          %v: tensor<?x4x?x64xbf16>,
                          %kv_num_blocks: tensor<?x4x?xi32>,
                          %kv_indices: tensor<?x4x?x?xi32>,
                          %full_kv_num_blocks: tensor<?x4x?xi32>,
                          %full_kv_indices: tensor<?x4x?x?xi32>)
    -> tensor<?x4x?x64xbf16> {
  %o = attn.attention %q, %k, %v
      block_mask(%kv_num_blocks, %kv_indices, %full_kv_num_blocks,
                 %full_kv_indices : tensor<?x4x?xi32>, tensor<?x4x?x?xi32>,
                 tensor<?x4x?xi32>, tensor<?x4x?x?xi32>)
      {block_size = array<i64: 128, 64>, mask = #attn.causal}
      : tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>,
        tensor<?x4x?x64xbf16> -> tensor<?x4x?x64xbf16>
  return %o : tensor<?x4x?x64xbf16>
}
