# Cross-compiling wmihunt.exe with Debian's mingw-w64 (make windows).
# The posix thread variant: the hunt's pool uses pthreads (winpthreads).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR wine)
# The libraries built for Windows by scripts/build-win-deps.sh (libyaml,
# PCRE2, SQLite from Debian's source packages; zlib from libz-mingw-w64-dev)
# are found through their pkg-config files only.
if(WH_WIN_DEPS)
  set(ENV{PKG_CONFIG_LIBDIR} "${WH_WIN_DEPS}/lib/pkgconfig")
  set(ENV{PKG_CONFIG_PATH} "")
  list(APPEND CMAKE_FIND_ROOT_PATH "${WH_WIN_DEPS}")
endif()
