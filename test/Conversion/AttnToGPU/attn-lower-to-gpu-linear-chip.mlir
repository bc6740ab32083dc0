// RUN: attn-opt %s --attn-lower-to-gpu="chip=sm_90a" | FileCheck %s --check-prefix=HOPPER
// RUN: attn-opt %s --attn-lower-to-gpu="chip=sm_80" | FileCheck %s --check-prefix=AMPERE
// RUN: not attn-opt %s --attn-lower-to-gpu="chip=sm_70" 2>&1 | FileCheck %s --check-prefix=OLD

// The tensor-core delta-rule kernel sizes its block for the chip: with a
// gate per token or none at Dk = 128, a block holds 64 value columns of the
// state for sm_90 (where ptxas fits it in registers) and 32 for sm_80
// (where 64 would spill); with a gate per head it holds 32 on both.

// HOPPER-LABEL: gpu.func @gated_0_gpu(
// HOPPER:         attn_tile.state_update {{.*}} : !attn_tile.tile<128x64xf32, #attn_tile.mma<warps = [4, 1]>>, {{.*}}, !attn_tile.tile<64x64xbf16
// HOPPER-LABEL: gpu.func @ungated_0_gpu(
// HOPPER:         attn_tile.state_update {{.*}} : !attn_tile.tile<128x64xf32, #attn_tile.mma<warps = [4, 1]>>
// HOPPER-LABEL: gpu.func @per_head_0_gpu(
// HOPPER:         attn_tile.state_update {{.*}} : !attn_tile.tile<128x32xf32, #attn_tile.mma<warps = [4, 1]>>
// AMPERE-LABEL: gpu.func @gated_0_gpu(
// AMPERE:         attn_tile.state_update {{.*}} : !attn_tile.tile<128x32xf32, #attn_tile.mma<warps = [4, 1]>>
// AMPERE-LABEL: gpu.func @ungated_0_gpu(
// AMPERE:         attn_tile.state_update {{.*}} : !attn_tile.tile<128x32xf32, #attn_tile.mma<warps = [4, 1]>>
// AMPERE-LABEL: gpu.func @per_head_0_gpu(
// AMPERE:         attn_tile.state_update {{.*}} : !attn_tile.tile<128x32xf32, #attn_tile.mma<warps = [4, 1]>>
// OLD: error: attn generates code for sm_80, {{.*}} not 'sm_70'

func.func @gated(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?xf32>, %beta: tensor<?x16x?xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xf32>) beta(%beta : tensor<?x16x?xbf16>) {causal, chunk_size = 64, gate = #attn.gate<per_token>, update = #attn.update<delta>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}

func.func @ungated(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %beta: tensor<?x16x?xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v beta(%beta : tensor<?x16x?xbf16>) {causal, chunk_size = 64, update = #attn.update<delta>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}

func.func @per_head(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %g: tensor<16xf32>, %beta: tensor<?x16x?xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<16xf32>) beta(%beta : tensor<?x16x?xbf16>) {causal, chunk_size = 64, gate = #attn.gate<per_head>, update = #attn.update<delta>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
