# cmake/check_consumer.cmake — weft as a consumer sees it, after install.
#
#   cmake -DBUILD=<weft build dir> -DWORK=<scratch dir> -DGENERATOR=<gen>
#         -P cmake/check_consumer.cmake
#
# Installs the build into WORK/prefix, then builds a CPU-only spawn/join
# program against it twice — with find_package(weft) and with pkg-config —
# and checks that:
#   - weft/weft.h compiles without the OpenCL headers being included;
#   - neither link line names OpenCL, CLBlast or OpenBLAS;
#   - the installed CMake package holds no absolute path of the build machine
#     (the prefix is relocatable) and the shared library exports only weft_*;
#   - both programs run and print the joined value.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/check_common.cmake)
check_require(check_consumer.cmake BUILD WORK GENERATOR)

function(no_dependency_in what text)
  string(TOLOWER "${text}" low)
  foreach(dep opencl clblast openblas)
    string(FIND "${low}" "${dep}" at)
    if(at GREATER_EQUAL 0)
      message(FATAL_ERROR "${what} names ${dep}:\n${text}")
    endif()
  endforeach()
endfunction()

file(REMOVE_RECURSE "${WORK}")
set(prefix "${WORK}/prefix")
run("${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${prefix}")

# The installed package: relocatable, and the library's exports.
file(GLOB_RECURSE pkg_files "${prefix}/lib*/cmake/weft/*.cmake")
foreach(f IN LISTS pkg_files)
  file(READ "${f}" text)
  foreach(abs "${BUILD}" "/usr/lib" "/usr/local/lib")
    string(FIND "${text}" "${abs}" at)
    if(at GREATER_EQUAL 0)
      message(FATAL_ERROR "${f} holds the absolute path ${abs}")
    endif()
  endforeach()
endforeach()
file(GLOB libs "${prefix}/lib*/libweft.so")
list(GET libs 0 lib)
run(nm -D --defined-only "${lib}")
string(REGEX MATCHALL "[^\n]+" symbols "${run_out}")
foreach(s IN LISTS symbols)
  if(NOT s MATCHES " weft_[a-z0-9_]+$")
    message(FATAL_ERROR "libweft.so exports a name outside weft_*: ${s}")
  endif()
endforeach()

# A CPU-only program.
file(WRITE "${WORK}/app/main.c" [=[
#include <stdio.h>
#include <weft/weft.h>
#ifdef __OPENCL_CL_H
#error "weft/weft.h pulled in the OpenCL headers"
#endif

static void *square(void *arg)
{
    long x = (long)arg;
    return (void *)(x * x);
}

int main(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.devices = "none";
    weft_runtime_t *rt;
    if (weft_runtime_create(&o, &rt)) return 1;
    weft_handle_t *h;
    void *r = NULL;
    if (weft_spawn(rt, square, (void *)7L, &h) || weft_join(h, &r, NULL)) return 1;
    printf("weft %s: %ld\n", weft_version(), (long)r);
    weft_runtime_destroy(rt);
    return 0;
}
]=])
file(WRITE "${WORK}/app/CMakeLists.txt" [=[
cmake_minimum_required(VERSION 3.25)
project(app C)
find_package(weft REQUIRED)
add_executable(app main.c)
target_link_libraries(app PRIVATE weft::weft)
]=])

# 1. find_package(weft)
run("${CMAKE_COMMAND}" -S "${WORK}/app" -B "${WORK}/app-build" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
file(GLOB_RECURSE link_files "${WORK}/app-build/*link.txt" "${WORK}/app-build/build.ninja")
set(link_text "")
foreach(f IN LISTS link_files)
  file(READ "${f}" t)
  string(APPEND link_text "${t}")
endforeach()
run("${CMAKE_COMMAND}" --build "${WORK}/app-build")
if(NOT link_text)
  file(GLOB_RECURSE link_files "${WORK}/app-build/*link.txt")
  foreach(f IN LISTS link_files)
    file(READ "${f}" t)
    string(APPEND link_text "${t}")
  endforeach()
endif()
string(REGEX MATCH "[^\n]*-o app[^\n]*" link_line "${link_text}")
if(NOT link_line)
  message(FATAL_ERROR "could not find the consumer's link line in:\n${link_text}")
endif()
no_dependency_in("the find_package(weft) link line" "${link_line}")
run("${WORK}/app-build/app")
if(NOT run_out MATCHES "weft [0-9]+\\.[0-9]+\\.[0-9]+: 49")
  message(FATAL_ERROR "the find_package(weft) program printed: ${run_out}")
endif()

# 2. pkg-config
file(GLOB pcdir "${prefix}/lib*/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "${pcdir}")
run(pkg-config --libs weft)
string(STRIP "${run_out}" libs_flags)
no_dependency_in("pkg-config --libs weft" "${libs_flags}")
run(pkg-config --cflags weft)
string(STRIP "${run_out}" flags)
string(APPEND flags " ${libs_flags}")
separate_arguments(flag_list UNIX_COMMAND "${flags}")
file(GLOB libdir "${prefix}/lib*")
run(cc -std=c17 "${WORK}/app/main.c" -o "${WORK}/app-pc" ${flag_list} "-Wl,-rpath,${libdir}")
run("${WORK}/app-pc")
if(NOT run_out MATCHES "weft [0-9]+\\.[0-9]+\\.[0-9]+: 49")
  message(FATAL_ERROR "the pkg-config program printed: ${run_out}")
endif()
message(STATUS "consumer: find_package and pkg-config build a CPU-only program with no OpenCL, CLBlast or OpenBLAS on the link line")
