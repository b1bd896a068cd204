# SPDX-License-Identifier: BSL-1.0
# Cross-compiles coronet for 64-bit Windows with MinGW-w64 and runs the
# results under Wine. Boost.Asio, fmt (header-only) and CLI11 are header
# libraries: the build machine's copies serve the Windows target too. Catch2
# is compiled: scripts/setup builds it for this target (build/mingw-deps).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
# Wine, in a prefix of the build's own (see cmake/wine-run).
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/wine-run;${CMAKE_BINARY_DIR}/wine")

set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)  # the header libraries' CMake packages
list(APPEND CMAKE_PREFIX_PATH /usr/lib/x86_64-linux-gnu/cmake /usr/share/cmake /usr/lib/cmake)
# The build machine's Catch2 is compiled for it, not for Windows: never that one.
list(APPEND CMAKE_IGNORE_PATH /usr/lib/cmake/Catch2 /usr/lib/x86_64-linux-gnu/cmake/Catch2)

# Their headers live in /usr/include beside the build machine's C library, so
# that folder is searched after MinGW's own headers, never before them.
set(CMAKE_CXX_FLAGS_INIT "-idirafter /usr/include")
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "")
