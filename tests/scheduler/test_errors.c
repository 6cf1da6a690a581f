/* test_errors.c — bad input gets WEFT_EINVAL and a message, never a crash or
 * a panic, and leaves the runtime usable; status names and texts; NULL no-ops. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <pthread.h>
#include <stdlib.h>

static void *twice(void *arg) { return (void *)((uintptr_t)arg * 2); }

static void assert_usable(weft_runtime_t *rt)
{
    weft_handle_t *h = NULL;
    assert_int_equal(weft_spawn(rt, twice, (void *)(uintptr_t)21, &h), 0);
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_int_equal((uintptr_t)r, 42);
}

/* The last error message contains a, and b unless it is NULL. */
static void assert_message_has(const char *a, const char *b)
{
    wt_assert_contains(weft_last_error_message(), a);
    if (b) wt_assert_contains(weft_last_error_message(), b);
}

static void spawn_bad_input(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    weft_handle_t *h = (weft_handle_t *)rt; /* garbage, must become NULL */
    assert_int_equal(weft_spawn(NULL, twice, NULL, &h), WEFT_EINVAL);
    assert_null(h);
    assert_message_has("weft_spawn", "runtime");
    h = (weft_handle_t *)rt;
    assert_int_equal(weft_spawn(rt, NULL, NULL, &h), WEFT_EINVAL);
    assert_null(h);
    assert_message_has("weft_spawn", "fn");
    assert_int_equal(weft_spawn(rt, twice, NULL, NULL), WEFT_EINVAL);
    assert_message_has("weft_spawn", "out");
    assert_usable(rt);

    weft_builder_t b;
    weft_builder_init(&b);
    h = (weft_handle_t *)rt;
    assert_int_equal(weft_builder_spawn(&b, NULL, twice, NULL, &h), WEFT_EINVAL);
    assert_null(h);
    assert_int_equal(weft_builder_spawn(&b, rt, NULL, NULL, &h), WEFT_EINVAL);
    assert_int_equal(weft_builder_spawn(&b, rt, twice, NULL, NULL), WEFT_EINVAL);
    assert_usable(rt);
    weft_runtime_destroy(rt);
}

static void join_null(void **state)
{
    (void)state;
    void *r = (void *)1;
    weft_panic_t *p = (weft_panic_t *)1;
    assert_int_equal(weft_join(NULL, &r, &p), WEFT_EINVAL);
    assert_null(r);
    assert_null(p);
    assert_message_has("weft_join", "NULL");
    assert_int_equal(weft_join(NULL, NULL, NULL), WEFT_EINVAL);
}

static int empty_body(weft_scope_t *s, void *arg)
{
    (void)s;
    (void)arg;
    return 0;
}

static void scope_bad_input(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_panic_t *p = (weft_panic_t *)1;
    assert_int_equal(weft_scope(rt, NULL, NULL, &p), WEFT_EINVAL);
    assert_null(p);
    assert_message_has("weft_scope", "body");
    p = (weft_panic_t *)1;
    assert_int_equal(weft_scope(NULL, empty_body, NULL, &p), WEFT_EINVAL);
    assert_null(p);
    assert_message_has("weft_scope", "runtime");
    weft_handle_t *h = (weft_handle_t *)rt;
    assert_int_equal(weft_scope_spawn(NULL, twice, NULL, &h), WEFT_EINVAL);
    assert_null(h);
    assert_message_has("weft_scope_spawn", "scope");
    assert_int_equal(weft_scope_builder_spawn(NULL, NULL, twice, NULL, NULL), WEFT_EINVAL);
    assert_int_equal(weft_scope(rt, empty_body, NULL, NULL), 0);
    assert_usable(rt);
    weft_runtime_destroy(rt);
}

static void runtime_create_bad_input(void **state)
{
    (void)state;
    weft_runtime_t *live = wt_runtime(2, WT_NO_DEVICES, 0); /* must survive all of this */
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.devices = "none";
    weft_runtime_t *rt = live;

    o.cpu_threads = -1;
    assert_int_equal(weft_runtime_create(&o, &rt), WEFT_EINVAL);
    assert_null(rt);
    assert_message_has("cpu_threads", NULL);

    o.cpu_threads = 4097; /* more threads than any runtime takes */
    assert_int_equal(weft_runtime_create(&o, &rt), WEFT_EINVAL);
    assert_null(rt);
    assert_message_has("cpu_threads", "4096");

    o.cpu_threads = 1;
    assert_int_equal(weft_runtime_create(&o, NULL), WEFT_EINVAL);
    assert_message_has("weft_runtime_create", "out");

    /* $WEFT_CPU_THREADS is read when cpu_threads is 0 */
    const char *bad_env[] = {"0", "abc", "-3", "4x", " "};
    o.cpu_threads = 0;
    for (size_t i = 0; i < sizeof bad_env / sizeof bad_env[0]; i++) {
        assert_int_equal(setenv("WEFT_CPU_THREADS", bad_env[i], 1), 0);
        rt = live;
        int rc = weft_runtime_create(&o, &rt);
        if (rc != WEFT_EINVAL) fail_msg("WEFT_CPU_THREADS=\"%s\": got %s", bad_env[i], weft_err_name(rc));
        assert_null(rt);
        assert_message_has("WEFT_CPU_THREADS", NULL);
        assert_usable(live);
    }
    /* an explicit count does not look at the environment */
    o.cpu_threads = 2;
    rt = NULL;
    assert_int_equal(weft_runtime_create(&o, &rt), 0);
    assert_int_equal(weft_runtime_cpu_threads(rt), 2);
    assert_usable(rt);
    weft_runtime_destroy(rt);

    /* a good value is honoured */
    assert_int_equal(setenv("WEFT_CPU_THREADS", "2", 1), 0);
    o.cpu_threads = 0;
    rt = NULL;
    assert_int_equal(weft_runtime_create(&o, &rt), 0);
    assert_int_equal(weft_runtime_cpu_threads(rt), 2);
    weft_runtime_destroy(rt);

    /* unset: the number of online CPUs, at least 1 */
    assert_int_equal(unsetenv("WEFT_CPU_THREADS"), 0);
    rt = NULL;
    assert_int_equal(weft_runtime_create(&o, &rt), 0);
    assert_true(weft_runtime_cpu_threads(rt) >= 1);
    assert_usable(rt);
    weft_runtime_destroy(rt);

    assert_usable(live);
    weft_runtime_destroy(live);
}

/* The status table, checked against the documented list (not against the
 * X-macro the library itself uses). */
static const struct {
    int code;
    const char *name, *text;
} statuses[] = {
    {0, "WEFT_OK", "success"},
    {-1, "WEFT_EINVAL", "invalid argument"},
    {-2, "WEFT_ENOMEM", "out of memory"},
    {-3, "WEFT_EAGAIN", "could not start a thread"},
    {-4, "WEFT_EPANIC", "a task panicked"},
    {-5, "WEFT_EBORROW", "overlapping write borrow refused"},
    {-6, "WEFT_ENODEV", "no such device"},
    {-7, "WEFT_ECL", "OpenCL call failed"},
    {-8, "WEFT_EBUILD", "OpenCL program build failed"},
    {-9, "WEFT_ESTATE", "operation not allowed in this state"},
    {-10, "WEFT_ENOTSUP", "not supported"},
    {-11, "WEFT_EMPI", "MPI call failed"},
};

/* The library's version is the headers' (both from the project's). */
static void version_matches_headers(void **state)
{
    (void)state;
    assert_string_equal(weft_version(), WEFT_VERSION_STRING);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", WEFT_VERSION_MAJOR, WEFT_VERSION_MINOR, WEFT_VERSION_PATCH);
    assert_string_equal(weft_version(), want);
    assert_int_equal(WEFT_VERSION_NUMBER, WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH);
}

/* weft_error_set records a message as weft's own calls do. */
static void error_set_records_message(void **state)
{
    (void)state;
    assert_int_equal(weft_error_set(WEFT_ENOMEM, "library %s: %d", "x", 7), WEFT_ENOMEM);
    assert_string_equal(weft_last_error_message(), "library x: 7");
}

static void status_names_and_texts(void **state)
{
    (void)state;
    size_t n = sizeof statuses / sizeof statuses[0];
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(weft_err_name(statuses[i].code), statuses[i].name);
        assert_string_equal(weft_strerror(statuses[i].code), statuses[i].text);
    }
    /* every code of the list is in the table above, with the same value */
    size_t listed = 0;
#define CHECK_LISTED(name_, value_, text_)                                       \
    do {                                                                       \
        int found_ = 0;                                                        \
        for (size_t j = 0; j < n; j++)                                         \
            if (statuses[j].code == (name_) && strcmp(statuses[j].name, #name_) == 0) found_ = 1; \
        if (!found_) fail_msg("%s (%d) is not tested", #name_, value_);        \
        listed++;                                                              \
    } while (0);
    WEFT_ERROR_LIST(CHECK_LISTED)
#undef CHECK_LISTED
    assert_int_equal(listed, n);

    const int unknown[] = {1, -12, -999, 12345, INT32_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_string_equal(weft_strerror(unknown[i]), "unknown weft status");
        assert_string_equal(weft_err_name(unknown[i]), "WEFT_E?");
    }
}

/* The message is per thread: "" on a thread where nothing failed. */
static void *read_last_error(void *arg)
{
    snprintf(arg, 64, "%s", weft_last_error_message());
    return NULL;
}

static void last_error_per_thread(void **state)
{
    (void)state;
    assert_int_equal(weft_join(NULL, NULL, NULL), WEFT_EINVAL);
    assert_true(strlen(weft_last_error_message()) > 0);
    char seen[64] = "unset";
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, read_last_error, seen), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_string_equal(seen, "");
    assert_message_has("weft_join", NULL); /* ours is unchanged */
}

static void *dummy_init(void) { return NULL; }
static void *dummy_worker_init(int w)
{
    (void)w;
    return NULL;
}

static void locals_bad_input(void **state)
{
    (void)state;
    weft_local_key_t *k = (weft_local_key_t *)1;
    assert_int_equal(weft_local_key_create(NULL, NULL, &k), WEFT_EINVAL);
    assert_null(k);
    assert_message_has("weft_local_key_create", "init");
    assert_int_equal(weft_local_key_create(dummy_init, NULL, NULL), WEFT_EINVAL);
    assert_null(weft_local_get(NULL));

    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_worker_key_t *wk = (weft_worker_key_t *)1;
    assert_int_equal(weft_worker_key_create(NULL, dummy_worker_init, NULL, &wk), WEFT_EINVAL);
    assert_null(wk);
    assert_message_has("weft_worker_key_create", "runtime");
    wk = (weft_worker_key_t *)1;
    assert_int_equal(weft_worker_key_create(rt, NULL, NULL, &wk), WEFT_EINVAL);
    assert_null(wk);
    assert_message_has("weft_worker_key_create", "init");
    assert_int_equal(weft_worker_key_create(rt, dummy_worker_init, NULL, NULL), WEFT_EINVAL);
    assert_null(weft_worker_local_get(NULL));
    assert_usable(rt);
    weft_runtime_destroy(rt);
}

static void null_noops(void **state)
{
    (void)state;
    weft_runtime_destroy(NULL);
    weft_panic_destroy(NULL);
    weft_local_key_destroy(NULL);
    weft_worker_key_destroy(NULL);
    weft_mutex_destroy(NULL);
    weft_handle_detach(NULL);
    weft_builder_init(NULL);
    weft_runtime_options_init(NULL);
    assert_int_equal(weft_runtime_cpu_threads(NULL), 0);
    assert_int_equal(weft_runtime_detached_panics(NULL), 0);
    assert_null(weft_scope_runtime(NULL));
    assert_int_equal(weft_handle_is_finished(NULL), 0);
    assert_null(weft_current_name());
    assert_int_equal(weft_current_worker(), -1);
    weft_yield(); /* outside a worker: sched_yield */

    weft_runtime_options_t o;
    memset(&o, 0x5a, sizeof o);
    weft_runtime_options_init(&o);
    assert_int_equal(o.cpu_threads, 0);
    assert_null(o.devices);
    for (size_t i = 0; i < sizeof o.reserved / sizeof o.reserved[0]; i++) assert_null(o.reserved[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(last_error_per_thread),
        cmocka_unit_test(spawn_bad_input),
        cmocka_unit_test(join_null),
        cmocka_unit_test(scope_bad_input),
        cmocka_unit_test(runtime_create_bad_input),
        cmocka_unit_test(status_names_and_texts),
        cmocka_unit_test(version_matches_headers),
        cmocka_unit_test(error_set_records_message),
        cmocka_unit_test(locals_bad_input),
        cmocka_unit_test(null_noops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
