#include "store/sqlite/sqlite_statements.h"

namespace sluice::sqlite {

const EngineStatements& EngineSql() {
  static const auto* const kStatements = new EngineStatements();
  return *kStatements;
}

}  // namespace sluice::sqlite
