/* test_device_scope_mixed.c — scopes that hold CPU tasks and device launches
 * together. An unjoined launch that fails (injected) fails the scope with "a
 * scoped thread panicked" and the device failure as its cause, while every
 * CPU task still runs to completion with the right result; a failing launch
 * joined inside the body does not fail the scope; a detached launch's failure
 * reaches the panic hook and the runtime's count. Skips cleanly when the
 * machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/testing.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char SRC[] =
    "__kernel void square(__global int *v)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    v[i] = (int)(i * i);\n"
    "}\n"
    "__kernel void doomed(__global int *v)\n"
    "{\n"
    "    v[get_global_id(0)] = 12345;\n"
    "}\n";

#define N 2048
#define NTASKS 8

/* ---- CPU work ------------------------------------------------------------------ */
typedef struct chunk {
    const int *data;
    size_t begin, end;
    long long sum;                /* written by the task, read after the scope */
} chunk;

static void *sum_chunk(void *arg)
{
    chunk *c = arg;
    long long s = 0;
    for (size_t i = c->begin; i < c->end; i++) s += (long long)c->data[i] * 3;
    weft_sleep_ns(1000000); /* overlap with the launches */
    c->sum = s;
    return NULL;
}

typedef struct mixed {
    weft_buffer_t *good, *bad;
    int *data;
    chunk chunks[NTASKS];
    int spawn_rc[NTASKS];
    int launch_rc[2];
    int doomed_line;              /* line of the failing weft_scope_launch */
} mixed;

static void launch_of(weft_launch_t *l, const char *kernel, weft_karg_t *arg)
{
    *l = wt_launch_1d(0, NULL, SRC, kernel, N, arg, 1);
}

static int mixed_body(weft_scope_t *s, void *arg)
{
    mixed *m = arg;
    weft_karg_t good = weft_karg_buffer(m->good), bad = weft_karg_buffer(m->bad);
    weft_launch_t l;
    for (int t = 0; t < NTASKS / 2; t++) m->spawn_rc[t] = weft_scope_spawn(s, sum_chunk, &m->chunks[t], NULL);
    launch_of(&l, "square", &good);
    m->launch_rc[0] = weft_scope_launch(s, &l, NULL); /* device launch 0 */
    launch_of(&l, "doomed", &bad);
    m->doomed_line = __LINE__; m->launch_rc[1] = weft_scope_launch(s, &l, NULL); /* launch 1: fails */
    for (int t = NTASKS / 2; t < NTASKS; t++) m->spawn_rc[t] = weft_scope_spawn(s, sum_chunk, &m->chunks[t], NULL);
    return 0;
}

static void mixed_init(mixed *m, weft_runtime_t *rt)
{
    memset(m, 0, sizeof *m);
    m->data = malloc(N * sizeof *m->data);
    assert_non_null(m->data);
    for (int i = 0; i < N; i++) m->data[i] = (i * 7919) % 1000 - 500;
    for (int t = 0; t < NTASKS; t++) {
        m->chunks[t].data = m->data;
        m->chunks[t].begin = (size_t)t * N / NTASKS;
        m->chunks[t].end = (size_t)(t + 1) * N / NTASKS;
        m->chunks[t].sum = -1;
    }
    static const int zeros[N];
    WT_CHECK(weft_buffer_create(rt, 0, sizeof zeros, WEFT_READ_WRITE, &m->good));
    WT_CHECK(weft_buffer_create(rt, 0, sizeof zeros, WEFT_READ_WRITE, &m->bad));
    WT_CHECK(weft_buffer_write(m->good, 0, zeros, sizeof zeros));
    WT_CHECK(weft_buffer_write(m->bad, 0, zeros, sizeof zeros));
}

static void mixed_check_cpu(const mixed *m)
{
    for (int t = 0; t < NTASKS; t++) {
        assert_int_equal(m->spawn_rc[t], 0);
        long long want = 0;
        for (size_t i = m->chunks[t].begin; i < m->chunks[t].end; i++) want += (long long)m->data[i] * 3;
        if (m->chunks[t].sum != want) fail_msg("task %d: sum %lld, want %lld", t, m->chunks[t].sum, want);
    }
}

static void mixed_free(mixed *m)
{
    weft_buffer_destroy(m->good);
    weft_buffer_destroy(m->bad);
    free(m->data);
}

static void unjoined_failing_launch_fails_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture *heard = wt_capture_install();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    mixed m;
    mixed_init(&m, rt);
    WT_CHECK(weft_fault_inject(rt, 0, 1, CL_OUT_OF_RESOURCES, NULL));

    weft_panic_t *p = NULL;
    int rc = weft_scope(rt, mixed_body, &m, &p);
    assert_int_equal(rc, WEFT_EPANIC);
    assert_non_null(p);
    assert_string_equal(weft_panic_message(p), "a scoped thread panicked");
    assert_int_equal(weft_panic_cl_status(p), 0); /* the scope's own panic is not a device's */
    const weft_panic_t *cause = weft_panic_cause(p);
    assert_non_null(cause);
    assert_int_equal(weft_panic_suppressed(p), 0);
    assert_int_equal(weft_panic_cl_status(cause), CL_OUT_OF_RESOURCES);
    assert_string_equal(weft_panic_cl_status_name(cause), "CL_OUT_OF_RESOURCES");
    assert_string_equal(weft_panic_kernel(cause), "doomed");
    assert_string_equal(weft_panic_device(cause), info.name);
    assert_string_equal(weft_panic_file(cause), __FILE__);
    assert_int_equal(weft_panic_line(cause), m.doomed_line);
    size_t b = 0, e = 0;
    assert_int_equal(weft_panic_range(cause, &b, &e), 1);
    assert_int_equal(b, 0);
    assert_int_equal(e, N);
    char report[4096];
    weft_panic_format(p, report, sizeof report);
    wt_assert_contains(report, "a scoped thread panicked");
    wt_assert_contains(report, "caused by");
    wt_assert_contains(report, "CL_OUT_OF_RESOURCES");
    weft_panic_destroy(p);

    /* Everything else ran, and ran right. */
    assert_int_equal(m.launch_rc[0], 0);
    assert_int_equal(m.launch_rc[1], 0);
    mixed_check_cpu(&m);
    int *v = malloc(N * sizeof *v);
    assert_non_null(v);
    WT_CHECK(weft_buffer_read(m.good, 0, v, N * sizeof *v));
    for (int i = 0; i < N; i++)
        if (v[i] != i * i) fail_msg("square: v[%d] = %d", i, v[i]);
    WT_CHECK(weft_buffer_read(m.bad, 0, v, N * sizeof *v));
    for (int i = 0; i < N; i++)
        if (v[i] != 0) fail_msg("the failed launch wrote v[%d] = %d", i, v[i]);
    free(v);
    /* The hook heard of the device failure once. */
    assert_int_equal(wt_capture_count(), 1);
    assert_int_equal(heard->last.cl_status, CL_OUT_OF_RESOURCES);
    assert_string_equal(heard->last.kernel, "doomed");
    mixed_free(&m);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* Two failing launches and a panicking CPU task, none joined: the first
 * failure is the cause, the others are counted. */
static void *cpu_panics(void *arg)
{
    (void)arg;
    weft_sleep_ns(20000000); /* after the launches have failed */
    weft_panic("cpu task gave up");
}

typedef struct several {
    weft_buffer_t *buf;
    int rc[3];
} several;

static int several_body(weft_scope_t *s, void *arg)
{
    several *sv = arg;
    weft_karg_t a = weft_karg_buffer(sv->buf);
    weft_launch_t l;
    launch_of(&l, "doomed", &a);
    sv->rc[0] = weft_scope_launch(s, &l, NULL);
    sv->rc[1] = weft_scope_launch(s, &l, NULL);
    sv->rc[2] = weft_scope_spawn(s, cpu_panics, NULL, NULL);
    return 0;
}

static void several_failures_counted(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    several sv = {0};
    WT_CHECK(weft_buffer_create(rt, 0, N * sizeof(int), WEFT_READ_WRITE, &sv.buf));
    WT_CHECK(weft_fault_inject(rt, 0, -1, CL_INVALID_VALUE, "doomed"));
    weft_panic_t *p = NULL;
    assert_int_equal(weft_scope(rt, several_body, &sv, &p), WEFT_EPANIC);
    for (int i = 0; i < 3; i++) assert_int_equal(sv.rc[i], 0);
    assert_string_equal(weft_panic_message(p), "a scoped thread panicked");
    const weft_panic_t *cause = weft_panic_cause(p);
    assert_non_null(cause);
    assert_int_equal(weft_panic_cl_status(cause), CL_INVALID_VALUE); /* the first to fail */
    assert_string_equal(weft_panic_kernel(cause), "doomed");
    assert_int_equal(weft_panic_suppressed(p), 2);
    weft_panic_destroy(p);
    assert_int_equal(wt_capture_count(), 3);
    weft_buffer_destroy(sv.buf);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* ---- a failing launch joined in the body does not fail the scope ------------ */
typedef struct joined {
    weft_buffer_t *buf;
    chunk chunks[2];
    int launch_rc, join_rc, cl_status;
    char kernel[64];
} joined;

static int joined_body(weft_scope_t *s, void *arg)
{
    joined *j = arg;
    weft_scope_spawn(s, sum_chunk, &j->chunks[0], NULL);
    weft_karg_t a = weft_karg_buffer(j->buf);
    weft_launch_t l;
    launch_of(&l, "doomed", &a);
    weft_handle_t *h = NULL;
    j->launch_rc = weft_scope_launch(s, &l, &h);
    if (j->launch_rc == 0) {
        weft_panic_t *p = NULL;
        j->join_rc = weft_join(h, NULL, &p);
        if (p) {
            j->cl_status = weft_panic_cl_status(p);
            snprintf(j->kernel, sizeof j->kernel, "%s", weft_panic_kernel(p));
            weft_panic_destroy(p);
        }
    }
    weft_scope_spawn(s, sum_chunk, &j->chunks[1], NULL);
    return 7; /* the body's own code comes back */
}

static void joined_failing_launch_does_not_fail_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    int *data = malloc(N * sizeof *data);
    assert_non_null(data);
    for (int i = 0; i < N; i++) data[i] = i % 17;
    joined j = {.chunks = {{data, 0, N / 2, -1}, {data, N / 2, N, -1}}};
    WT_CHECK(weft_buffer_create(rt, 0, N * sizeof(int), WEFT_READ_WRITE, &j.buf));
    WT_CHECK(weft_fault_inject(rt, 0, 0, CL_OUT_OF_RESOURCES, NULL));
    weft_panic_t *p = (weft_panic_t *)1;
    assert_int_equal(weft_scope(rt, joined_body, &j, &p), 7);
    assert_null(p);
    assert_int_equal(j.launch_rc, 0);
    assert_int_equal(j.join_rc, WEFT_EPANIC);
    assert_int_equal(j.cl_status, CL_OUT_OF_RESOURCES);
    assert_string_equal(j.kernel, "doomed");
    for (int c = 0; c < 2; c++) {
        long long want = 0;
        for (size_t i = j.chunks[c].begin; i < j.chunks[c].end; i++) want += (long long)data[i] * 3;
        assert_int_equal(j.chunks[c].sum, want);
    }
    assert_int_equal(wt_capture_count(), 1); /* the hook still heard of it */
    weft_buffer_destroy(j.buf);
    free(data);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* ---- a detached launch's failure reaches the hook --------------------------- */
static void detached_launch_failure_reaches_hook(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    weft_buffer_t *buf = NULL;
    WT_CHECK(weft_buffer_create(rt, 0, N * sizeof(int), WEFT_READ_WRITE, &buf));
    assert_int_equal(weft_runtime_detached_panics(rt), 0);
    WT_CHECK(weft_fault_inject(rt, 0, 0, CL_OUT_OF_RESOURCES, NULL));
    weft_karg_t a = weft_karg_buffer(buf);
    weft_launch_t l;
    launch_of(&l, "doomed", &a);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(rt, &l, &h));
    weft_handle_detach(h);
    assert_true(WT_WAIT_UNTIL(wt_capture_count() >= 1, 30));
    wt_capture heard;
    wt_capture_get(&heard);
    assert_int_equal(heard.last.cl_status, CL_OUT_OF_RESOURCES);
    assert_string_equal(heard.last.kernel, "doomed");
    assert_string_equal(heard.last.device, info.name);
    wt_assert_contains(heard.last.message, "CL_OUT_OF_RESOURCES");
    WT_WAIT_UNTIL(weft_runtime_detached_panics(rt) >= 1, 30);
    assert_int_equal(weft_runtime_detached_panics(rt), 1);

    /* A detached launch that succeeds adds nothing; destroy waits for it. */
    launch_of(&l, "square", &a);
    WT_CHECK(weft_launch(rt, &l, &h));
    weft_handle_detach(h);
    int *v = malloc(N * sizeof *v);
    assert_non_null(v);
    /* Join-free wait: a blocking read on the same in-order queue. */
    WT_CHECK(weft_buffer_read(buf, 0, v, N * sizeof *v));
    for (int i = 0; i < N; i++)
        if (v[i] != i * i) fail_msg("square: v[%d] = %d", i, v[i]);
    free(v);
    assert_int_equal(weft_runtime_detached_panics(rt), 1);
    assert_int_equal(wt_capture_count(), 1);
    weft_buffer_destroy(buf);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

int main(void)
{
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unjoined_failing_launch_fails_scope),
        cmocka_unit_test(several_failures_counted),
        cmocka_unit_test(joined_failing_launch_does_not_fail_scope),
        cmocka_unit_test(detached_launch_failure_reaches_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
