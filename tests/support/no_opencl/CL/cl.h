/* tests/support/no_opencl/CL/cl.h — on the include path of the tests that
 * must compile without OpenCL headers (the scheduler tests, the support
 * code): any include of CL/cl.h, direct or through weft/opencl.h,
 * weft/testing.h, stops the build here. */
#error "this test must not include OpenCL headers (CL/cl.h): include only <weft/weft.h> and weft_test.h"
