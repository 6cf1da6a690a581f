/* test_builder.c — weft_builder_t: task names, name validation, dedicated
 * threads with their own stack size, and start failures as returned errors. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <pthread.h>
#include <stdlib.h>

/* What a task saw of itself; written by the task, read after join. */
typedef struct seen {
    char name[64];
    int name_null;
    char os_name[32];
    int worker;
    size_t stack;
    atomic_int *gate;
} seen;

static void *record_self(void *arg)
{
    seen *s = arg;
    if (s->gate) wt_spin_until(s->gate, 1);
    const char *n = weft_current_name();
    s->name_null = n == NULL;
    snprintf(s->name, sizeof s->name, "%s", n ? n : "");
    s->worker = weft_current_worker();
    pthread_getname_np(pthread_self(), s->os_name, sizeof s->os_name);
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstacksize(&a, &s->stack);
        pthread_attr_destroy(&a);
    }
    return s;
}

static void builder_init_defaults(void **state)
{
    (void)state;
    weft_builder_t b;
    memset(&b, 0xab, sizeof b);
    weft_builder_init(&b);
    assert_null(b.name);
    assert_int_equal(b.stack_size, 0);
    for (size_t i = 0; i < sizeof b.reserved / sizeof b.reserved[0]; i++) assert_null(b.reserved[i]);
    weft_builder_init(NULL); /* no-op */
}

static void named_task_sees_its_name(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    assert_null(weft_current_name()); /* the test thread runs no task */

    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "worker-1";
    seen s = {0};
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, record_self, &s, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(s.name_null, 0);
    assert_string_equal(s.name, "worker-1");
    assert_in_range(s.worker, 0, 2); /* pooled: a worker, or the joining thread's caller slot (2) */

    /* Unnamed tasks (NULL builder, or a builder without a name) see NULL. */
    seen u = {0};
    assert_int_equal(weft_builder_spawn(NULL, rt, record_self, &u, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(u.name_null, 1);
    seen u2 = {0};
    weft_builder_init(&b);
    assert_int_equal(weft_builder_spawn(&b, rt, record_self, &u2, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(u2.name_null, 1);

    /* UTF-8 names are accepted and returned unchanged. */
    const char *utf8[] = {"wörker-ü", "日本語のタスク", "crab \xf0\x9f\xa6\x80", "a b-c_d.e"};
    for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
        seen v = {0};
        b.name = utf8[i];
        assert_int_equal(weft_builder_spawn(&b, rt, record_self, &v, &h), 0);
        assert_int_equal(weft_join(h, NULL, NULL), 0);
        assert_string_equal(v.name, utf8[i]);
    }
    weft_runtime_destroy(rt);
}

static void name_is_copied_at_spawn(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_int gate = 0;
    char buf[16] = "copy-me";
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = buf;
    seen s = {.gate = &gate};
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, record_self, &s, &h), 0);
    strcpy(buf, "CLOBBERED");
    atomic_store(&gate, 1);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_string_equal(s.name, "copy-me");
    weft_runtime_destroy(rt);
}

static void *named_panic(void *arg)
{
    (void)arg;
    weft_panic("named task failed with %d", 3);
}

static void name_in_panic_payload(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture *c = wt_capture_install();
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "worker-1";
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, named_panic, NULL, &h), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    assert_non_null(p);
    assert_string_equal(weft_panic_thread(p), "worker-1");
    assert_string_equal(weft_panic_message(p), "named task failed with 3");
    assert_int_equal(wt_capture_count(), 1);
    assert_string_equal(c->first[0].thread, "worker-1");
    weft_panic_destroy(p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void *never_runs(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    return NULL;
}

static void *return_arg(void *arg) { return arg; }

/* The runtime must still run tasks after a refused spawn. */
static void assert_runtime_usable(weft_runtime_t *rt)
{
    weft_handle_t *h = NULL;
    assert_int_equal(weft_spawn(rt, return_arg, (void *)(uintptr_t)1234, &h), 0);
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_int_equal((uintptr_t)r, 1234);
}

static void invalid_names_rejected(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_int ran = 0;
    const char *bad[] = {
        "\xff",              /* not UTF-8 at all */
        "bad\nname",         /* control character */
        "tab\there",         /* control character */
        "del\x7f",           /* DEL */
        "\xc0\xaf",          /* overlong '/' */
        "\xed\xa0\x80",      /* UTF-16 surrogate */
        "\xe2\x82",          /* truncated sequence */
        "\xc2\x85",          /* C1 control (NEL) */
        "\xf4\x90\x80\x80",  /* beyond U+10FFFF */
    };
    weft_builder_t b;
    weft_builder_init(&b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b.name = bad[i];
        weft_handle_t *h = (weft_handle_t *)&b; /* garbage: must be reset */
        int rc = weft_builder_spawn(&b, rt, never_runs, &ran, &h);
        if (rc != WEFT_EINVAL) fail_msg("name #%zu: got %s", i, weft_err_name(rc));
        assert_null(h);
        wt_assert_contains(weft_last_error_message(), "name");
    }
    assert_runtime_usable(rt);
    weft_runtime_destroy(rt);
    assert_int_equal(atomic_load(&ran), 0); /* nothing was started */
}

typedef struct scope_names {
    atomic_int *ran;
    int rc_bad, rc_good;
    int h_was_null;
    seen good;
} scope_names;

static int scope_name_body(weft_scope_t *s, void *arg)
{
    scope_names *sn = arg;
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "bad\nname";
    weft_handle_t *h = (weft_handle_t *)&b;
    sn->rc_bad = weft_scope_builder_spawn(s, &b, never_runs, sn->ran, &h);
    sn->h_was_null = h == NULL;
    b.name = "scoped-one";
    sn->rc_good = weft_scope_builder_spawn(s, &b, record_self, &sn->good, NULL);
    return 0;
}

static void invalid_name_in_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_int ran = 0;
    scope_names sn = {.ran = &ran};
    assert_int_equal(weft_scope(rt, scope_name_body, &sn, NULL), 0);
    assert_int_equal(sn.rc_bad, WEFT_EINVAL);
    assert_int_equal(sn.h_was_null, 1);
    assert_int_equal(sn.rc_good, 0);
    assert_string_equal(sn.good.name, "scoped-one");
    assert_int_equal(atomic_load(&ran), 0);
    weft_runtime_destroy(rt);
}

#define BIG_STACK ((size_t)16 << 20)

static void stack_size_runs_on_dedicated_thread(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "dedicated-1";
    b.stack_size = BIG_STACK;
    seen s = {0};
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, record_self, &s, &h), 0);
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_ptr_equal(r, &s);
    assert_int_equal(s.worker, -1);                /* not a pool worker */
    assert_string_equal(s.name, "dedicated-1");    /* weft_current_name() */
    assert_string_equal(s.os_name, "dedicated-1"); /* the OS thread name */
    assert_true(s.stack >= BIG_STACK);             /* the stack asked for */

    /* The OS name keeps the first 15 bytes, never half a UTF-8 character:
     * "ä" is 2 bytes, so 8 of them (16 bytes) become 7 (14 bytes). */
    b.name = "ää""ää""ää""ää";
    seen u = {0};
    assert_int_equal(weft_builder_spawn(&b, rt, record_self, &u, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_string_equal(u.name, "ää""ää""ää""ää");
    assert_string_equal(u.os_name, "ää""ää""ää""ä");
    assert_int_equal(u.worker, -1);

    /* Unnamed dedicated thread. */
    b.name = NULL;
    seen v = {0};
    assert_int_equal(weft_builder_spawn(&b, rt, record_self, &v, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(v.name_null, 1);
    assert_int_equal(v.worker, -1);
    weft_runtime_destroy(rt);
}

static void dedicated_thread_panics(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    wt_capture *c = wt_capture_install();
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "ded-panic";
    b.stack_size = (size_t)1 << 20;
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, named_panic, NULL, &h), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    assert_string_equal(weft_panic_thread(p), "ded-panic");
    assert_string_equal(weft_panic_message(p), "named task failed with 3");
    assert_int_equal(wt_capture_count(), 1);
    assert_int_equal(c->first[0].worker, -1); /* the hook ran on the dedicated thread */
    weft_panic_destroy(p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* Dedicated tasks stay borrowable in a scope, and destroy waits for detached ones. */
typedef struct fill {
    int *out;
    size_t n;
} fill;

static void *fill_task(void *arg)
{
    fill *f = arg;
    for (size_t i = 0; i < f->n; i++) f->out[i] = (int)(i * 7);
    return NULL;
}

static int dedicated_scope_body(weft_scope_t *s, void *arg)
{
    fill *f = arg;
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = (size_t)1 << 20;
    b.name = "scoped-ded";
    return weft_scope_builder_spawn(s, &b, fill_task, f, NULL);
}

static atomic_int dedicated_detached_done;

static void *slow_dedicated(void *arg)
{
    (void)arg;
    weft_sleep_ns(30 * 1000000ull);
    atomic_store(&dedicated_detached_done, 1);
    return NULL;
}

/* A detached dedicated task that later spawns onto the pool and joins: destroy
 * must keep the workers running until it is done. */
static void *late_pool_user(void *arg)
{
    weft_runtime_t *rt = arg;
    weft_sleep_ns(30 * 1000000ull);
    weft_handle_t *h;
    void *r = NULL;
    if (weft_spawn(rt, return_arg, (void *)(uintptr_t)5, &h) == 0 && weft_join(h, &r, NULL) == 0)
        atomic_store(&dedicated_detached_done, (int)(uintptr_t)r);
    return NULL;
}

static void dedicated_in_scope_and_detached(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    int out[4096];
    memset(out, 0xff, sizeof out);
    fill f = {out, 4096};
    assert_int_equal(weft_scope(rt, dedicated_scope_body, &f, NULL), 0);
    for (size_t i = 0; i < 4096; i++) assert_int_equal(out[i], (int)(i * 7));

    atomic_store(&dedicated_detached_done, 0);
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = (size_t)1 << 20;
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, slow_dedicated, NULL, &h), 0);
    weft_handle_detach(h);
    weft_runtime_destroy(rt); /* waits for the dedicated thread */
    assert_int_equal(atomic_load(&dedicated_detached_done), 1);

    rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_store(&dedicated_detached_done, 0);
    assert_int_equal(weft_builder_spawn(&b, rt, late_pool_user, rt, &h), 0);
    weft_handle_detach(h);
    weft_runtime_destroy(rt);
    assert_int_equal(atomic_load(&dedicated_detached_done), 5);
}

/* ---- a small dedicated stack never runs pool tasks ------------------------------ */

static atomic_int small_hold, small_child_ran;
static int small_child_worker = -2;

static void *hold_worker(void *arg)
{
    (void)arg;
    wt_spin_until(&small_hold, 1);
    return NULL;
}

/* Uses 256 KiB of stack: more than the dedicated thread below has. */
static void *big_frame(void *arg)
{
    (void)arg;
    volatile char buf[256 * 1024];
    for (size_t i = 0; i < sizeof buf; i += 4096) buf[i] = (char)i;
    small_child_worker = weft_current_worker();
    atomic_store(&small_child_ran, 1);
    return (void *)(long)buf[4096];
}

static void *spawn_and_join(void *arg)
{
    weft_runtime_t *rt = arg;
    weft_handle_t *h;
    if (weft_spawn(rt, big_frame, NULL, &h)) return (void *)-1L;
    return weft_join(h, NULL, NULL) ? (void *)-1L : NULL;
}

static void small_stack_waits_without_helping(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    atomic_store(&small_hold, 0);
    atomic_store(&small_child_ran, 0);
    weft_handle_t *busy, *d;
    WT_CHECK(weft_spawn(rt, hold_worker, NULL, &busy));
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = 64 * 1024; /* a quarter of what big_frame needs */
    WT_CHECK(weft_builder_spawn(&b, rt, spawn_and_join, rt, &d));
    /* The dedicated thread now waits for big_frame, which only the worker
     * may run: it must not run it on its own small stack meanwhile. (The
     * test thread polls instead of joining, so that it does not run
     * big_frame in its caller slot either.) */
    weft_sleep_ns(50 * 1000 * 1000);
    assert_int_equal(atomic_load(&small_child_ran), 0);
    atomic_store(&small_hold, 1);
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(d), 30));
    void *r = (void *)1L;
    WT_CHECK(weft_join(d, &r, WT_PANIC));
    assert_null(r);
    WT_CHECK(weft_join(busy, NULL, WT_PANIC));
    assert_int_equal(small_child_worker, 0); /* the pool's worker ran it */
    weft_runtime_destroy(rt);
}

static void bad_stack_sizes_are_errors(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_int ran = 0;
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "too-big";

    /* Below the system minimum: invalid argument. */
    b.stack_size = 1;
    weft_handle_t *h = (weft_handle_t *)&b;
    assert_int_equal(weft_builder_spawn(&b, rt, never_runs, &ran, &h), WEFT_EINVAL);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), "stack");

    /* Absurd: cannot be mapped. An error, never a crash or a panic. */
    b.stack_size = (size_t)1 << 60;
    h = (weft_handle_t *)&b;
    int rc = weft_builder_spawn(&b, rt, never_runs, &ran, &h);
    if (rc != WEFT_EAGAIN && rc != WEFT_EINVAL)
        fail_msg("absurd stack size: got %d (%s)", rc, weft_err_name(rc));
    assert_null(h);
    assert_true(strlen(weft_last_error_message()) > 0);

    /* The runtime works afterwards, pooled and dedicated. */
    assert_runtime_usable(rt);
    b.stack_size = (size_t)1 << 20;
    b.name = "after";
    seen s = {0};
    assert_int_equal(weft_builder_spawn(&b, rt, record_self, &s, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_string_equal(s.name, "after");
    weft_runtime_destroy(rt); /* must not wait for the thread that never started */
    assert_int_equal(atomic_load(&ran), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builder_init_defaults),
        cmocka_unit_test(named_task_sees_its_name),
        cmocka_unit_test(name_is_copied_at_spawn),
        cmocka_unit_test(name_in_panic_payload),
        cmocka_unit_test(invalid_names_rejected),
        cmocka_unit_test(invalid_name_in_scope),
        cmocka_unit_test(stack_size_runs_on_dedicated_thread),
        cmocka_unit_test(dedicated_thread_panics),
        cmocka_unit_test(dedicated_in_scope_and_detached),
        cmocka_unit_test(small_stack_waits_without_helping),
        cmocka_unit_test(bad_stack_sizes_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
