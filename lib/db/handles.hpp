#pragma once

// RAII for libpq's C handles: an empty deleter per handle type and a
// std::unique_ptr alias. Nothing here throws.

#include <memory>

#include <libpq-fe.h>

namespace foodpipe::db {

struct ConnDeleter {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct ResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
// What PQconninfoParse and PQconndefaults return.
struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};
// Strings libpq allocates for us (PQescapeIdentifier, the errmsg of PQconninfoParse).
struct PqMemoryDeleter {
  void operator()(char* memory) const noexcept { PQfreemem(memory); }
};

using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
using ConninfoOptionsPtr = std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter>;
using PqStringPtr = std::unique_ptr<char, PqMemoryDeleter>;

} // namespace foodpipe::db
