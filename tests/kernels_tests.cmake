# tests/kernels_tests.cmake — the bundled kernels (kernels/), included at the
# end of tests/CMakeLists.txt (which defines weft_add_test).
#
# One test per kernel family. Each runs the operation CPU-only, on the devices
# only and on CPU + devices, and checks every element against a plain
# reference. With two PoCL CPU devices ("pthread basic") the device runs use
# two devices at once; without any OpenCL device the device parts skip.
# The kernels are a library of their own: every test that calls them links
# weft_kernels_static (which brings weft_static).
if(NOT WEFT_HAVE_KERNELS)
  return()
endif()

# The adaptive policy keeps its speed model in a folder of the build tree.
set(WEFT_KERNEL_TEST_ENV "POCL_DEVICES=pthread basic"
  "WEFT_CACHE_DIR=${CMAKE_CURRENT_BINARY_DIR}/kernels-cache")

foreach(k saxpy sdot mandelbrot stencil5 histogram nbody sgemm)
  weft_add_test(test_kernels_${k} ${CMAKE_CURRENT_LIST_DIR}/test_kernels_${k}.c
    ENV ${WEFT_KERNEL_TEST_ENV} LABELS "kernels;device" TIMEOUT 300 LIBS weft_kernels_static)
endforeach()

# Tests elsewhere that call weft_k_* too (test_bad_input checks their
# arguments), linked once every test of this folder is defined, wherever
# they are defined.
function(weft_link_kernel_clients)
  foreach(t test_bad_input)
    if(TARGET ${t})
      target_link_libraries(${t} PRIVATE weft_kernels_static)
    endif()
  endforeach()
endfunction()
cmake_language(DEFER CALL weft_link_kernel_clients)
