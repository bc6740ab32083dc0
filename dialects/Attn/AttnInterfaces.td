//===- AttnInterfaces.td - attn interfaces ----------------*- tablegen -*-===//
//
// The mask interface: every named mask answers point queries (the reference
// meaning), classifies tiles (what the tiled algorithms skip), and checks
// itself against the op it is attached to. A new named mask is a new
// attribute implementing this interface; nothing else changes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_INTERFACES
#define ATTN_DIALECT_ATTN_INTERFACES

include "mlir/IR/OpBase.td"

def Attn_MaskAttrInterface : AttrInterface<"MaskAttrInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    A named mask: a predicate `visible(b, h, i, j)` over batch `b`, query
    head `h`, query row `i` and key column `j`. Masks compose with
    `#attn.and` and `#attn.or`.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Returns whether key `key` is visible to query `query` of
        head `head` in batch `batch`. This is the reference meaning.}],
      /*retTy=*/"bool", /*methodName=*/"isVisible",
      /*args=*/(ins "const ::mlir::attn::MaskContext &":$context,
                    "int64_t":$batch, "int64_t":$head, "int64_t":$query,
                    "int64_t":$key)>,
    InterfaceMethod<
      /*desc=*/[{Classifies the half-open tile `block` as empty (nothing
        visible), full (everything visible) or partial. The answer must be
        sound: `empty` and `full` only when they hold for every entry.
        Masks that read run-time data answer `partial`.}],
      /*retTy=*/"::mlir::attn::BlockKind", /*methodName=*/"classifyBlock",
      /*args=*/(ins "const ::mlir::attn::MaskContext &":$context,
                    "const ::mlir::attn::MaskBlock &":$block)>,
    InterfaceMethod<
      /*desc=*/[{Builds the `i1` value of `isVisible` at the point given by
        `values`, with arith ops on `index` values (and loads of the segment
        ids for `#attn.document`). Kernels of every backend use it.}],
      /*retTy=*/"::mlir::Value", /*methodName=*/"buildIsVisible",
      /*args=*/(ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
                    "const ::mlir::attn::MaskValues &":$values)>,
    InterfaceMethod<
      /*desc=*/[{Builds the key ranges of a block of queries: disjoint
        intervals holding every key some query of the block sees, and one
        interval every query sees. Tiled kernels visit only the visible
        intervals and skip the mask test on tiles inside the full one. The
        default (every key maybe visible, none surely) is sound for any mask.}],
      /*retTy=*/"::mlir::attn::KeyRanges", /*methodName=*/"buildKeyRanges",
      /*args=*/(ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
                    "const ::mlir::attn::KeyRangeQuery &":$query),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return ::mlir::attn::buildConservativeKeyRanges(builder, loc, query);
      }]>,
    InterfaceMethod<
      /*desc=*/[{Checks the mask against the op it is attached to (head
        count, static sequence lengths, operands it needs).}],
      /*retTy=*/"::llvm::LogicalResult", /*methodName=*/"verifyForOp",
      /*args=*/(ins "const ::mlir::attn::MaskOpInfo &":$info,
                    "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError)>,
  ];
}

#endif // ATTN_DIALECT_ATTN_INTERFACES
