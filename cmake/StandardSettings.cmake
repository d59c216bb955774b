# Language standard, warnings and sanitizers as INTERFACE targets, linked PRIVATE
# by every foodpipe target, so that nothing leaks into consumers or system headers.

add_library(foodpipe_options INTERFACE)
target_compile_features(foodpipe_options INTERFACE cxx_std_20)
set(CMAKE_CXX_EXTENSIONS OFF)

if(FOODPIPE_SANITIZE)
  target_compile_options(foodpipe_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(foodpipe_options INTERFACE -fsanitize=address,undefined)
endif()

# No -Wnull-dereference: it needs the optimiser, so the -Werror dev build (-O0) never sees
# it, and at -O2 GCC 12 reports it inside libstdc++ (string, vector, streambuf) for code
# that cannot be null; a release build should be as quiet as the dev build.
add_library(foodpipe_warnings INTERFACE)
target_compile_options(foodpipe_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(FOODPIPE_WARNINGS_AS_ERRORS)
  target_compile_options(foodpipe_warnings INTERFACE -Werror)
endif()

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()
