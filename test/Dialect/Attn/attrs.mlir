// RUN: attn-opt %s | attn-opt | FileCheck %s

// Every named mask round-trips; defaults are elided when printing.

func.func @masks(%q: tensor<?x4x?x32xf32>, %k: tensor<?x4x?x32xf32>,
                 %v: tensor<?x4x?x32xf32>) {
  // CHECK-LABEL: func @masks
  // CHECK: mask = #attn.causal}
  %0 = attn.attention %q, %k, %v {mask = #attn.causal<offset = 0, align = bottom_right>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.causal<offset = -2>}
  %1 = attn.attention %q, %k, %v {mask = #attn.causal<offset = -2>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.sliding_window<left = 8, right = 2, align = top_left>}
  %2 = attn.attention %q, %k, %v {mask = #attn.sliding_window<left = 8, right = 2, align = top_left>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.sliding_window<left = 0>}
  %3 = attn.attention %q, %k, %v {mask = #attn.sliding_window<left = 0, right = 0>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.or<[#attn.sinks<count = 4>, #attn.block_diagonal<size = 16>]>}
  %4 = attn.attention %q, %k, %v {mask = #attn.or<[#attn.sinks<count = 4>, #attn.block_diagonal<size = 16>]>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.prefix_lm<prefix = 7>}
  %5 = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 7>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.strided_shard<stride = 4>}
  %6 = attn.attention %q, %k, %v {mask = #attn.strided_shard<stride = 4, block = 1>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.per_head<[#attn.causal, #attn.and<[#attn.causal, #attn.sliding_window<left = 4>]>], heads = [0, 1, 1, 0]>}
  %7 = attn.attention %q, %k, %v
      {mask = #attn.per_head<[#attn.causal, #attn.and<[#attn.causal, #attn.sliding_window<left = 4>]>], heads = [0, 1, 1, 0]>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.neighborhood<grid = [4, 8], kernel = [3, 3], dilation = [1, 2], causal_axes = [0]>}
  %8 = attn.attention %q, %k, %v
      {mask = #attn.neighborhood<causal_axes = [0], grid = [4, 8], dilation = [1, 2], kernel = [3, 3]>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  // CHECK: mask = #attn.neighborhood<grid = [2, 4, 4], kernel = [1, 3, 3]>}
  %9 = attn.attention %q, %k, %v {mask = #attn.neighborhood<grid = [2, 4, 4], kernel = [1, 3, 3]>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32> -> tensor<?x4x?x32xf32>
  return
}

// CHECK-LABEL: func @enums
// CHECK-SAME: #attn.normalization<softmax>
// CHECK-SAME: #attn.feature_map<elu_plus_one>
// CHECK-SAME: #attn.linear_normalization<denominator>
// CHECK-SAME: #attn.gate<per_key>
// CHECK-SAME: #attn.update<additive>
// CHECK-SAME: #attn.combine<weighted_sum>
func.func @enums() attributes {all = [#attn.normalization<softmax>, #attn.feature_map<elu_plus_one>,
    #attn.linear_normalization<denominator>, #attn.gate<per_key>, #attn.update<additive>,
    #attn.combine<weighted_sum>]} {
  return
}

// Mask extents up to 2^30 tokens are accepted (the verifier's bound).
// CHECK-LABEL: func @largest_extents
// CHECK-SAME: #attn.causal<offset = 1073741824>
// CHECK-SAME: #attn.sliding_window<left = 1073741824, right = 1073741824>
// CHECK-SAME: #attn.neighborhood<grid = [32768, 32768], kernel = [3, 3]>
func.func @largest_extents() attributes {all = [#attn.causal<offset = 1073741824>,
    #attn.sliding_window<left = 1073741824, right = 1073741824>,
    #attn.neighborhood<grid = [32768, 32768], kernel = [3, 3]>]} {
  return
}
