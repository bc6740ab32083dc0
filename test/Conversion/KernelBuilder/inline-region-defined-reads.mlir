// RUN: attn-opt %s --attn-lower-to-reference=float-storage=f32 --canonicalize | FileCheck %s
// RUN: attn-opt %s --attn-lower-to-reference="float-storage=f32 check-indices=true" --canonicalize | FileCheck %s --check-prefix=CHECKED

// Every lowering inlines the user's regions through one function
// (inlineRegion), which gives a region's reads and integer divisions a
// meaning for every input (docs/semantics.md, 2.5):
// - each index of a captured tensor's read is clamped into [0, size - 1];
// - x / 0 = 0, x rem 0 = x, and a signed division by -1 is 0 - x, with the
//   divisor the op sees replaced by 1 in both cases, so it never traps.

// CHECK-LABEL: func.func @defined_reads_0_reference(
// CHECK-SAME: %[[T:[^:]*]]: memref<?x?xf32, strided<[?, ?], offset: ?>>,
// CHECK-SAME: %{{.*}}: memref<?x2x?x8xf32

// The row index i + 1000000 divided by the key index j (zero at j = 0):
// CHECK:      %[[SHIFTED:.*]] = arith.addi %[[I:.*]], %c1000000
// CHECK:      %[[BY_ZERO:.*]] = arith.cmpi eq, %[[J:.*]], %c0
// CHECK:      %[[BY_MINUS_ONE:.*]] = arith.cmpi eq, %[[J]], %c-1
// CHECK:      %[[SPECIAL:.*]] = arith.ori %[[BY_ZERO]], %[[BY_MINUS_ONE]]
// CHECK:      %[[DIVISOR:.*]] = arith.select %[[SPECIAL]], %c1, %[[J]]
// CHECK:      %[[RAW:.*]] = arith.divsi %[[SHIFTED]], %[[DIVISOR]]
// CHECK:      %[[NEGATED:.*]] = arith.subi %c-1000000, %[[I]]
// CHECK:      %[[NOT_MINUS_ONE:.*]] = arith.select %[[BY_MINUS_ONE]], %[[NEGATED]], %[[RAW]]
// CHECK:      %[[QUOTIENT:.*]] = arith.select %[[BY_ZERO]], %c0, %[[NOT_MINUS_ONE]]

// The remainder by the head index h (zero for head 0) keeps x:
// CHECK:      %[[REM_BY_ZERO:.*]] = arith.cmpi eq, %[[H:.*]], %c0
// CHECK:      %[[REM_DIVISOR:.*]] = arith.select %{{.*}}, %c1, %[[H]]
// CHECK:      %[[REM:.*]] = arith.remsi %[[QUOTIENT]], %[[REM_DIVISOR]]
// CHECK:      %[[COLUMN:.*]] = arith.select %[[REM_BY_ZERO]], %[[QUOTIENT]], %[[REM]]

// Both indices of the read are clamped to the capture's dims:
// CHECK:      %[[ROWS:.*]] = memref.dim %[[T]], %c0
// CHECK:      %[[LAST_ROW:.*]] = arith.subi %[[ROWS]], %c1
// CHECK:      %[[ROW_LOW:.*]] = arith.maxsi %[[B:.*]], %c0
// CHECK:      %[[ROW:.*]] = arith.minsi %[[ROW_LOW]], %[[LAST_ROW]]
// CHECK:      %[[COLS:.*]] = memref.dim %[[T]], %c1
// CHECK:      %[[LAST_COL:.*]] = arith.subi %[[COLS]], %c1
// CHECK:      %[[COL_LOW:.*]] = arith.maxsi %[[COLUMN]], %c0
// CHECK:      %[[COL:.*]] = arith.minsi %[[COL_LOW]], %[[LAST_COL]]
// CHECK:      memref.load %[[T]][%[[ROW]], %[[COL]]]
// With check-indices the kernel takes an index_errors record after its
// results; an index that needed clamping bumps its count atomically, and
// the first such read stores its capture, dimension and (saturated) index.
// CHECKED-LABEL: func.func @defined_reads_0_reference(
// CHECKED-SAME:  %[[RECORD:[^:]*]]: memref<4xi32, strided<[?], offset: ?>>)
// CHECKED:       %[[ROW_LOW:.*]] = arith.maxsi %{{.*}}, %c0
// CHECKED:       %[[ROW:.*]] = arith.minsi %[[ROW_LOW]], %{{.*}}
// CHECKED:       %[[CLAMPED:.*]] = arith.cmpi ne, %[[ROW]], %[[B:.*]] :
// CHECKED:       scf.if %[[CLAMPED]] {
// CHECKED:         %[[COUNT:.*]] = memref.atomic_rmw addi %c1_i32, %[[RECORD]][%c0]
// CHECKED:         %[[FIRST:.*]] = arith.cmpi eq, %[[COUNT]], %c0_i32
// CHECKED:         scf.if %[[FIRST]] {
// CHECKED:           %[[LOW:.*]] = arith.maxsi %[[B]], %c-2147483648
// CHECKED:           %[[SATURATED:.*]] = arith.minsi %[[LOW]], %c2147483647
// CHECKED:           memref.store %c0_i32, %[[RECORD]][%c1]
// CHECKED:           memref.store %c0_i32, %[[RECORD]][%c2]
// CHECKED:           %[[WORD:.*]] = arith.index_cast %[[SATURATED]] : index to i32
// CHECKED:           memref.store %[[WORD]], %[[RECORD]][%c3]
func.func @defined_reads(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                         %v: tensor<?x2x?x8xf32>, %t: tensor<?x?xf32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<?x?xf32>)
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %table: tensor<?x?xf32>):
      %far = arith.constant 1000000 : index
      %shifted = arith.addi %i, %far : index
      %quotient = arith.divsi %shifted, %j : index
      %column = arith.remsi %quotient, %h : index
      %bias = tensor.extract %table[%b, %column] : tensor<?x?xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x2x?x8xf32>
}
