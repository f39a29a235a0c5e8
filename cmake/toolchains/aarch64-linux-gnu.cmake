# Cross-compiling greenrack for arm64 (aarch64) Linux gateways with Debian 12's cross toolchain.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DGREENRACK_ARM64_SYSROOT=$PWD/build-arm64/sysroot
#
# scripts/cross-arm64.sh does all of it (packages, sysroot, build, unit tests under qemu).
#
# Compiler, libc and libstdc++: Debian's g++-aarch64-linux-gnu (the compiler part of
# crossbuild-essential-arm64), which keeps the arm64 libc in /usr/aarch64-linux-gnu.
#
# The arm64 libraries (libmodbus, Paho, spdlog, fmt, Boost, toml++, OpenSSL, libsystemd, Catch2,
# nlohmann-json) come from Debian's arm64 packages, in one of two places:
#
# * GREENRACK_ARM64_SYSROOT set (what scripts/cross-arm64.sh does): a directory into which the
#   arm64 .deb files were unpacked (dpkg-deb -x), so it has the multiarch layout
#   <sysroot>/usr/lib/aarch64-linux-gnu, <sysroot>/usr/include. Nothing arm64 is installed on
#   the machine. Everything is searched there only.
# * GREENRACK_ARM64_SYSROOT empty: the arm64 -dev packages installed system-wide with multiarch
#   (dpkg --add-architecture arm64; apt-get install libmodbus-dev:arm64 ...), i.e. in
#   /usr/lib/aarch64-linux-gnu. Not usable on a Debian 12 machine that also builds natively:
#   catch2 is not co-installable (catch2:arm64 replaces catch2:amd64) and every Multi-Arch: same
#   package must have the same version for both architectures. Untested here for that reason.
#
# Programs run at build time (Catch2 test discovery) and by ctest go through
# CMAKE_CROSSCOMPILING_EMULATOR: qemu-aarch64 (Debian's qemu-user; qemu-aarch64-static from
# qemu-user-static also works) with -L /usr/aarch64-linux-gnu (the arm64 dynamic loader and libc)
# and LD_LIBRARY_PATH set, inside the guest, to the sysroot's library directories.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Toolchain files are read again for every try_compile project: pass the sysroot on.
set(GREENRACK_ARM64_SYSROOT "$ENV{GREENRACK_ARM64_SYSROOT}" CACHE PATH
    "Directory holding the unpacked arm64 library packages (empty: installed with multiarch)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES GREENRACK_ARM64_SYSROOT)
set(_greenrack_cross_libc /usr/aarch64-linux-gnu)

if(GREENRACK_ARM64_SYSROOT)
    get_filename_component(_greenrack_sysroot "${GREENRACK_ARM64_SYSROOT}" ABSOLUTE)
    if(NOT EXISTS "${_greenrack_sysroot}/usr/lib/aarch64-linux-gnu")
        message(FATAL_ERROR "GREENRACK_ARM64_SYSROOT=${_greenrack_sysroot} holds no "
                            "usr/lib/aarch64-linux-gnu: run scripts/cross-arm64.sh to make it")
    endif()
    # Not CMAKE_SYSROOT: libc, libstdc++ and their headers stay those of the cross toolchain;
    # the sysroot only adds the libraries greenrack uses.
    set(CMAKE_FIND_ROOT_PATH "${_greenrack_sysroot}")
    set(_greenrack_libdirs
        "${_greenrack_sysroot}/usr/lib/aarch64-linux-gnu" "${_greenrack_sysroot}/lib/aarch64-linux-gnu")
    # Shared libraries pulled in by other shared libraries (libpaho-mqtt3as by libpaho-mqttpp3,
    # libgcrypt by libsystemd, ...) are looked up by the linker through -rpath-link.
    string(REPLACE ";" ":" _greenrack_libpath "${_greenrack_libdirs}")
    foreach(kind EXE SHARED MODULE)
        set(CMAKE_${kind}_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_greenrack_libpath}")
    endforeach()
    set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_greenrack_sysroot}")
    set(ENV{PKG_CONFIG_LIBDIR}
        "${_greenrack_sysroot}/usr/lib/aarch64-linux-gnu/pkgconfig:${_greenrack_sysroot}/usr/share/pkgconfig")
    set(_greenrack_guest_env "-E" "LD_LIBRARY_PATH=${_greenrack_libpath}")
else()
    # Multiarch: the cross compiler searches /usr/include/aarch64-linux-gnu and /usr/include,
    # CMake /usr/lib/aarch64-linux-gnu (CMAKE_LIBRARY_ARCHITECTURE).
    unset(ENV{PKG_CONFIG_SYSROOT_DIR})
    set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
    set(_greenrack_guest_env)
endif()
unset(ENV{PKG_CONFIG_PATH})

# Host programs (pkg-config, qemu) from the host; libraries, headers and CMake packages only
# from the target's root.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(GREENRACK_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(GREENRACK_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR
        "${GREENRACK_QEMU_AARCH64}" "-L" "${_greenrack_cross_libc}" ${_greenrack_guest_env})
else()
    message(WARNING "qemu-aarch64 not found (Debian package qemu-user): the unit tests cannot be "
                    "discovered or run; build with -DGREENRACK_BUILD_TESTS=OFF")
endif()
