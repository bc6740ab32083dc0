// RUN: attn-opt %s --attn-lower-to-reference=float-storage=f32 --canonicalize | FileCheck %s --check-prefix=F32
// RUN: attn-opt %s --attn-lower-to-reference --canonicalize | FileCheck %s

// The reference follows the definition: per (b, h, i) a pass for the row
// maximum of the kept scores, a pass summing exp(s - m) and exp(s - m) v,
// then the division and the log-sum-exp. The kernel takes strided memrefs,
// stored as f32 here, in the order q, k, v, output, lse.

// F32-LABEL: func.func @softmax_0_reference(
// F32-SAME: %[[Q:.*]]: memref<?x4x?x16xf32, strided<[?, ?, ?, ?], offset: ?>>,
// F32-SAME: %[[K:.*]]: memref<?x2x?x16xf32, strided<[?, ?, ?, ?], offset: ?>>,
// F32-SAME: %[[V:.*]]: memref<?x2x?x8xf32, strided<[?, ?, ?, ?], offset: ?>>,
// F32-SAME: %[[O:.*]]: memref<?x4x?x8xf32, strided<[?, ?, ?, ?], offset: ?>>,
// F32-SAME: %[[LSE:.*]]: memref<?x4x?xf32, strided<[?, ?, ?], offset: ?>>)
// F32-SAME: attributes {llvm.emit_c_interface}
// F32: scf.for %[[B:.*]] =
// F32: scf.for %[[H:.*]] =
// F32: %[[KH:.*]] = arith.divui %[[H]], %c2
// F32: scf.for %[[I:.*]] =
// F32: %[[MAX:.*]] = scf.for %[[J:.*]] = %c0 to %{{.*}} iter_args(%[[M:.*]] = %cst
// F32:   arith.cmpi sle, %[[J]]
// F32:   scf.if
// F32:     memref.load %[[K]][%[[B]], %[[KH]], %[[J]], %{{.*}}]
// F32:     arith.maximumf %[[M]]
// F32: %[[SUM:.*]] = scf.for
// F32:   math.exp
// F32: math.log
// F32: memref.store %{{.*}}, %[[LSE]][%[[B]], %[[H]], %[[I]]]
func.func @softmax(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x2x?x16xbf16>,
                   %v: tensor<?x2x?x8xbf16>)
    -> (tensor<?x4x?x8xbf16>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x4x?x16xbf16>, tensor<?x2x?x16xbf16>, tensor<?x2x?x8xbf16>
      -> tensor<?x4x?x8xbf16>, tensor<?x4x?xf32>
  return %o, %lse : tensor<?x4x?x8xbf16>, tensor<?x4x?xf32>
}

// Without float-storage the spec's element types stay; the recurrence of
// linear attention runs step by step over t on an fp32 state.

// CHECK-LABEL: func.func @gated_0_reference(
// CHECK-SAME: memref<?x4x?x16xbf16, {{.*}}>, %[[GATE:.*]]: memref<?x4x?xf32, {{.*}}>
// CHECK: %[[STATE:.*]] = memref.alloc() : memref<16x8xf32>
// CHECK: %[[G:.*]] = memref.load %[[GATE]][%{{.*}}, %{{.*}}, %{{.*}}]
// CHECK: %[[DECAY:.*]] = math.exp %[[G]]
// CHECK: %[[OLD:.*]] = memref.load %[[STATE]]
// CHECK: arith.mulf %[[DECAY]], %[[OLD]]
// CHECK: memref.store %{{.*}}, %[[STATE]]
// CHECK: memref.dealloc %[[STATE]]
func.func @gated(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>,
                 %v: tensor<?x4x?x8xbf16>, %g: tensor<?x4x?xf32>)
    -> tensor<?x4x?x8xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?xf32>)
      {causal, gate = #attn.gate<per_token>}
      : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x8xbf16>
      -> tensor<?x4x?x8xbf16>
  return %o : tensor<?x4x?x8xbf16>
}
