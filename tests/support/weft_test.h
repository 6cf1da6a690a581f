/* tests/support/weft_test.h — what every weft test shares (not a test
 * itself; the functions are in weft_test.c, linked into every test).
 *
 * Include it first: it brings cmocka and <weft/weft.h>, and nothing of
 * OpenCL, so the CPU tests compile without OpenCL headers. A test adds the
 * opt-in public headers it uses itself: <weft/opencl.h> (cl_* types, CL_*
 * statuses, interop), <weft/testing.h> (weft_fault_inject), <weft/kernels.h>
 * (the bundled kernels).
 *
 *   WT_CHECK(call), WT_PANIC    a call that must return 0; its panic slot
 *   wt_panic_report             a panic's report, for a failure message
 *   wt_assert_contains          substring assertion
 *   wt_runtime                  the runtime maker (skips without enough devices)
 *   wt_launch_1d                a 1-D device launch
 *   wt_capture_*                the capturing panic hook
 *   wt_now_ns, WT_WAIT_UNTIL, wt_spin_until
 *   wt_mix, wt_mix_policy, wt_policy_name, wt_check_stats (parallel runs)
 *
 * Rule for every test: cmocka asserts abort the whole binary when they fail
 * off the main thread, so tasks, CPU bodies and kernels only record what they
 * see; the test thread asserts after the join. */
#ifndef WEFT_TEST_H
#define WEFT_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

/* ---- checked calls ------------------------------------------------------------ */

/* A call that must return 0; on failure the test fails with the call, the
 * status's name and weft's last error message. A call taking a trailing
 * `weft_panic_t **` passes WT_PANIC there: a failure also shows the panic's
 * report, and a success must come without a panic:
 *   WT_CHECK(weft_buffer_read(b, 0, v, sizeof v));
 *   WT_CHECK(weft_k_saxpy(rt, &pol, n, a, x, y, WT_PANIC)); */
#define WT_CHECK(call)                                                                        \
    do {                                                                                      \
        weft_panic_t *wt_check_panic_ = NULL;                                                 \
        weft_panic_t **wt_check_panic_slot_ = &wt_check_panic_;                              \
        (void)wt_check_panic_slot_;                                                           \
        int wt_check_rc_ = (call);                                                            \
        if (wt_check_rc_ != 0 || wt_check_panic_)                                             \
            wt_fail_call(__FILE__, __LINE__, #call, wt_check_rc_, wt_check_panic_);           \
    } while (0)
#define WT_PANIC wt_check_panic_slot_

/* Fails the test for WT_CHECK (frees the panic). */
void wt_fail_call(const char *file, int line, const char *call, int rc, weft_panic_t *panic);

/* p's report (weft_panic_format) in buf, "" for NULL; destroys p. Returns buf:
 *   fail_msg("%s: %s", what, wt_panic_report(p, buf, sizeof buf)); */
const char *wt_panic_report(weft_panic_t *p, char *buf, size_t cap);

/* hay (a string, may be NULL) must contain needle. */
#define wt_assert_contains(hay, needle) wt_assert_contains_at(__FILE__, __LINE__, (hay), (needle))
void wt_assert_contains_at(const char *file, int line, const char *hay, const char *needle);

/* ---- runtimes ------------------------------------------------------------------- */

#define WT_NO_DEVICES "none"     /* CPU workers only */
#define WT_ALL_DEVICES "all"     /* every OpenCL device */
#define WT_SELECTED_DEVICES NULL /* those $WEFT_DEVICES selects (all when unset) */

/* A runtime with cpu_threads workers (0: from the environment) and the
 * devices `devices` selects; with fewer than min_devices devices the test is
 * skipped (the runtime destroyed, a note on stderr). Fails the test when the
 * runtime cannot be made; checks the worker count, and with WT_ALL_DEVICES
 * under POCL_DEVICES="pthread basic" (how CTest runs the device tests) that
 * PoCL gave both its devices, when PoCL is there at all (a GPU machine
 * without it runs the same tests on its own devices).
 *   wt_runtime(2, WT_NO_DEVICES, 0)        CPU only
 *   wt_runtime(2, WT_SELECTED_DEVICES, 1)  a device test: skips without one */
weft_runtime_t *wt_runtime(int cpu_threads, const char *devices, int min_devices);

/* How many of rt's devices are PoCL's. */
int wt_pocl_devices(const weft_runtime_t *rt);

/* 1 when the test runs in separate-memory mode ($WEFT_SEPARATE_MEMORY=1, how
 * CTest runs the *_separate entries): every device then copies, and reports
 * unified_memory 0, even PoCL's. */
int wt_separate_memory(void);

/* ---- launches ---------------------------------------------------------------------- */

/* A 1-D launch (weft_launch_init's defaults otherwise) of `kernel` over
 * `global` work items on `device`, from program `prog`, or built from source
 * `src` when prog is NULL. Set more fields (local, offset, options) after. */
weft_launch_t wt_launch_1d(int device, weft_program_t *prog, const char *src, const char *kernel, size_t global,
                           const weft_karg_t *args, size_t nargs);

/* ---- time -------------------------------------------------------------------------- */

uint64_t wt_now_ns(void); /* CLOCK_MONOTONIC */

/* Poll `cond` until it holds or `seconds` pass (a generous timeout, never a
 * timing assertion). Evaluates to 1 when the condition became true. */
#define WT_WAIT_UNTIL(cond, seconds)                                                          \
    __extension__({                                                                           \
        uint64_t wt_deadline_ = wt_now_ns() + (uint64_t)(seconds) * 1000000000u;             \
        int wt_ok_ = 0;                                                                       \
        for (;;) {                                                                            \
            if (cond) { wt_ok_ = 1; break; }                                                  \
            if (wt_now_ns() > wt_deadline_) break;                                            \
            weft_sleep_ns(100000);                                                            \
        }                                                                                     \
        wt_ok_;                                                                               \
    })

/* Spin (sleeping 50 us) until *flag == value; for tasks waiting on the test
 * thread. Gives up after 30 s so a broken runtime fails instead of hanging;
 * returns 1 when the value was seen. */
int wt_spin_until(atomic_int *flag, int value);

/* Hold a task until *gate is non-zero (30 s at most; 1 when it opened), for
 * a task the test thread keeps running while it starts more work. The test
 * thread itself, when it runs the task in its caller slot while it waits in
 * a join (it opens the gate only after), passes at once: it would wait for
 * itself. */
int wt_gate_hold(atomic_int *gate);
/* 1 on the test's main thread. */
int wt_on_main_thread(void);

/* ---- the capturing panic hook --------------------------------------------------------- */

/* What the hook saw of one panic. */
typedef struct wt_panic_seen {
    char message[1024];
    char thread[64];    /* weft_panic_thread */
    int worker;         /* weft_current_worker() in the hook */
    char kernel[128];   /* weft_panic_kernel, "" without */
    char device[256];   /* weft_panic_device, "" without */
    int cl_status;      /* weft_panic_cl_status */
    int has_build_log;  /* weft_panic_build_log != NULL */
    char report[4096];  /* weft_panic_format */
} wt_panic_seen;

#define WT_CAPTURE_FIRST 16

typedef struct wt_capture {
    int count;                            /* hook calls since the install */
    wt_panic_seen first[WT_CAPTURE_FIRST]; /* the first panics heard */
    wt_panic_seen last;                   /* the last one */
} wt_capture;

/* Install the hook: it records every panic instead of printing it (silences
 * the panics a test causes on purpose). Returns the record, to read once the
 * panics are over (after the joins); wt_capture_get() copies it at any time. */
wt_capture *wt_capture_install(void);

/* The same, and the hook also calls also(p, ud) for every panic, before
 * counting it. */
typedef void wt_panic_observer(const weft_panic_t *p, void *ud);
wt_capture *wt_capture_install_with(wt_panic_observer *also, void *ud);

int wt_capture_count(void);          /* hook calls since the install */
void wt_capture_get(wt_capture *out); /* a consistent copy of the record */
void wt_capture_restore(void);        /* back to the default hook */

/* ---- parallel operations (co-execution and kernels tests) ------------------------------- */

/* A set of places: the CPU and/or a device mask. */
typedef struct wt_mix {
    const char *name;
    int use_cpu;
    uint64_t devices;
} wt_mix;

const char *wt_policy_name(weft_policy_kind_t kind);

/* A policy of `kind` over the mix's places, with chunk size `chunk`. */
weft_policy_t wt_mix_policy(weft_policy_kind_t kind, const wt_mix *m, size_t chunk);

/* The stats of the run that just finished must add up: items per place sum
 * to n, only places the policy allows did any, no failed chunks, at least one
 * chunk when n > 0 and none when n == 0. Returns the stats. */
weft_run_stats_t wt_check_stats(weft_runtime_t *rt, size_t n, const weft_policy_t *pol, const char *what);

#endif
