#include "db/handles.hpp"

#include <libpq-fe.h>

namespace foodpipe::db {

void ConnDeleter::operator()(PGconn* conn) const noexcept { PQfinish(conn); }
void ResultDeleter::operator()(PGresult* result) const noexcept { PQclear(result); }
void ConninfoOptionsDeleter::operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
void PqMemoryDeleter::operator()(char* memory) const noexcept { PQfreemem(memory); }

} // namespace foodpipe::db
