//===- AttnBase.td - attn dialect definition --------------*- tablegen -*-===//
//
// The attn dialect: attention variants stated as what they compute.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_BASE
#define ATTN_DIALECT_ATTN_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention variants at the spec level";
  let description = [{
    The `attn` dialect states an attention variant as *what* it computes:
    softmax-family attention (`attn.attention`), linear-family attention
    with feature maps, gates and delta rules (`attn.linear_attention`), and
    hybrids of the two (`attn.hybrid`). Masks are structured attributes that
    compose with `#attn.and` / `#attn.or` and can be classified per tile at
    compile time; user code (score modifications, mask predicates, feature
    maps) lives in small regions applied element by element.

    Tensors use the layout `[batch, heads, sequence, head_dim]`. Batch and
    sequence lengths may be dynamic; head counts and head dims are static.
    The exact meaning of every op is given in docs/semantics.md.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // ATTN_DIALECT_ATTN_BASE
