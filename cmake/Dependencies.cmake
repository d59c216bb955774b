# Every third-party library as an imported target. compose/install-deps installs
# them from Debian; the messages below say so when one is missing.

find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka>=2.0)

find_package(PostgreSQL REQUIRED)
# SHA-256 (lib/db); libpq and librdkafka link libcrypto already.
find_package(OpenSSL REQUIRED COMPONENTS Crypto)

set(Boost_NO_WARN_NEW_VERSIONS ON)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options log log_setup)

find_path(RAPIDJSON_INCLUDE_DIR rapidjson/document.h REQUIRED)
add_library(foodpipe_rapidjson INTERFACE)
target_include_directories(foodpipe_rapidjson SYSTEM INTERFACE "${RAPIDJSON_INCLUDE_DIR}")
# std::string support and SSE4.2 scanning are both safe on the x86-64 machines we target;
# the latter is left off so the binary runs on any x86-64.
target_compile_definitions(foodpipe_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)

find_package(Threads REQUIRED)

# Boost.Beast and Boost.Asio (header-only, in libboost-dev) serve /metrics;
# only lib/app links them, through Boost::headers.
find_path(BOOST_BEAST_INCLUDE_DIR boost/beast/http.hpp)
if(NOT BOOST_BEAST_INCLUDE_DIR)
  message(FATAL_ERROR "Boost.Beast headers not found; install libboost-dev (compose/install-deps)")
endif()

if(FOODPIPE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(FOODPIPE_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
