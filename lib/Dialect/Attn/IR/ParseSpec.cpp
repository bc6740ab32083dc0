//===- ParseSpec.cpp - Parse spec text without crashing -------------------===//
//
/// \file
/// A scan of the text for what MLIR 22's parser cannot survive, then the
/// upstream parser. The scan follows the lexer's rules for the tokens that
/// matter: comments and string literals are skipped, and an identifier that
/// continues a prefixed token (`%array`, `@array`, `#attn.array`) is not the
/// `array` keyword.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/ParseSpec.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::attn;

/// Whether `c` continues an MLIR bare identifier.
static bool isIdentifierChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.';
}

/// Skips spaces and `//` comments from `pos`.
static size_t skipSpace(StringRef text, size_t pos) {
  while (pos < text.size()) {
    if (llvm::isSpace(text[pos])) {
      ++pos;
    } else if (text.substr(pos).starts_with("//")) {
      pos = text.find('\n', pos);
      if (pos == StringRef::npos)
        return text.size();
    } else {
      break;
    }
  }
  return pos;
}

/// The bare identifier starting at `pos`.
static StringRef identifierAt(StringRef text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && isIdentifierChar(text[end]))
    ++end;
  return text.slice(pos, end);
}

/// The offset of the element type of the first `array<index ...>` in
/// `text`, or npos.
static size_t findIndexDenseArray(StringRef text) {
  size_t pos = 0;
  while (pos < text.size()) {
    char c = text[pos];
    if (text.substr(pos).starts_with("//")) {
      pos = text.find('\n', pos);
      if (pos == StringRef::npos)
        return StringRef::npos;
      continue;
    }
    if (c == '"') {
      // A string literal, with backslash escapes.
      for (++pos; pos < text.size() && text[pos] != '"'; ++pos)
        if (text[pos] == '\\')
          ++pos;
      ++pos;
      continue;
    }
    if (!(llvm::isAlpha(c) || c == '_')) {
      ++pos;
      continue;
    }
    StringRef word = identifierAt(text, pos);
    bool prefixed = pos > 0 && StringRef("%@#!^").contains(text[pos - 1]);
    size_t next = pos + word.size();
    if (!prefixed && word == "array") {
      size_t open = skipSpace(text, next);
      if (open < text.size() && text[open] == '<') {
        size_t element = skipSpace(text, open + 1);
        if (identifierAt(text, element) == "index")
          return element;
      }
    }
    pos = next;
  }
  return StringRef::npos;
}

LogicalResult mlir::attn::checkParserSafety(llvm::SourceMgr &sourceMgr,
                                            MLIRContext *context) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  StringRef text = buffer->getBuffer();
  size_t offset = findIndexDenseArray(text);
  if (offset == StringRef::npos)
    return success();
  auto [line, column] = sourceMgr.getLineAndColumn(
      llvm::SMLoc::getFromPointer(text.data() + offset));
  Location loc =
      FileLineColLoc::get(context, buffer->getBufferIdentifier(), line, column);
  return emitError(loc)
         << "a dense array cannot hold 'index' elements; use "
            "array<i64: ...> (MLIR's parser would crash on this text)";
}

OwningOpRef<ModuleOp> mlir::attn::parseSpec(llvm::SourceMgr &sourceMgr,
                                            MLIRContext *context) {
  if (failed(checkParserSafety(sourceMgr, context)))
    return nullptr;
  return parseSourceFile<ModuleOp>(sourceMgr, context);
}
