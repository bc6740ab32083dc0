// RUN: attn-opt %s --attn-simplify-masks | FileCheck %s

// CHECK-LABEL: func @prefix_lm
// CHECK: mask = #attn.or<[#attn.causal, #attn.sinks<count = 64>]>
func.func @prefix_lm(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>,
                     %v: tensor<?x4x?x32xbf16>) -> tensor<?x4x?x32xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 64>}
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}

// A causal mask and-ed with a two-sided window leaves a causal window.
// CHECK-LABEL: func @causal_window
// CHECK: mask = #attn.sliding_window<left = 128>}
func.func @causal_window(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>,
                         %v: tensor<?x4x?x32xbf16>) -> tensor<?x4x?x32xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal, #attn.and<[#attn.sliding_window<left = 128, right = 16>]>]>}
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}

// Sinks and windows under a causal mask: the nested or keeps the largest sink
// count, the outer and stays.
// CHECK-LABEL: func @streaming
// CHECK: mask = #attn.and<[#attn.causal, #attn.or<[#attn.sinks<count = 4>, #attn.sliding_window<left = 1020>]>]>
func.func @streaming(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>,
                     %v: tensor<?x4x?x32xbf16>) -> tensor<?x4x?x32xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal, #attn.or<[#attn.sinks<count = 2>, #attn.sliding_window<left = 1020>, #attn.sinks<count = 4>]>]>}
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}

// Per-head patterns are simplified one by one; the list is kept while heads
// use more than one of them.
// CHECK-LABEL: func @per_head
// CHECK: mask = #attn.per_head<[#attn.causal, #attn.sliding_window<left = 8>], heads = [0, 1, 1, 0]>
func.func @per_head(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>,
                    %v: tensor<?x4x?x32xbf16>) -> tensor<?x4x?x32xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.per_head<[#attn.and<[#attn.causal]>, #attn.and<[#attn.causal, #attn.sliding_window<left = 8>]>], heads = [0, 1, 1, 0]>}
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}

// Ops without a mask, and masks already simple, are left alone.
// CHECK-LABEL: func @untouched
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor
// CHECK: mask = #attn.document
func.func @untouched(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>,
                     %v: tensor<?x4x?x32xbf16>, %s: tensor<?x?xi32>) -> tensor<?x4x?x32xbf16> {
  %a = attn.attention %q, %k, %v
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  %b = attn.attention %q, %k, %v segment_ids(%s, %s : tensor<?x?xi32>, tensor<?x?xi32>)
      {mask = #attn.document}
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %b : tensor<?x4x?x32xbf16>
}
