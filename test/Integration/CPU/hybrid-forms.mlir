// attn.hybrid on the CPU's hybrid tile program against the reference kernel,
// on windows that are not multiples of the chunk and lengths shorter and
// longer than the window (under a shared denominator, the queries before
// the window's end read no key of the linear term).

// RUN: attn-run %s --op 0 --check --sizes b=2,n=77 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 0 --check --sizes b=1,n=12 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 1 --check --sizes b=2,n=45 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 1 --check --sizes b=2,n=30 | FileCheck %s
// RUN: attn-run %s --op 2 --check --sizes b=2,n=50 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 3 --check --sizes b=2,n=77 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 3 --check --sizes b=1,n=130 | FileCheck %s
// RUN: attn-run %s --op 4 --check --sizes b=2,n=33 --block-keys 16 | FileCheck %s
// taylor2 and hedgehog terms with a gate per key feature: the lagged
// shared denominator's decayed scores with their key logs over F = 21.
// RUN: attn-run %s --op 5 --check --sizes b=2,n=77 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 5 --check --sizes b=1,n=12 --block-keys 16 | FileCheck %s
// RUN: attn-run %s --op 6 --check --sizes b=2,n=45 --block-keys 16 | FileCheck %s

// CHECK: max_rel_err=
// CHECK-SAME: tol=1.0e-04

// Shared denominator, a gate per key feature, a region feature map; window 17 across chunks of 16: the lagged chunks start 17 tokens before their queries.
func.func @shared_per_key_region(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?x8xf32>) -> tensor<?x2x?x4xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<?x2x?x8xf32>)
      {combine = #attn.combine<shared_denominator>, window = 17, chunk_size = 16, weights = array<f32: 0.7, 1.3>, gate = #attn.gate<per_key>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32> -> tensor<?x2x?x4xf32>
    feature_map {
    ^bb0(%x: f32):
      %e = math.exp %x : f32
      attn.yield %e : f32
    }
  return %o : tensor<?x2x?x4xf32>
}

// Shared denominator, a gate per token, hedgehog; window 40 over chunks of 16.
func.func @shared_per_token_hedgehog(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?xf32>, %w: tensor<2x2x8x3xf32>) -> tensor<?x2x?x4xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<?x2x?xf32>) feature_weights(%w : tensor<2x2x8x3xf32>)
      {combine = #attn.combine<shared_denominator>, window = 40, chunk_size = 16, weights = array<f32: 0.7, 1.3>, gate = #attn.gate<per_token>, feature_map = #attn.feature_map<hedgehog>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32> -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// Shared denominator, a gate per head, taylor2; window 5.
func.func @shared_per_head_taylor2(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x4xf32>, %g: tensor<2xf32>) -> tensor<?x2x?x4xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<2xf32>)
      {combine = #attn.combine<shared_denominator>, window = 5, chunk_size = 16, weights = array<f32: 0.7, 1.3>, gate = #attn.gate<per_head>, feature_map = #attn.feature_map<taylor2>}
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32> -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// Weighted sum, a gate per key feature, elu_plus_one normalized by its denominator; window 100 over chunks of 32.
func.func @weighted_per_key_denominator(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x4xf32>, %g: tensor<?x2x?x8xf32>) -> tensor<?x2x?x4xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<?x2x?x8xf32>)
      {combine = #attn.combine<weighted_sum>, window = 100, chunk_size = 32, weights = array<f32: 0.7, 1.3>, gate = #attn.gate<per_key>, feature_map = #attn.feature_map<elu_plus_one>, normalization = #attn.linear_normalization<denominator>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32> -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// Weighted sum, relu, RMSNorm on the linear term; window 16.
func.func @weighted_relu_rms_norm(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32> {
  %o = attn.hybrid %q, %k, %v
      {combine = #attn.combine<weighted_sum>, window = 16, chunk_size = 16, weights = array<f32: 0.7, 1.3>, feature_map = #attn.feature_map<relu>, normalization = #attn.linear_normalization<rms_norm>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x4xf32> -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// Shared denominator, taylor2, a gate per key feature; window 17.
func.func @taylor2_per_key_shared(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>,
                                  %v: tensor<?x2x?x6xf32>, %g: tensor<?x2x?x21xf32>)
    -> tensor<?x2x?x6xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<?x2x?x21xf32>)
      {combine = #attn.combine<shared_denominator>, window = 17, chunk_size = 16, weights = array<f32: 0.7, 1.3>, gate = #attn.gate<per_key>, feature_map = #attn.feature_map<taylor2>}
      : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x6xf32> -> tensor<?x2x?x6xf32>
  return %o : tensor<?x2x?x6xf32>
}

// Weighted sum, hedgehog, a gate per key feature, a denominator; window 20.
func.func @hedgehog_per_key_sum(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                                %v: tensor<?x2x?x5xf32>, %w: tensor<2x2x8x3xf32>,
                                %g: tensor<?x2x?x6xf32>)
    -> tensor<?x2x?x5xf32> {
  %o = attn.hybrid %q, %k, %v gate(%g : tensor<?x2x?x6xf32>) feature_weights(%w : tensor<2x2x8x3xf32>)
      {combine = #attn.combine<weighted_sum>, window = 20, chunk_size = 16, weights = array<f32: 0.7, 1.3>, gate = #attn.gate<per_key>, feature_map = #attn.feature_map<hedgehog>, normalization = #attn.linear_normalization<denominator>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x5xf32> -> tensor<?x2x?x5xf32>
  return %o : tensor<?x2x?x5xf32>
}
