/* test_panic.c — panics caught at join, the payload's fields, the hook, the
 * default report format, detached panics, and panics outside any task. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int panic_line; /* written by a task before it panics, read after join */

static void *index_panic(void *arg)
{
    int i = (int)(intptr_t)arg;
    panic_line = __LINE__; weft_panic("index %d out of range", i);
}

static void panic_caught_at_join(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture *c = wt_capture_install();
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, index_panic, (void *)(intptr_t)10, &h), 0);
    void *r = (void *)1;
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, &r, &p), WEFT_EPANIC);
    assert_null(r);
    assert_non_null(p);
    assert_string_equal(weft_panic_message(p), "index 10 out of range");
    assert_string_equal(weft_panic_file(p), __FILE__);
    assert_int_equal(weft_panic_line(p), panic_line);
    assert_string_equal(weft_panic_thread(p), "<unnamed>");
    /* a CPU panic has no device side */
    assert_null(weft_panic_device(p));
    assert_null(weft_panic_kernel(p));
    assert_int_equal(weft_panic_cl_status(p), 0);
    assert_null(weft_panic_cl_status_name(p));
    size_t b = 11, e = 12;
    assert_int_equal(weft_panic_range(p, &b, &e), 0);
    assert_int_equal(b, 11);
    assert_int_equal(e, 12);
    assert_null(weft_panic_build_log(p));
    assert_null(weft_panic_cause(p));
    assert_int_equal(weft_panic_suppressed(p), 0);
    /* the hook saw it once, on the worker that panicked */
    assert_int_equal(wt_capture_count(), 1);
    assert_string_equal(c->first[0].message, "index 10 out of range");
    assert_in_range(c->first[0].worker, 0, 2); /* 2: the joining thread's caller slot */
    weft_panic_destroy(p);
    weft_panic_destroy(NULL);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* Every task of a batch panics or not; join gives each its own outcome. */
static void *maybe_panic(void *arg)
{
    intptr_t i = (intptr_t)arg;
    if (i % 3 == 0) weft_panic("task %d", (int)i);
    return (void *)(i * 10);
}

static void mixed_outcomes(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    wt_capture_install();
    enum { N = 60 };
    weft_handle_t *hs[N];
    for (intptr_t i = 0; i < N; i++) assert_int_equal(weft_spawn(rt, maybe_panic, (void *)i, &hs[i]), 0);
    for (intptr_t i = 0; i < N; i++) {
        void *r = NULL;
        weft_panic_t *p = NULL;
        int rc = weft_join(hs[i], &r, &p);
        if (i % 3 == 0) {
            assert_int_equal(rc, WEFT_EPANIC);
            char want[32];
            snprintf(want, sizeof want, "task %d", (int)i);
            assert_string_equal(weft_panic_message(p), want);
            weft_panic_destroy(p);
        } else {
            assert_int_equal(rc, 0);
            assert_null(p);
            assert_int_equal((intptr_t)r, i * 10);
        }
    }
    assert_int_equal(wt_capture_count(), N / 3);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void *long_panic(void *arg)
{
    (void)arg;
    weft_panic("%0*d", 6000, 7);
}

static void long_message_truncated(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    wt_capture_install();
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, long_panic, NULL, &h), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    const char *m = weft_panic_message(p);
    assert_int_equal(strlen(m), 4095);
    for (size_t i = 0; i < 4095; i++) assert_int_equal(m[i], '0');
    weft_panic_destroy(p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* ---- the report the default hook prints ---------------------------------------- */
static void *named_report_panic(void *arg)
{
    (void)arg;
    panic_line = __LINE__; weft_panic("the answer is %d", 42);
}

static weft_panic_t *panic_of(weft_runtime_t *rt, const char *name, weft_task_fn fn)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = name;
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, fn, NULL, &h), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    assert_non_null(p);
    return p;
}

static void default_report_format(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();

    weft_panic_t *p = panic_of(rt, "worker-1", named_report_panic);
    char want[512];
    snprintf(want, sizeof want, "thread 'worker-1' panicked at %s:%d:\nthe answer is 42", __FILE__,
             panic_line);
    char got[512];
    size_t n = weft_panic_format(p, got, sizeof got);
    assert_int_equal(n, strlen(got));
    assert_true(strncmp(got, want, strlen(want)) == 0);
    assert_string_equal(got + strlen(want), "\n"); /* a CPU panic says no more */

    /* snprintf semantics: the needed length, truncated output */
    char small[10];
    assert_int_equal(weft_panic_format(p, small, sizeof small), n);
    assert_string_equal(small, "thread 'w");
    assert_int_equal(weft_panic_format(p, NULL, 0), n);
    weft_panic_destroy(p);

    p = panic_of(rt, NULL, named_report_panic);
    snprintf(want, sizeof want, "thread '<unnamed>' panicked at %s:%d:\nthe answer is 42", __FILE__,
             panic_line);
    weft_panic_format(p, got, sizeof got);
    assert_true(strncmp(got, want, strlen(want)) == 0);
    weft_panic_destroy(p);

    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* Run fn with stderr sent to a file; return what was written (caller frees). */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn(arg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fseek(tmp, 0, SEEK_END);
    long len = ftell(tmp);
    assert_true(len >= 0);
    char *text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(tmp);
    size_t got = fread(text, 1, (size_t)len, tmp);
    text[got] = '\0';
    fclose(tmp);
    return text;
}

typedef struct default_run {
    weft_runtime_t *rt;
    weft_panic_t *p;
} default_run;

static void run_with_default_hook(void *arg)
{
    default_run *d = arg;
    weft_set_panic_hook(NULL, NULL); /* the default hook prints to stderr */
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "worker-1";
    weft_handle_t *h;
    if (weft_builder_spawn(&b, d->rt, named_report_panic, NULL, &h) == 0)
        weft_join(h, NULL, &d->p);
}

static void run_with_capture_hook(void *arg)
{
    default_run *d = arg;
    d->p = NULL;
    weft_handle_t *h;
    if (weft_spawn(d->rt, named_report_panic, NULL, &h) == 0) weft_join(h, NULL, &d->p);
}

static void call_default_hook(void *arg) { weft_panic_default_hook(arg, NULL); }

static void default_hook_prints_report(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    default_run d = {rt, NULL};
    char *text = capture_stderr(run_with_default_hook, &d);
    assert_non_null(d.p);
    char want[512];
    weft_panic_format(d.p, want, sizeof want);
    assert_string_equal(text, want);
    free(text);

    /* called directly, it prints the same */
    text = capture_stderr(call_default_hook, d.p);
    assert_string_equal(text, want);
    free(text);
    weft_panic_destroy(d.p);

    /* a custom hook replaces it: the panic reaches the hook, nothing printed */
    wt_capture_install();
    text = capture_stderr(run_with_capture_hook, &d);
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(wt_capture_count(), 1);
    assert_non_null(d.p);
    weft_panic_destroy(d.p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* The scope's report mentions its cause. */
static void *scoped_panic(void *arg)
{
    (void)arg;
    weft_panic("inner failure");
}

static int one_unjoined(weft_scope_t *s, void *arg)
{
    (void)arg;
    return weft_scope_spawn(s, scoped_panic, NULL, NULL);
}

static void scope_report_includes_cause(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    weft_panic_t *p = NULL;
    assert_int_equal(weft_scope(rt, one_unjoined, NULL, &p), WEFT_EPANIC);
    char cause[512], all[1024];
    weft_panic_format(weft_panic_cause(p), cause, sizeof cause);
    weft_panic_format(p, all, sizeof all);
    assert_true(strncmp(all, "thread '<unnamed>' panicked at ", 31) == 0);
    wt_assert_contains(all, "\na scoped thread panicked\n");
    wt_assert_contains(all, cause);
    weft_panic_destroy(p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* ---- detached panics reach the hook and the counter ------------------------------ */
static atomic_int go;

static void *panic_when_released(void *arg)
{
    (void)arg;
    wt_spin_until(&go, 1);
    weft_panic("detached failure");
}

static void *quiet(void *arg) { return arg; }

static void detached_panics_counted(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture *c = wt_capture_install();
    assert_int_equal(weft_runtime_detached_panics(rt), 0);

    /* detached while still running */
    atomic_store(&go, 0);
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, panic_when_released, NULL, &h), 0);
    weft_handle_detach(h);
    atomic_store(&go, 1);
    assert_true(WT_WAIT_UNTIL(weft_runtime_detached_panics(rt) == 1, 30));
    assert_true(WT_WAIT_UNTIL(wt_capture_count() == 1, 30));
    assert_string_equal(c->first[0].message, "detached failure");

    /* detached after it finished */
    assert_int_equal(weft_spawn(rt, panic_when_released, NULL, &h), 0);
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(h), 30));
    weft_handle_detach(h);
    assert_int_equal(weft_runtime_detached_panics(rt), 2);
    assert_int_equal(wt_capture_count(), 2);

    /* a detached task that returns is not counted */
    assert_int_equal(weft_spawn(rt, quiet, NULL, &h), 0);
    weft_handle_detach(h);
    weft_handle_t *h2;
    assert_int_equal(weft_spawn(rt, quiet, NULL, &h2), 0);
    assert_int_equal(weft_join(h2, NULL, NULL), 0);
    weft_runtime_destroy(rt); /* also waits for the detached one */
    assert_int_equal(wt_capture_count(), 2);
    wt_capture_restore();
}

static void detached_count_exact_under_load(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    wt_capture_install();
    atomic_store(&go, 1);
    for (int i = 0; i < 200; i++) {
        weft_handle_t *h;
        assert_int_equal(weft_spawn(rt, i % 2 ? panic_when_released : quiet, NULL, &h), 0);
        weft_handle_detach(h);
    }
    assert_true(WT_WAIT_UNTIL(weft_runtime_detached_panics(rt) == 100, 60));
    assert_true(WT_WAIT_UNTIL(wt_capture_count() == 100, 60));
    weft_runtime_destroy(rt);
    assert_int_equal(wt_capture_count(), 100);
    wt_capture_restore();
}

/* ---- a panic outside any task: the hook runs, then abort() ---------------------- */
static int hook_fd = -1;

static void write_hook(const weft_panic_t *p, void *ud)
{
    (void)ud;
    char buf[512];
    size_t n = weft_panic_format(p, buf, sizeof buf);
    if (n > sizeof buf - 1) n = sizeof buf - 1;
    ssize_t w = write(hook_fd, buf, n);
    (void)w;
}

/* Run fn in a forked child whose panic hook writes to a pipe; the child must
 * abort. buf gets what the hook wrote. */
static void report_of_child(void (*fn)(void), char *buf, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        hook_fd = fds[1];
        weft_set_panic_hook(write_hook, NULL);
        fn();
        _exit(0); /* not reached */
    }
    close(fds[1]);
    memset(buf, 0, cap);
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fds[0], buf + len, cap - 1 - len)) > 0) len += (size_t)n;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void panic_here(void) { weft_panic("no boundary here"); }

static void panic_outside_task_aborts(void **state)
{
    (void)state;
    char buf[512];
    report_of_child(panic_here, buf, sizeof buf);
    /* The process's initial thread is 'main' in the report, as in Rust. */
    char want[256];
    snprintf(want, sizeof want, "thread 'main' panicked at %s:", __FILE__);
    assert_true(strncmp(buf, want, strlen(want)) == 0);
    wt_assert_contains(buf, ":\nno boundary here\n");
    /* weft_current_name() names tasks only: still NULL on the main thread. */
    assert_null(weft_current_name());
}

static void *panic_on_thread(void *arg)
{
    (void)arg;
    weft_panic("no boundary on this thread");
}

static void panic_in_plain_thread(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, panic_on_thread, NULL) == 0) pthread_join(th, NULL);
}

static void panic_outside_task_other_thread(void **state)
{
    (void)state;
    char buf[512];
    report_of_child(panic_in_plain_thread, buf, sizeof buf);
    /* Any other thread outside a task has no name. */
    char want[256];
    snprintf(want, sizeof want, "thread '<unnamed>' panicked at %s:", __FILE__);
    assert_true(strncmp(buf, want, strlen(want)) == 0);
    wt_assert_contains(buf, ":\nno boundary on this thread\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(panic_outside_task_aborts), /* first: no threads yet */
        cmocka_unit_test(panic_outside_task_other_thread),
        cmocka_unit_test(panic_caught_at_join),
        cmocka_unit_test(mixed_outcomes),
        cmocka_unit_test(long_message_truncated),
        cmocka_unit_test(default_report_format),
        cmocka_unit_test(default_hook_prints_report),
        cmocka_unit_test(scope_report_includes_cause),
        cmocka_unit_test(detached_panics_counted),
        cmocka_unit_test(detached_count_exact_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
