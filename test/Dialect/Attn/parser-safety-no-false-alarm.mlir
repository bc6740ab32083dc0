// RUN: attn-opt %s | FileCheck %s

// Text that only resembles a dense array of index parses as usual: in a
// string, in a comment (array<index: 1>), or in another token's name.

// CHECK-LABEL: func.func @g
// CHECK-SAME: note = "array<index: 1>"
// CHECK-SAME: sizes = array<i64: 64, 64>
func.func @g(%array: index) attributes {note = "array<index: 1>", sizes = array<i64: 64, 64>} {
  return
}
