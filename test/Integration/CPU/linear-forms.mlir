// Each chunked linear form against the plain step-by-step recurrence of the
// reference kernel, on lengths that are not multiples of the chunk.

// RUN: attn-run %s --op 0 --check --sizes b=2,n=50 | FileCheck %s
// RUN: attn-run %s --op 1 --check --sizes b=2,n=41 | FileCheck %s
// RUN: attn-run %s --op 2 --check --sizes b=1,n=70 | FileCheck %s
// RUN: attn-run %s --op 3 --check --sizes b=2,n=33 | FileCheck %s
// RUN: attn-run %s --op 4 --check --sizes b=2,n=57 | FileCheck %s
// RUN: attn-run %s --op 5 --check --sizes b=2,n=35 --block-queries 16 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 6 --check --sizes b=1,n=1 | FileCheck %s
// The chunk-parallel form (ChunkSegments): 150 tokens are 10 chunks of 16,
// 4 segments of 3, 3, 3 and 1 chunks; 100 tokens are 7 chunks, 3 segments.
// RUN: attn-run %s --op 7 --check --sizes b=2,n=150 | FileCheck %s
// RUN: attn-run %s --op 8 --check --sizes b=2,n=100 | FileCheck %s
// taylor2 and hedgehog on the chunked tile program (attn_tile.taylor2_features,
// attn_tile.softmax_features): 100 tokens are 7 chunks, 3 segments for the
// gated taylor2 form with states.
// RUN: attn-run %s --op 9 --check --sizes b=2,n=100 | FileCheck %s
// RUN: attn-run %s --op 10 --check --sizes b=2,n=45 | FileCheck %s
// RUN: attn-run %s --op 11 --check --sizes b=2,n=45 | FileCheck %s
// taylor2 and hedgehog with a gate per key feature ([B, H, T, F]: the
// decayed scores over F = 21 and F = 8 features) and with the delta rule
// (the UT transform over the features), on the same tile program as the
// elementwise maps; 100 tokens run the chunk-parallel form for the
// additive ones.
// RUN: attn-run %s --op 12 --check --sizes b=2,n=100 | FileCheck %s
// RUN: attn-run %s --op 12 --check --sizes b=1,n=1 | FileCheck %s
// RUN: attn-run %s --op 13 --check --sizes b=2,n=45 | FileCheck %s
// RUN: attn-run %s --op 14 --check --sizes b=2,n=45 | FileCheck %s
// RUN: attn-run %s --op 15 --check --sizes b=2,n=100 | FileCheck %s

// CHECK: max_rel_err=
// CHECK-SAME: tol=1.0e-04

// Non-causal, with initial and final state and a denominator.
func.func @non_causal(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                      %v: tensor<?x2x?x6xf32>, %s0: tensor<?x4x8x7xf32>)
    -> (tensor<?x4x?x6xf32>, tensor<?x4x8x7xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v initial_state(%s0 : tensor<?x4x8x7xf32>)
      {feature_map = #attn.feature_map<elu_plus_one>,
       normalization = #attn.linear_normalization<denominator>, chunk_size = 16}
      : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x6xf32>
      -> tensor<?x4x?x6xf32>, tensor<?x4x8x7xf32>
  return %o, %s : tensor<?x4x?x6xf32>, tensor<?x4x8x7xf32>
}

// Delta rule with a constant decay per head and an output RMSNorm.
func.func @delta_per_head(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                          %v: tensor<?x2x?x4xf32>, %g: tensor<2xf32>,
                          %beta: tensor<?x2x?xf32>, %s0: tensor<?x2x8x4xf32>)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<2xf32>)
      beta(%beta : tensor<?x2x?xf32>) initial_state(%s0 : tensor<?x2x8x4xf32>)
      {causal, gate = #attn.gate<per_head>, update = #attn.update<delta>,
       normalization = #attn.linear_normalization<rms_norm>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>
  return %o, %s : tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>
}

// A gate per key dim with a denominator and a starting state.
func.func @per_key_denominator(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                               %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?x8xf32>,
                               %s0: tensor<?x2x8x5xf32>)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x8x5xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<?x2x?x8xf32>)
      initial_state(%s0 : tensor<?x2x8x5xf32>)
      {causal, gate = #attn.gate<per_key>, feature_map = #attn.feature_map<relu>,
       normalization = #attn.linear_normalization<denominator>, chunk_size = 32}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>, tensor<?x2x8x5xf32>
  return %o, %s : tensor<?x2x?x4xf32>, tensor<?x2x8x5xf32>
}

// A feature-map region with a per-token gate and GQA 2:1 on K and 4:1 on V.
func.func @region_per_token(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                            %v: tensor<?x1x?x4xf32>, %g: tensor<?x4x?xf32>)
    -> tensor<?x4x?x4xf32> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?xf32>)
      {causal, gate = #attn.gate<per_token>, chunk_size = 16}
      : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x1x?x4xf32>
      -> tensor<?x4x?x4xf32>
    feature_map {
    ^bb0(%x: f32):
      %e = math.exp %x : f32
      %one = arith.constant 1.0 : f32
      %d = arith.addf %one, %e : f32
      %r = math.log %d : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x4x?x4xf32>
}

// Taylor features with a per-token gate under the delta rule.
func.func @delta_taylor(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>,
                        %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?xf32>,
                        %beta: tensor<?x2x?xf32>) -> tensor<?x2x?x4xf32> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x2x?xf32>)
      beta(%beta : tensor<?x2x?xf32>)
      {causal, gate = #attn.gate<per_token>, update = #attn.update<delta>,
       feature_map = #attn.feature_map<taylor2>, chunk_size = 16}
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// Shared-denominator hybrid with a gate, window 5 across chunks of 16.
func.func @hybrid_gated(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                        %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?xf32>)
    -> tensor<?x2x?x4xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<?x2x?xf32>)
      {combine = #attn.combine<shared_denominator>, window = 5,
       gate = #attn.gate<per_token>, feature_map = #attn.feature_map<elu_plus_one>,
       weights = array<f32: 0.7, 1.3>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// One token.
func.func @single_token(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                        %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?x8xf32>)
    -> tensor<?x2x?x4xf32> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x2x?x8xf32>)
      {causal, gate = #attn.gate<per_key>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// The chunk-parallel form with a gate per key dim (a decay per state row),
// initial and final states and an output RMSNorm.
func.func @segments_per_key(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                            %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?x8xf32>,
                            %s0: tensor<?x2x8x4xf32>)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<?x2x?x8xf32>)
      initial_state(%s0 : tensor<?x2x8x4xf32>)
      {causal, gate = #attn.gate<per_key>,
       normalization = #attn.linear_normalization<rms_norm>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>
  return %o, %s : tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>
}

// The chunk-parallel form without a gate (no decay: boundaries add up), with
// a feature map and an initial state.
func.func @segments_ungated(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                            %v: tensor<?x2x?x4xf32>, %s0: tensor<?x2x8x4xf32>)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v initial_state(%s0 : tensor<?x2x8x4xf32>)
      {causal, feature_map = #attn.feature_map<relu>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32>
      -> tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>
  return %o, %s : tensor<?x2x?x4xf32>, tensor<?x2x8x4xf32>
}

// taylor2 (F = 1 + 8 + 64), GQA, a gate per token, initial and final
// states: the chunk-parallel form.
func.func @taylor2_segments(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                            %v: tensor<?x2x?x16xf32>, %g: tensor<?x4x?xf32>,
                            %s0: tensor<?x4x73x16xf32>)
    -> (tensor<?x4x?x16xf32>, tensor<?x4x73x16xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?xf32>)
      initial_state(%s0 : tensor<?x4x73x16xf32>)
      {causal, chunk_size = 16, gate = #attn.gate<per_token>,
       feature_map = #attn.feature_map<taylor2>}
      : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x16xf32>
      -> tensor<?x4x?x16xf32>, tensor<?x4x73x16xf32>
  return %o, %s : tensor<?x4x?x16xf32>, tensor<?x4x73x16xf32>
}

// hedgehog, non-causal, with a denominator, bf16 storage.
func.func @hedgehog_non_causal(%q: tensor<?x3x?x8xbf16>, %k: tensor<?x3x?x8xbf16>,
                               %v: tensor<?x3x?x8xbf16>, %w: tensor<2x3x8x5xf32>)
    -> tensor<?x3x?x8xbf16> {
  %o = attn.linear_attention %q, %k, %v feature_weights(%w : tensor<2x3x8x5xf32>)
      {chunk_size = 16, feature_map = #attn.feature_map<hedgehog>,
       normalization = #attn.linear_normalization<denominator>}
      : tensor<?x3x?x8xbf16>, tensor<?x3x?x8xbf16>, tensor<?x3x?x8xbf16>
      -> tensor<?x3x?x8xbf16>
  return %o : tensor<?x3x?x8xbf16>
}

// hedgehog with a gate per head and rms_norm.
func.func @hedgehog_per_head(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>,
                             %v: tensor<?x2x?x8xf32>, %g: tensor<2xf32>,
                             %w: tensor<2x2x4x6xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<2xf32>)
      feature_weights(%w : tensor<2x2x4x6xf32>)
      {causal, chunk_size = 16, gate = #attn.gate<per_head>,
       feature_map = #attn.feature_map<hedgehog>,
       normalization = #attn.linear_normalization<rms_norm>}
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}

// taylor2 (F = 1 + 4 + 16), GQA, a gate per key feature, a denominator,
// initial and final states.
func.func @taylor2_per_key(%q: tensor<?x4x?x4xf32>, %k: tensor<?x2x?x4xf32>,
                           %v: tensor<?x2x?x6xf32>, %g: tensor<?x4x?x21xf32>,
                           %s0: tensor<?x4x21x7xf32>)
    -> (tensor<?x4x?x6xf32>, tensor<?x4x21x7xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?x21xf32>)
      initial_state(%s0 : tensor<?x4x21x7xf32>)
      {causal, gate = #attn.gate<per_key>,
       normalization = #attn.linear_normalization<denominator>,
       feature_map = #attn.feature_map<taylor2>, chunk_size = 16}
      : tensor<?x4x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x6xf32>
      -> tensor<?x4x?x6xf32>, tensor<?x4x21x7xf32>
  return %o, %s : tensor<?x4x?x6xf32>, tensor<?x4x21x7xf32>
}

// hedgehog (F = 2 x 4), a gate per key feature, rms_norm, bf16 storage.
func.func @hedgehog_per_key(%q: tensor<?x3x?x8xbf16>, %k: tensor<?x3x?x8xbf16>,
                            %v: tensor<?x3x?x5xbf16>, %w: tensor<2x3x8x4xf32>,
                            %g: tensor<?x3x?x8xf32>)
    -> tensor<?x3x?x5xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x3x?x8xf32>)
      feature_weights(%w : tensor<2x3x8x4xf32>)
      {causal, gate = #attn.gate<per_key>, chunk_size = 16,
       feature_map = #attn.feature_map<hedgehog>,
       normalization = #attn.linear_normalization<rms_norm>}
      : tensor<?x3x?x8xbf16>, tensor<?x3x?x8xbf16>, tensor<?x3x?x5xbf16>
      -> tensor<?x3x?x5xbf16>
  return %o : tensor<?x3x?x5xbf16>
}

// taylor2 with the delta rule, a gate per token, initial and final states.
func.func @taylor2_delta(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>,
                         %v: tensor<?x2x?x6xf32>, %g: tensor<?x2x?xf32>,
                         %beta: tensor<?x2x?xf32>, %s0: tensor<?x2x21x6xf32>)
    -> (tensor<?x2x?x6xf32>, tensor<?x2x21x6xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<?x2x?xf32>)
      beta(%beta : tensor<?x2x?xf32>) initial_state(%s0 : tensor<?x2x21x6xf32>)
      {causal, gate = #attn.gate<per_token>, update = #attn.update<delta>,
       feature_map = #attn.feature_map<taylor2>, chunk_size = 16}
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x6xf32>
      -> tensor<?x2x?x6xf32>, tensor<?x2x21x6xf32>
  return %o, %s : tensor<?x2x?x6xf32>, tensor<?x2x21x6xf32>
}

// hedgehog with the delta rule, a gate per head, rms_norm.
func.func @hedgehog_delta(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                          %v: tensor<?x2x?x5xf32>, %w: tensor<2x2x8x4xf32>,
                          %g: tensor<2xf32>, %beta: tensor<?x2x?xf32>)
    -> tensor<?x2x?x5xf32> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<2xf32>)
      beta(%beta : tensor<?x2x?xf32>) feature_weights(%w : tensor<2x2x8x4xf32>)
      {causal, gate = #attn.gate<per_head>, update = #attn.update<delta>,
       feature_map = #attn.feature_map<hedgehog>,
       normalization = #attn.linear_normalization<rms_norm>, chunk_size = 16}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x5xf32>
      -> tensor<?x2x?x5xf32>
  return %o : tensor<?x2x?x5xf32>
}
