# kernels/kernels.cmake — the bundled kernels, included by the root
# CMakeLists.txt before the library is defined. It
#   - appends the CPU twins (kernels/*.c) and the embedded OpenCL sources to
#     WEFT_SOURCES;
#   - sets WEFT_KERNEL_INCLUDES (the generated folder, private to the build);
#   - sets WEFT_KERNEL_LIBS: CLBlast (devices' SGEMM) and OpenBLAS (CPU SGEMM).
# Debian/Ubuntu: apt-get install libclblast-dev libopenblas-dev
# (scripts/install-deps.sh installs them).

set(WEFT_KERNEL_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WEFT_KERNEL_GEN_DIR ${CMAKE_CURRENT_BINARY_DIR}/kernels)

option(WEFT_NATIVE_KERNELS "Build the CPU twins of the bundled kernels with -march=native" OFF)

set(WEFT_KERNEL_NAMES saxpy sdot mandelbrot stencil5 histogram nbody sgemm)

# ---- dependencies -------------------------------------------------------------
find_package(CLBlast CONFIG QUIET)
if(NOT TARGET clblast)
  message(FATAL_ERROR "weft kernels: CLBlast not found (find_package(CLBlast) gives target clblast). "
    "Install libclblast-dev (scripts/install-deps.sh), or point CLBlast_DIR at its CMake config.")
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(WEFT_OPENBLAS QUIET IMPORTED_TARGET openblas)
if(NOT WEFT_OPENBLAS_FOUND)
  message(FATAL_ERROR "weft kernels: OpenBLAS not found (pkg-config openblas). "
    "Install libopenblas-dev (scripts/install-deps.sh).")
endif()
message(STATUS "weft kernels: CLBlast ${CLBlast_DIR}, OpenBLAS ${WEFT_OPENBLAS_VERSION} (${WEFT_OPENBLAS_LINK_LIBRARIES})")

# ---- OpenCL sources, embedded as C arrays at build time -----------------------
set(WEFT_KERNEL_CL "")
set(WEFT_KERNEL_C ${WEFT_KERNEL_DIR}/common.c)
foreach(k IN LISTS WEFT_KERNEL_NAMES)
  list(APPEND WEFT_KERNEL_CL ${WEFT_KERNEL_DIR}/${k}.cl)
  list(APPEND WEFT_KERNEL_C ${WEFT_KERNEL_DIR}/${k}.c)
endforeach()
add_custom_command(
  OUTPUT ${WEFT_KERNEL_GEN_DIR}/weft_kernel_sources.c ${WEFT_KERNEL_GEN_DIR}/weft_kernel_sources.h
  COMMAND ${CMAKE_COMMAND} -DOUT_DIR=${WEFT_KERNEL_GEN_DIR} "-DSOURCES=${WEFT_KERNEL_CL}"
          -P ${WEFT_KERNEL_DIR}/embed_cl.cmake
  DEPENDS ${WEFT_KERNEL_CL} ${WEFT_KERNEL_DIR}/embed_cl.cmake
  COMMENT "Embedding kernels/*.cl"
  VERBATIM)

# The CPU twins: vectorised (-O3), rounding exactly as the OpenCL kernels do
# (no contraction into FMA), sqrtf vectorisable (no errno).
set(WEFT_KERNEL_COPTS -O3 -ffp-contract=off -fno-math-errno)
if(WEFT_NATIVE_KERNELS)
  list(APPEND WEFT_KERNEL_COPTS -march=native)
endif()
set_source_files_properties(${WEFT_KERNEL_C} PROPERTIES COMPILE_OPTIONS "${WEFT_KERNEL_COPTS}")
set_source_files_properties(${WEFT_KERNEL_GEN_DIR}/weft_kernel_sources.c PROPERTIES GENERATED TRUE)

list(APPEND WEFT_SOURCES ${WEFT_KERNEL_C} ${WEFT_KERNEL_GEN_DIR}/weft_kernel_sources.c)
list(APPEND WEFT_KERNEL_INCLUDES ${WEFT_KERNEL_GEN_DIR} ${WEFT_OPENBLAS_INCLUDE_DIRS})

# Linking: in the build tree the imported targets; installed, CLBlast comes
# back through find_dependency(CLBlast) in weftConfig.cmake and OpenBLAS as
# its library path (pkg-config's imported target is not exported).
list(APPEND WEFT_KERNEL_LIBS
  m
  clblast
  $<BUILD_INTERFACE:PkgConfig::WEFT_OPENBLAS>
  $<INSTALL_INTERFACE:openblas>)

# For cmake/weftConfig.cmake.in and cmake/weft.pc.in.
set(WEFT_HAVE_KERNELS 1)
set(WEFT_PC_REQUIRES_PRIVATE "clblast openblas")
set(WEFT_CONFIG_KERNEL_DEPS "find_dependency(CLBlast)")
