//===- MaskTestUtils.h - Helpers for mask unit tests ------------*- C++ -*-===//
//
/// \file
/// A test fixture holding an MLIRContext with the attn dialect, and a
/// helper that parses a mask attribute from its textual form.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TEST_UNIT_MASKTESTUTILS_H
#define ATTN_TEST_UNIT_MASKTESTUTILS_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"
#include <string>

class MaskTest : public ::testing::Test {
protected:
  MaskTest() { context.loadDialect<mlir::attn::AttnDialect>(); }

  /// Parses `text` as a named mask; fails the test when it is not one.
  mlir::attn::MaskAttrInterface parse(const std::string &text) {
    mlir::Attribute attr = mlir::parseAttribute(text, &context);
    auto mask = llvm::dyn_cast_or_null<mlir::attn::MaskAttrInterface>(attr);
    EXPECT_TRUE(mask) << "not a mask: " << text;
    return mask;
  }

  static std::string print(mlir::Attribute attr) {
    std::string text;
    llvm::raw_string_ostream os(text);
    attr.print(os);
    return text;
  }

  mlir::MLIRContext context;
};

#endif // ATTN_TEST_UNIT_MASKTESTUTILS_H
