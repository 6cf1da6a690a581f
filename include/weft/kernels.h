/* weft/kernels.h — bundled data-parallel operations, each an OpenCL kernel
 * (kernels/<name>.cl, built into the library) plus its CPU twin
 * (kernels/<name>.c), ready for weft_parallel_for.
 *
 * They live in a library of their own, a client of weft's public API, which
 * brings OpenBLAS and CLBlast with it: link libweft_kernels (CMake:
 * weft::kernels or weft::kernels_static, which bring weft::weft or
 * weft::weft_static; pkg-config: weft_kernels) as well as weft.
 *
 * Every operation comes three ways:
 *
 *   weft_k_<op>_kernel   the weft_kernel_t descriptor (CPU body + OpenCL body);
 *   weft_k_<op>_args()   fills a weft_k_args_t: kernel, range and arguments,
 *                        ready for weft_scope_parallel_for (or weft_k_start);
 *   weft_k_<op>()        one call: build the arguments, run, join.
 *
 * Used inside a scope:
 *
 *     weft_k_args_t a;
 *     weft_k_saxpy_args(&a, n, 2.0f, x, y);
 *     weft_scope_parallel_for(s, a.kernel, a.range, a.args, a.nargs, &pol, &h);
 *
 * Matrices and images are row-major and packed (row stride = width). 2-D
 * operations split by rows. Policies (NULL: guided, CPU and every device)
 * choose the places, as for weft_parallel_for.
 *
 * Floating point: the kernels are built without contraction (no fused
 * multiply-add) on both sides, and the CPU twins do the device's arithmetic
 * in the device's order, so saxpy, sdot, mandelbrot and stencil5 give the same
 * bits on the CPU and on a device whose single-precision add and multiply
 * round as IEEE 754 says (seen with PoCL's CPU devices and NVIDIA's OpenCL on
 * an H100). sdot and histogram results do not
 * depend on how the range was split. nbody and sgemm agree within float
 * tolerance between the CPU and a device; on the CPU alone each gives the
 * same bits however the range is split (over workers, chunks or MPI ranks):
 * nbody computes every body alone, and sgemm's CPU body runs OpenBLAS on
 * fixed cells of 64 rows of C whatever rows it is handed.
 *
 * Every function returns 0 or a negative WEFT_E* code; bad arguments give
 * WEFT_EINVAL with a message in weft_last_error_message(). A failure while
 * running gives WEFT_EPANIC and, when `panic` is not NULL, the payload (the
 * caller frees it with weft_panic_destroy()). */
#ifndef WEFT_KERNELS_H
#define WEFT_KERNELS_H

#include "weft/export.h"

#include <stddef.h>
#include <stdint.h>

#include "weft/parallel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- arguments of one operation ------------------------------------------ */

/** Most arguments any bundled kernel takes. */
#define WEFT_K_MAX_ARGS 12

/** Kernel, range and arguments of one bundled operation, filled by a
 *  weft_k_<op>_args() function. Scalar arguments point into `scalars`: use
 *  the struct where it was filled (a copy still points at the original's
 *  scalars). weft copies scalars when the operation starts, so the struct may
 *  go as soon as weft_scope_parallel_for() has returned. The range's
 *  work-group sizes may be changed before starting, except where an _args
 *  function says otherwise. */
typedef struct weft_k_args {
    const weft_kernel_t *kernel;      /**< the operation */
    weft_range_t range;               /**< its index range */
    weft_arg_t args[WEFT_K_MAX_ARGS]; /**< its arguments, in kernel order */
    size_t nargs;                     /**< how many of args are used */
    union {
        uint64_t u64[16];
        double f64[16];
    } scalars;                        /**< storage for scalar values (internal) */
} weft_k_args_t;

/** (A macro.) weft_scope_parallel_for(s, a->kernel, a->range, a->args,
 *  a->nargs, pol, out).
 *  @return as weft_scope_parallel_for; WEFT_EINVAL for a NULL a. */
#define weft_k_start(s, a, pol, out) weft_k_start_at(__FILE__, __LINE__, (s), (a), (pol), (out))

/** (A macro.) weft_parallel_run(rt, a->kernel, a->range, a->args, a->nargs,
 *  pol, panic): start and join.
 *  @return as weft_parallel_run; WEFT_EINVAL for a NULL a. */
#define weft_k_run(rt, a, pol, panic) weft_k_run_at(__FILE__, __LINE__, (rt), (a), (pol), (panic))

/** What weft_k_start expands to (file, line: the caller's, a literal, named
 *  by a device failure's panic; as weft_scope_parallel_for_at). */
WEFT_API int weft_k_start_at(const char *file, int line, weft_scope_t *s, const weft_k_args_t *a,
                    const weft_policy_t *pol, weft_handle_t **out);
/** What weft_k_run expands to. */
WEFT_API int weft_k_run_at(const char *file, int line, weft_runtime_t *rt, const weft_k_args_t *a,
                  const weft_policy_t *pol, weft_panic_t **panic);

/* The one-call helpers below are macros too: each weft_k_<op>(...) expands to
 * weft_k_<op>_at(__FILE__, __LINE__, ...), so that a device failure's panic
 * names the caller's line. */

/* ---- saxpy: y = a*x + y ---------------------------------------------------- */

/** y[i] = a*x[i] + y[i]. OpenCL entry weft_saxpy(ulong n, float a, x, y).
 *  Bit-identical on CPU and devices. */
WEFT_API extern const weft_kernel_t weft_k_saxpy_kernel;

/** Arguments for saxpy over n floats (1-D range, work-groups of 256): n (scalar),
 *  a (scalar), x (split, read), y (split, read-write).
 *  @return 0; WEFT_EINVAL (NULL a, NULL x or y with n > 0). */
WEFT_API int weft_k_saxpy_args(weft_k_args_t *args, size_t n, float a, const float *x, float *y);

/** (A macro.) Run saxpy over n floats and join. */
#define weft_k_saxpy(...) weft_k_saxpy_at(__FILE__, __LINE__, __VA_ARGS__)
/** What weft_k_saxpy expands to: file and line (the caller's, a literal) are
 *  where a failure's panic says it happened. */
WEFT_API int weft_k_saxpy_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                    size_t n, float a, const float *x, float *y, weft_panic_t **panic);

/* ---- sdot: dot product ----------------------------------------------------- */

/** Dot product, one float partial per work-group, each summed by the same
 *  pairwise tree on CPU and device, folded by weft in block order: the result
 *  is the same bits whatever the split and the places. OpenCL entry
 *  weft_sdot(ulong n, uint group, x, y, partials, __local scratch). Its CPU
 *  body is a body with context (cpu_ctx, cpu is NULL): n, the group size and
 *  the blocks come from the weft_chunk_ctx_t. */
WEFT_API extern const weft_kernel_t weft_k_sdot_kernel;

/** Arguments for x . y over n floats into *result (1-D range): n, group
 *  (scalars), x, y (split, read), the reduction into *result, __local scratch.
 *  @param group  work-group size = reduction block: a power of two from 1 to
 *                1024 (0: 256). The result depends on it (it sets the
 *                summation order), so it is fixed here: do not change
 *                args->range.group afterwards.
 *  @return 0; WEFT_EINVAL (NULL args or result, NULL x or y with n > 0, a bad
 *          group). */
WEFT_API int weft_k_sdot_args(weft_k_args_t *args, size_t n, const float *x, const float *y, float *result,
                     size_t group);

/** (A macro.) *result = x . y over n floats (work-groups of 256). */
#define weft_k_sdot(...) weft_k_sdot_at(__FILE__, __LINE__, __VA_ARGS__)
/** What weft_k_sdot expands to: file and line (the caller's, a literal) are
 *  where a failure's panic says it happened. */
WEFT_API int weft_k_sdot_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                   size_t n, const float *x, const float *y, float *result, weft_panic_t **panic);

/* ---- mandelbrot ------------------------------------------------------------ */

/** Escape-time Mandelbrot: out[py*width + px] = iterations (0..max_iter) of
 *  z = z^2 + c from z = 0 while |z|^2 <= 4, with c = (x0 + px*dx, y0 + py*dy).
 *  Compute-bound and uneven across rows. Bit-identical on CPU and devices.
 *  OpenCL entry weft_mandelbrot(uint width, uint height, float x0, float y0,
 *  float dx, float dy, uint max_iter, uint *out). */
WEFT_API extern const weft_kernel_t weft_k_mandelbrot_kernel;

/** Arguments for a width x height image (2-D range, work-groups of 16 x 4):
 *  width, height, x0, y0, dx, dy, max_iter (scalars), out (split by rows,
 *  write; width*height uint32_t).
 *  @return 0; WEFT_EINVAL (NULL args or out, width or height of 0 or above
 *          UINT32_MAX). */
WEFT_API int weft_k_mandelbrot_args(weft_k_args_t *args, size_t width, size_t height, float x0, float y0,
                           float dx, float dy, uint32_t max_iter, uint32_t *out);

/** (A macro.) Compute the image and join. */
#define weft_k_mandelbrot(...) weft_k_mandelbrot_at(__FILE__, __LINE__, __VA_ARGS__)
/** What weft_k_mandelbrot expands to: file and line (the caller's, a literal) are
 *  where a failure's panic says it happened. */
WEFT_API int weft_k_mandelbrot_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                         size_t width, size_t height, float x0, float y0, float dx, float dy,
                         uint32_t max_iter, uint32_t *out, weft_panic_t **panic);

/* ---- stencil5: 5-point stencil, iterated ----------------------------------- */

/** One step of out = c0*in + c1*((north + south) + (west + east)) on the
 *  interior of a width x height grid; border cells are copied. The input is a
 *  split argument with a halo of one row, so a device gets only its rows and
 *  their neighbours. Bit-identical on CPU and devices. OpenCL entry
 *  weft_stencil5(uint width, uint height, float c0, float c1, in, out). */
WEFT_API extern const weft_kernel_t weft_k_stencil5_kernel;

/** Arguments for one step from `in` to `out` (distinct grids of width*height
 *  floats; 2-D range, work-groups of 32 x 4): width, height, c0, c1
 *  (scalars), in (split by rows, halo 1, read), out (split by rows, write).
 *  @return 0; WEFT_EINVAL (NULL pointers, in == out, width or height of 0 or
 *          above UINT32_MAX). */
WEFT_API int weft_k_stencil5_args(weft_k_args_t *args, size_t width, size_t height, float c0, float c1,
                         const float *in, float *out);

/** (A macro.) `iters` steps, ping-pong between a (the initial grid) and b (scratch of
 *  the same size): each step is one parallel operation over the whole grid,
 *  joined before the next. Over more than one step both grids are
 *  registered arrays (weft/array.h) for the call: on a device with memory of
 *  its own each place's rows stay there, and only the halo rows its
 *  neighbours wrote move between steps; both grids are current on the host
 *  when the call returns.
 *  @param result  receives the grid holding the final state: a when iters is
 *                 even, else b (may be NULL). */
#define weft_k_stencil5(...) weft_k_stencil5_at(__FILE__, __LINE__, __VA_ARGS__)
/** What weft_k_stencil5 expands to: file and line (the caller's, a literal) are
 *  where a failure's panic says it happened. */
WEFT_API int weft_k_stencil5_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                       size_t width, size_t height, float c0, float c1, float *a, float *b,
                       unsigned iters, float **result, weft_panic_t **panic);

/* ---- histogram --------------------------------------------------------------- */

/** Bins of weft_k_histogram. */
#define WEFT_K_HIST_BINS 256

/** 256-bin histogram of floats: a value v with lo <= v < hi counts in bin
 *  min((uint32_t)((v - lo) * scale), 255) with scale = 256 / (hi - lo) (as a
 *  float); other values (and NaN) count nowhere. Each work-group makes a
 *  partial histogram of its values (a reduction whose element is a whole
 *  histogram; combine adds bins); weft adds them in block order. The counts
 *  are exact and independent of the split. OpenCL entry
 *  weft_histogram(data, tail, uint tail_n, uint per_item, uint group,
 *  ulong nseg, float lo, float hi, float scale, partials, __local counts). */
WEFT_API extern const weft_kernel_t weft_k_histogram_kernel;

/** Arguments for the histogram of n floats into hist[WEFT_K_HIST_BINS]
 *  (1-D range over segments of 64 consecutive values, work-groups of 64; one
 *  partial histogram per 4096 values). The values past the last whole segment
 *  are counted by work-group 0. Do not change args->range.group afterwards.
 *  @return 0; WEFT_EINVAL (NULL args or hist, NULL data with n > 0, lo >= hi
 *          or not finite, n above 2^32 segments). */
WEFT_API int weft_k_histogram_args(weft_k_args_t *args, size_t n, const float *data, float lo, float hi,
                          uint32_t *hist);

/** (A macro.) Compute hist[WEFT_K_HIST_BINS] of n floats and join. */
#define weft_k_histogram(...) weft_k_histogram_at(__FILE__, __LINE__, __VA_ARGS__)
/** What weft_k_histogram expands to: file and line (the caller's, a literal) are
 *  where a failure's panic says it happened. */
WEFT_API int weft_k_histogram_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                        size_t n, const float *data, float lo, float hi, uint32_t *hist,
                        weft_panic_t **panic);

/* ---- nbody ----------------------------------------------------------------- */

/** One step of an all-pairs N-body system with softening eps2:
 *  a_i = sum_j m_j d_ij / (|d_ij|^2 + eps2)^(3/2), d_ij = p_j - p_i;
 *  v_i += a_i*dt; p_out_i = p_i + v_i*dt. Positions are 4 floats per body
 *  (x, y, z, mass), velocities 4 floats (vx, vy, vz, unused). Compute-bound:
 *  each body reads every position (a whole argument) and writes only its own
 *  velocity and new position (split). OpenCL entry weft_nbody(uint n, float dt,
 *  float eps2, pos, vel, pos_out, __local tile). eps2 must be > 0. */
WEFT_API extern const weft_kernel_t weft_k_nbody_kernel;

/** Arguments for one step of n bodies (1-D range, work-groups of 64): n, dt,
 *  eps2 (scalars), pos (whole, read, 4n floats), vel (split, read-write, 4n
 *  floats), pos_out (split, write, 4n floats, distinct from pos), __local tile
 *  (sized for the work-group: do not change args->range.group afterwards).
 *  @return 0; WEFT_EINVAL (NULL pointers, n of 0 or above UINT32_MAX,
 *          pos == pos_out, eps2 not > 0). */
WEFT_API int weft_k_nbody_args(weft_k_args_t *args, size_t n, float dt, float eps2, const float *pos,
                      float *vel, float *pos_out);

/** (A macro.) `steps` steps, ping-pong of positions between pos (the initial state) and
 *  pos_tmp (scratch, 4n floats); vel is updated in place. Over more than one
 *  step pos and pos_tmp are registered arrays (weft/array.h) for the call:
 *  a device with memory of its own keeps its copy of the positions and gets
 *  only those other places computed; both are current on the host when the
 *  call returns (vel moves each step, as a plain split argument).
 *  @param result  receives the array holding the final positions: pos when
 *                 steps is even, else pos_tmp (may be NULL). */
#define weft_k_nbody(...) weft_k_nbody_at(__FILE__, __LINE__, __VA_ARGS__)
/** What weft_k_nbody expands to: file and line (the caller's, a literal) are
 *  where a failure's panic says it happened. */
WEFT_API int weft_k_nbody_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                    size_t n, float dt, float eps2, float *pos, float *pos_tmp, float *vel,
                    unsigned steps, float **result, weft_panic_t **panic);

/* ---- sgemm: C = alpha*A*B + beta*C ------------------------------------------ */

/** SGEMM through weft_parallel_for: the CPU body runs OpenBLAS cblas_sgemm on
 *  its rows of C (single-threaded: it sets openblas_set_num_threads(1) when
 *  OpenBLAS is not at one thread; weft provides the parallelism), the
 *  OpenCL body is a plain tiled kernel (kernels/sgemm.cl). Row-major, packed:
 *  A is M x K, B is K x N, C is M x N. OpenCL entry weft_sgemm(uint M, uint N,
 *  uint K, float alpha, float beta, A, B, C); on devices the work-groups must
 *  stay 16 x 16 (the CPU body takes any). weft_k_sgemm() is the faster way:
 *  the same operation with CLBlast as the devices' body. */
WEFT_API extern const weft_kernel_t weft_k_sgemm_kernel;

/** Arguments for C = alpha*A*B + beta*C (2-D range N x M, work-groups of
 *  16 x 16, split by rows of C): M, N, K (scalars, uint), alpha, beta
 *  (scalars), A (split by rows, read), B (whole, read), C (split by rows,
 *  read-write; write only when beta == 0, and then C is not read).
 *  @return 0; WEFT_EINVAL (NULL pointers, N or K of 0, a dimension above
 *          INT32_MAX, C overlapping A or B). */
WEFT_API int weft_k_sgemm_args(weft_k_args_t *args, size_t M, size_t N, size_t K, float alpha,
                      const float *A, const float *B, float beta, float *C);

/** (A macro.) C = alpha*A*B + beta*C split by row blocks of C across the CPU workers
 *  and the devices at once, with each place's best BLAS: the CPU runs
 *  OpenBLAS, devices run CLBlast. Row-major, packed.
 *
 *  An ordinary parallel operation named "weft_k_sgemm", on the arguments of
 *  weft_k_sgemm_args() (A split by rows, read; B whole; C split by rows,
 *  written, and read too when beta != 0), whose device body
 *  (weft_kernel_t::cl_body) calls CLBlastSgemm on the device's own queue
 *  for the chunk's rows, at offsets into the buffers weft made: a device
 *  gets B once and, per chunk, its rows of A (and of C when beta != 0), and
 *  its rows of C are read back; on unified-memory devices CLBlast works in
 *  the host arrays directly. The CPU body runs single-threaded cblas_sgemm
 *  on fixed cells of 64 rows of C, one call per cell, whatever piece of a
 *  chunk it is handed (a cell the piece covers only in part is computed
 *  whole into scratch, and only the piece's rows kept): OpenBLAS's bits for
 *  a row depend on the call that computes it, so fixed cells make the CPU's
 *  result the same bits however the rows are split — over workers, chunks,
 *  policies or MPI ranks (small chunks, as DYNAMIC's, pay for the partly
 *  covered cells). So everything
 *  weft_parallel_for does applies: the write borrow of C
 *  (an overlapping operation is refused with WEFT_EBORROW), the policy's
 *  meaning, chunks in multiples of 16 rows (STATIC one contiguous share per
 *  place, sized by the speed model on disk when it knows every place, else
 *  by CPU workers and device compute units; DYNAMIC chunks of pol->chunk
 *  rows, 0: automatic; GUIDED, the default, shrinking chunks weighted by
 *  measured speed, never below pol->chunk rows, 0: 32; ADAPTIVE the same
 *  after calibrating; STATIC and ADAPTIVE keep the speeds on disk under
 *  "weft_k_sgemm"), the trace (kernel "weft_k_sgemm", places named as for
 *  any operation) and weft_runtime_last_run_stats() (rows per place,
 *  chunks, bytes copied).
 *
 *  pol->on_fault FAILOVER gives a failed chunk to another place (its rows
 *  of C put back first when beta != 0); PROPAGATE stops every place and
 *  returns the failure. A failing CLBlast call panics with its status as
 *  the panic's cl_status (CLBlast codes outside OpenCL's are named
 *  "CLBLAST_STATUS_<n>"), the device, the kernel name "weft_sgemm_clblast"
 *  and the rows. Faults injected for the kernel name "weft_sgemm_clblast"
 *  (weft_fault_inject, $WEFT_FAULT) count one launch per device chunk.
 *
 *  OpenBLAS is set to one thread (openblas_set_num_threads(1), for the whole
 *  process) whenever it is not at the start of a CPU piece: weft provides
 *  the parallelism. A program that wants multi-threaded OpenBLAS for its own
 *  calls sets it again afterwards. OpenBLAS 0.3.21 (Debian 12) falls back to slow
 *  generic kernels on CPUs newer than its table: set OPENBLAS_CORETYPE (for
 *  example SkylakeX) in the environment before the program starts. The first
 *  CLBlast call on a device builds CLBlast's kernels (seconds on PoCL; cached
 *  afterwards); calls into CLBlast are serialised by one lock (CLBlast before
 *  1.6.1 is not thread-safe). K == 0 scales C by beta on the calling thread
 *  (C = 0 when beta is 0); M or N == 0 does nothing.
 *  @return 0; WEFT_EINVAL (NULL rt, NULL matrices with non-zero sizes, a
 *          dimension above INT32_MAX, C overlapping A or B, a policy with no
 *          place); WEFT_EBORROW (a running operation writes C); WEFT_ENOMEM;
 *          WEFT_EPANIC with *panic. */
#define weft_k_sgemm(...) weft_k_sgemm_at(__FILE__, __LINE__, __VA_ARGS__)
/** What weft_k_sgemm expands to: file and line (the caller's, a literal) are
 *  where a failure's panic says it happened. */
WEFT_API int weft_k_sgemm_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                    size_t M, size_t N, size_t K, float alpha, const float *A, const float *B,
                    float beta, float *C, weft_panic_t **panic);

#ifdef __cplusplus
}
#endif
#endif
