// RUN: attn-opt %s --attn-lower-to-gpu --canonicalize | FileCheck %s

// Shared-memory tiles are XOR-swizzled in 16-byte chunks of 8 elements:
// chunk c of row r moves to c ^ (r mod 8) only when c lies in a full group
// of 8 chunks. A head dim of 80 has 10 chunks per row; swizzling chunks 8
// and 9 as well would send them past the row's end into the next row,
// where they overwrite that row's chunks (wrong results at head dims 80,
// 96, 112, 160 and 224 before this rule).

// CHECK-LABEL: gpu.func @head_dim_80_0_gpu(
// CHECK:       %[[ROW:.*]] = arith.divui %thread_id_x, %c10
// CHECK:       %[[CHUNK:.*]] = arith.remui %thread_id_x, %c10
// CHECK:       %[[PHASE:.*]] = arith.andi %[[ROW]], %c7
// CHECK:       %[[PERMUTED:.*]] = arith.xori %[[CHUNK]], %[[PHASE]]
// CHECK:       %[[IN_FULL_GROUP:.*]] = arith.cmpi ult, %[[CHUNK]], %c8
// CHECK:       %[[PLACE:.*]] = arith.select %[[IN_FULL_GROUP]], %[[PERMUTED]], %[[CHUNK]]
// CHECK:       %[[COLUMN:.*]] = arith.muli %[[PLACE]], %c8
// CHECK:       nvgpu.device_async_copy %{{.*}}, %{{.*}}[%[[ROW]], %[[COLUMN]]], 8
func.func @head_dim_80(%q: tensor<?x2x?x80xbf16>, %k: tensor<?x2x?x80xbf16>,
                       %v: tensor<?x2x?x80xbf16>) -> tensor<?x2x?x80xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<?x2x?x80xbf16>, tensor<?x2x?x80xbf16>, tensor<?x2x?x80xbf16>
        -> tensor<?x2x?x80xbf16>
  return %o : tensor<?x2x?x80xbf16>
}

// With 8 chunks per row (head dim 64) every chunk is in a full group.
// CHECK-LABEL: gpu.func @head_dim_64_0_gpu(
// CHECK:       %[[ROW64:.*]] = arith.divui %thread_id_x, %c8
// CHECK:       %[[CHUNK64:.*]] = arith.remui %thread_id_x, %c8
// CHECK:       %[[PHASE64:.*]] = arith.andi %[[ROW64]], %c7
// CHECK:       %[[PERMUTED64:.*]] = arith.xori %[[CHUNK64]], %[[PHASE64]]
// CHECK-NOT:   arith.cmpi ult, %[[CHUNK64]], %c8
// CHECK:       %[[COLUMN64:.*]] = arith.muli %[[PERMUTED64]], %c8
// CHECK:       nvgpu.device_async_copy %{{.*}}, %{{.*}}[%[[ROW64]], %[[COLUMN64]]], 8
func.func @head_dim_64(%q: tensor<?x2x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                       %v: tensor<?x2x?x64xbf16>) -> tensor<?x2x?x64xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
        -> tensor<?x2x?x64xbf16>
  return %o : tensor<?x2x?x64xbf16>
}
