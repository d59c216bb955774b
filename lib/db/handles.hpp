#pragma once

// RAII for libpq's C handles: an empty deleter per handle type and a
// std::unique_ptr alias. Nothing here throws. libpq's types are only named
// here (as libpq-fe.h declares them) and the deleters defined in handles.cpp,
// so that lib/db's public headers need no libpq header: only lib/db's .cpp
// files include libpq-fe.h.

#include <memory>

// NOLINTBEGIN(modernize-use-using): C declarations, as libpq-fe.h has them
extern "C" {
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef struct _PQconninfoOption PQconninfoOption; // NOLINT(bugprone-reserved-identifier): libpq's name
}
// NOLINTEND(modernize-use-using)

namespace foodpipe::db {

struct ConnDeleter {
  void operator()(PGconn* conn) const noexcept;
};
struct ResultDeleter {
  void operator()(PGresult* result) const noexcept;
};
// What PQconninfoParse and PQconndefaults return.
struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const noexcept;
};
// Strings libpq allocates for us (PQescapeIdentifier, the errmsg of PQconninfoParse).
struct PqMemoryDeleter {
  void operator()(char* memory) const noexcept;
};

using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
using ConninfoOptionsPtr = std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter>;
using PqStringPtr = std::unique_ptr<char, PqMemoryDeleter>;

} // namespace foodpipe::db
