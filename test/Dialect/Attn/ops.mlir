// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// CHECK-LABEL: func @dense
func.func @dense(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                 %v: tensor<?x16x?x128xbf16>) -> tensor<?x16x?x128xbf16> {
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  %o = attn.attention %q, %k, %v
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>
      -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}

// CHECK-LABEL: func @gqa_cross_lse
func.func @gqa_cross_lse(%q: tensor<2x16x100x128xf16>, %k: tensor<2x4x300x128xf16>,
                         %v: tensor<2x2x300x64xf16>)
    -> (tensor<2x16x100x64xf16>, tensor<2x16x100xf32>) {
  // CHECK: %[[O:.*]], %[[LSE:.*]] = attn.attention
  // CHECK-SAME: {mask = #attn.causal<offset = 3, align = top_left>, scale = 1.250000e-01 : f32}
  // CHECK-SAME: -> tensor<2x16x100x64xf16>, tensor<2x16x100xf32>
  %o, %lse = attn.attention %q, %k, %v
      {scale = 0.125 : f32, mask = #attn.causal<offset = 3, align = top_left>}
      : tensor<2x16x100x128xf16>, tensor<2x4x300x128xf16>, tensor<2x2x300x64xf16>
      -> tensor<2x16x100x64xf16>, tensor<2x16x100xf32>
  return %o, %lse : tensor<2x16x100x64xf16>, tensor<2x16x100xf32>
}

// CHECK-LABEL: func @regions
func.func @regions(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                   %v: tensor<?x8x?x64xbf16>, %slopes: tensor<8xf32>,
                   %table: tensor<4x4xi1>) -> tensor<?x8x?x64xbf16> {
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} captures(%{{.*}}, %{{.*}} : tensor<8xf32>, tensor<4x4xi1>)
  // CHECK-SAME: {mask = #attn.causal}
  // CHECK: score_mod {
  // CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: index, %[[H:.*]]: index, %{{.*}}: index, %{{.*}}: index, %[[SL:.*]]: tensor<8xf32>, %{{.*}}: tensor<4x4xi1>):
  // CHECK: tensor.extract %[[SL]][%[[H]]]
  // CHECK: attn.yield %{{.*}} : f32
  // CHECK: } mask_mod {
  // CHECK: attn.yield %{{.*}} : i1
  %o = attn.attention %q, %k, %v captures(%slopes, %table : tensor<8xf32>, tensor<4x4xi1>)
      {mask = #attn.causal}
      : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>
      -> tensor<?x8x?x64xbf16>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %sl: tensor<8xf32>, %t: tensor<4x4xi1>):
      %m = tensor.extract %sl[%h] : tensor<8xf32>
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %d = arith.subi %jj, %ii : i64
      %df = arith.sitofp %d : i64 to f32
      %bias = arith.mulf %m, %df : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index,
         %sl: tensor<8xf32>, %t: tensor<4x4xi1>):
      %c4 = arith.constant 4 : index
      %ri = arith.remui %i, %c4 : index
      %rj = arith.remui %j, %c4 : index
      %keep = tensor.extract %t[%ri, %rj] : tensor<4x4xi1>
      attn.yield %keep : i1
    }
  return %o : tensor<?x8x?x64xbf16>
}

// CHECK-LABEL: func @normalizations
func.func @normalizations(%q: tensor<?x4x?x32xf32>, %k: tensor<?x4x?x32xf32>,
                          %v: tensor<?x4x?x32xf32>)
    -> (tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>) {
  // CHECK: {normalization = #attn.normalization<sigmoid>, sigmoid_bias = -5.000000e+00 : f32}
  %a = attn.attention %q, %k, %v
      {normalization = #attn.normalization<sigmoid>, sigmoid_bias = -5.0 : f32}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>
      -> tensor<?x4x?x32xf32>
  // CHECK: {normalization = #attn.normalization<l1>}
  // CHECK: l1_map {
  // CHECK: math.log1p
  %b = attn.attention %q, %k, %v {normalization = #attn.normalization<l1>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>
      -> tensor<?x4x?x32xf32>
    l1_map {
    ^bb0(%s: f32):
      %e = math.exp %s : f32
      %sp = math.log1p %e : f32
      attn.yield %sp : f32
    }
  // CHECK: {normalization = #attn.normalization<relu>}
  %c = attn.attention %q, %k, %v {normalization = #attn.normalization<relu>}
      : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>
      -> tensor<?x4x?x32xf32>
  return %a, %b, %c : tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?x32xf32>
}

// CHECK-LABEL: func @documents
func.func @documents(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>,
                     %v: tensor<?x4x?x32xbf16>, %qs: tensor<?x?xi32>,
                     %ks: tensor<?x?xi32>) -> tensor<?x4x?x32xbf16> {
  // CHECK: segment_ids(%{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<?x?xi32>)
  // CHECK-SAME: {mask = #attn.and<[#attn.causal, #attn.document]>}
  %o = attn.attention %q, %k, %v segment_ids(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>)
      {mask = #attn.and<[#attn.causal, #attn.document]>}
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}

// CHECK-LABEL: func @linear_feature_maps
func.func @linear_feature_maps(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>,
                               %v: tensor<?x4x?x32xbf16>, %w: tensor<2x4x16x8xf32>)
    -> (tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>) {
  // CHECK: attn.linear_attention
  // CHECK-SAME: {causal, feature_map = #attn.feature_map<taylor2>, normalization = #attn.linear_normalization<denominator>}
  %a = attn.linear_attention %q, %k, %v
      {causal, feature_map = #attn.feature_map<taylor2>,
       normalization = #attn.linear_normalization<denominator>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  // CHECK: feature_weights(%{{.*}} : tensor<2x4x16x8xf32>)
  // CHECK-SAME: feature_map = #attn.feature_map<hedgehog>
  %b = attn.linear_attention %q, %k, %v feature_weights(%w : tensor<2x4x16x8xf32>)
      {feature_map = #attn.feature_map<hedgehog>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  // CHECK: {causal, norm_eps = 9.99999974E-6 : f32, normalization = #attn.linear_normalization<rms_norm>}
  // CHECK: feature_map {
  // CHECK: ^bb0(%{{.*}}: f32):
  %c = attn.linear_attention %q, %k, %v
      {causal, normalization = #attn.linear_normalization<rms_norm>, norm_eps = 1.0e-5 : f32}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
    feature_map {
    ^bb0(%x: f32):
      %zero = arith.constant 0.0 : f32
      %r = arith.maximumf %x, %zero : f32
      attn.yield %r : f32
    }
  return %a, %b, %c : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
}

// CHECK-LABEL: func @linear_gates
func.func @linear_gates(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>,
                        %v: tensor<?x4x?x32xbf16>, %gh: tensor<4xf32>,
                        %gt: tensor<?x4x?xf32>, %gk: tensor<?x4x?x16xf32>,
                        %s0: tensor<?x4x16x33xf32>)
    -> (tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>,
        tensor<?x4x16x33xf32>) {
  // CHECK: gate(%{{.*}} : tensor<4xf32>) {causal, chunk_size = 128 : i64, gate = #attn.gate<per_head>}
  %a = attn.linear_attention %q, %k, %v gate(%gh : tensor<4xf32>)
      {causal, gate = #attn.gate<per_head>, chunk_size = 128}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  // CHECK: gate(%{{.*}} : tensor<?x4x?xf32>) {causal, gate = #attn.gate<per_token>}
  %b = attn.linear_attention %q, %k, %v gate(%gt : tensor<?x4x?xf32>)
      {causal, gate = #attn.gate<per_token>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  // CHECK: %{{.*}}, %[[S:.*]] = attn.linear_attention
  // CHECK-SAME: gate(%{{.*}} : tensor<?x4x?x16xf32>) initial_state(%{{.*}} : tensor<?x4x16x33xf32>)
  // CHECK-SAME: -> tensor<?x4x?x32xbf16>, tensor<?x4x16x33xf32>
  %c, %s = attn.linear_attention %q, %k, %v gate(%gk : tensor<?x4x?x16xf32>)
      initial_state(%s0 : tensor<?x4x16x33xf32>)
      {causal, gate = #attn.gate<per_key>,
       normalization = #attn.linear_normalization<denominator>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>, tensor<?x4x16x33xf32>
  return %a, %b, %c, %s : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>,
                          tensor<?x4x?x32xbf16>, tensor<?x4x16x33xf32>
}

// CHECK-LABEL: func @delta_rules
func.func @delta_rules(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>,
                       %v: tensor<?x4x?x32xbf16>, %beta: tensor<?x4x?xbf16>,
                       %g: tensor<?x4x?xf32>)
    -> (tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>) {
  // CHECK: beta(%{{.*}} : tensor<?x4x?xbf16>) {causal, update = #attn.update<delta>}
  %a = attn.linear_attention %q, %k, %v beta(%beta : tensor<?x4x?xbf16>)
      {causal, update = #attn.update<delta>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  // CHECK: gate(%{{.*}} : tensor<?x4x?xf32>) beta(%{{.*}} : tensor<?x4x?xbf16>)
  // CHECK-SAME: {causal, gate = #attn.gate<per_token>, update = #attn.update<delta>}
  %b = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?xf32>)
      beta(%beta : tensor<?x4x?xbf16>)
      {causal, gate = #attn.gate<per_token>, update = #attn.update<delta>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %a, %b : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
}

// CHECK-LABEL: func @hybrids
func.func @hybrids(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>,
                   %v: tensor<?x4x?x32xbf16>, %w: tensor<2x4x16x8xf32>,
                   %g: tensor<?x4x?x16xf32>)
    -> (tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>) {
  // CHECK: attn.hybrid %{{.*}}, %{{.*}}, %{{.*}} feature_weights(%{{.*}} : tensor<2x4x16x8xf32>)
  // CHECK-SAME: {combine = #attn.combine<shared_denominator>, feature_map = #attn.feature_map<hedgehog>, weights = array<f32: 1.000000e+00, 5.000000e-01>, window = 64 : i64}
  %a = attn.hybrid %q, %k, %v feature_weights(%w : tensor<2x4x16x8xf32>)
      {combine = #attn.combine<shared_denominator>, window = 64,
       feature_map = #attn.feature_map<hedgehog>, weights = array<f32: 1.0, 0.5>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  // CHECK: attn.hybrid %{{.*}}, %{{.*}}, %{{.*}} gate(%{{.*}} : tensor<?x4x?x16xf32>)
  // CHECK-SAME: combine = #attn.combine<weighted_sum>
  // CHECK-SAME: gate = #attn.gate<per_key>
  // CHECK-SAME: normalization = #attn.linear_normalization<none>
  %b = attn.hybrid %q, %k, %v gate(%g : tensor<?x4x?x16xf32>)
      {combine = #attn.combine<weighted_sum>, window = 32, gate = #attn.gate<per_key>,
       normalization = #attn.linear_normalization<none>, weights = array<f32: 0.5, 0.5>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %a, %b : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
}

// CHECK-LABEL: func @block_mask
func.func @block_mask(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>,
                      %v: tensor<?x4x?x32xbf16>, %n: tensor<?x4x?xi32>,
                      %i: tensor<?x4x?x?xi32>) -> tensor<?x4x?x32xbf16> {
  // CHECK: block_mask(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x4x?xi32>, tensor<?x4x?x?xi32>, tensor<?x4x?xi32>, tensor<?x4x?x?xi32>)
  // CHECK-SAME: {block_size = array<i64: 128, 64>, mask = #attn.causal}
  %o = attn.attention %q, %k, %v
      block_mask(%n, %i, %n, %i : tensor<?x4x?xi32>, tensor<?x4x?x?xi32>,
                 tensor<?x4x?xi32>, tensor<?x4x?x?xi32>)
      {block_size = array<i64: 128, 64>, mask = #attn.causal}
      : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>
      -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}

// Attributes with a dialect prefix belong to that dialect and are kept on
// the op; unprefixed ones the op does not define are errors (invalid.mlir).
// CHECK-LABEL: func @dialect_attribute_kept
// CHECK: attn.attention {{.*}}{test.note = "kept"}
func.func @dialect_attribute_kept(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>,
                                  %v: tensor<?x8x?x64xbf16>) -> tensor<?x8x?x64xbf16> {
  %o = attn.attention %q, %k, %v {test.note = "kept"}
      : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>
      -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}
