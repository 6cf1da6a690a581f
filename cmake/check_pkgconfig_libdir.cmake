# cmake/check_pkgconfig_libdir.cmake — weft.pc with a libdir two levels deep.
#
#   cmake -DSOURCE=<weft source dir> -DWORK=<scratch dir> -DGENERATOR=<gen>
#         -P cmake/check_pkgconfig_libdir.cmake
#
# Debian and Ubuntu install libraries in lib/<multiarch>: the .pc files then
# sit three levels below the prefix, not two. Configures weft with
# CMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu, installs it into WORK/prefix,
# and checks that pkg-config's prefix, libdir and includedir (for weft and,
# when built, weft_kernels) are the installed folders, then builds a CPU-only
# program with pkg-config's flags (finding libweft.so at run time through an
# rpath to pkg-config's libdir, as the README says) and runs it.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/check_common.cmake)
check_require(check_pkgconfig_libdir.cmake SOURCE WORK GENERATOR)

set(libdir_rel lib/x86_64-linux-gnu)
file(REMOVE_RECURSE "${WORK}")
set(prefix "${WORK}/prefix")
run("${CMAKE_COMMAND}" -S "${SOURCE}" -B "${WORK}/build" -G "${GENERATOR}" -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_INSTALL_LIBDIR=${libdir_rel}" -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_TESTS=OFF)
run("${CMAKE_COMMAND}" --build "${WORK}/build" -j2)
run("${CMAKE_COMMAND}" --install "${WORK}/build" --prefix "${prefix}")

# Where pkg-config says things are, against where they were installed.
set(ENV{PKG_CONFIG_PATH} "${prefix}/${libdir_rel}/pkgconfig")
set(packages weft)
if(EXISTS "${prefix}/${libdir_rel}/pkgconfig/weft_kernels.pc")
  list(APPEND packages weft_kernels)
endif()
foreach(pkg IN LISTS packages)
  foreach(pair "prefix=${prefix}" "libdir=${prefix}/${libdir_rel}" "includedir=${prefix}/include")
    string(REPLACE "=" ";" pair "${pair}")
    list(GET pair 0 var)
    list(GET pair 1 want)
    run(pkg-config "--variable=${var}" ${pkg})
    file(REAL_PATH "${run_out}" got)
    file(REAL_PATH "${want}" want)
    if(NOT got STREQUAL want)
      message(FATAL_ERROR "${pkg}.pc: ${var} is ${run_out} (${got}), want ${want}")
    endif()
  endforeach()
endforeach()

file(WRITE "${WORK}/app/main.c" [=[
#include <stdio.h>
#include <weft/weft.h>

static void *twice(void *arg) { return (void *)(2 * (long)arg); }

int main(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    o.devices = "none";
    weft_runtime_t *rt;
    weft_handle_t *h;
    void *r = NULL;
    if (weft_runtime_create(&o, &rt) || weft_spawn(rt, twice, (void *)21L, &h) || weft_join(h, &r, NULL)) return 1;
    printf("weft %s: %ld\n", weft_version(), (long)r);
    weft_runtime_destroy(rt);
    return 0;
}
]=])
run(pkg-config --cflags --libs weft)
separate_arguments(flag_list UNIX_COMMAND "${run_out}")
run(pkg-config --variable=libdir weft)
set(rpath "${run_out}")
run(cc -std=c17 "${WORK}/app/main.c" -o "${WORK}/app-pc" ${flag_list} "-Wl,-rpath,${rpath}")
run("${WORK}/app-pc")
if(NOT run_out MATCHES "weft [0-9]+\\.[0-9]+\\.[0-9]+: 42")
  message(FATAL_ERROR "the pkg-config program printed: ${run_out}")
endif()
message(STATUS "pkg-config: weft installed with libdir ${libdir_rel} builds and runs a program")
