/* test_panic_hook_abort.c — a panic inside the panic hook aborts the
 * process with "thread panicked while processing panic" (as Rust does),
 * instead of jumping back into the task's boundary: neither looping forever
 * nor replacing (and leaking) the task's payload. Each case runs in a forked
 * child whose stderr the parent reads; alarm() turns a loop into a failure.
 * A hook that runs a task that panics does not abort: that panic is the
 * task's. */
#include "weft_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define ABORT_LINE "thread panicked while processing panic. aborting."

static atomic_int hook_calls;

static void hook_always_panics(const weft_panic_t *p, void *ud)
{
    (void)p;
    (void)ud;
    atomic_fetch_add(&hook_calls, 1);
    weft_panic("the hook panicked too");
}

static void hook_panics_once(const weft_panic_t *p, void *ud)
{
    (void)p;
    (void)ud;
    if (atomic_fetch_add(&hook_calls, 1) == 0) weft_panic("the hook panicked once");
}

static void *task_panics(void *arg)
{
    (void)arg;
    weft_panic("the task panicked");
}

/* In the child: a task panics with hook installed; returns only when the
 * join came back (which it must not). */
static void child(weft_panic_hook_fn hook, int dedicated)
{
    alarm(20);
    weft_runtime_t *rt = NULL;
    if (weft_runtime_create(NULL, &rt)) _exit(3);
    weft_set_panic_hook(hook, NULL);
    weft_builder_t b;
    weft_builder_init(&b);
    if (dedicated) b.stack_size = 1 << 20;
    weft_handle_t *h;
    if (weft_builder_spawn(&b, rt, task_panics, NULL, &h)) _exit(4);
    weft_panic_t *p = NULL;
    int rc = weft_join(h, NULL, &p);
    fprintf(stderr, "join returned %d: %s\n", rc, p ? weft_panic_message(p) : "(none)");
    _exit(5);
}

static void expect_abort(weft_panic_hook_fn hook, int dedicated, const char *nested)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        child(hook, dedicated);
    }
    close(fds[1]);
    char out[8192];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], out + len, sizeof out - 1 - len)) > 0) len += (size_t)n;
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("child did not abort (status 0x%x); its stderr:\n%s", status, out);
    wt_assert_contains(out, ABORT_LINE);
    wt_assert_contains(out, nested);
}

static void hook_that_panics_aborts(void **state)
{
    (void)state;
    expect_abort(hook_always_panics, 0, "the hook panicked too");
}

static void hook_that_panics_once_aborts(void **state)
{
    (void)state;
    expect_abort(hook_panics_once, 0, "the hook panicked once");
}

static void hook_that_panics_on_dedicated_thread_aborts(void **state)
{
    (void)state;
    expect_abort(hook_always_panics, 1, "the hook panicked too");
}

/* A hook that runs a task which panics (on this thread, in a caller slot, or
 * on a worker) is not a panic inside the hook: that panic lands in its own
 * task's boundary and the hook hears of it as of any other. */
typedef struct nested {
    weft_runtime_t *rt;
    atomic_int calls;
    int inner_rc;
    char inner_msg[64];
} nested;

static void *inner_panics(void *arg)
{
    (void)arg;
    weft_panic("inner");
}

static void hook_runs_a_task(const weft_panic_t *p, void *ud)
{
    nested *n = ud;
    atomic_fetch_add(&n->calls, 1);
    if (strcmp(weft_panic_message(p), "the task panicked") != 0) return;
    weft_handle_t *h;
    if (weft_spawn(n->rt, inner_panics, NULL, &h)) return;
    weft_panic_t *q = NULL;
    n->inner_rc = weft_join(h, NULL, &q);
    snprintf(n->inner_msg, sizeof n->inner_msg, "%s", q ? weft_panic_message(q) : "");
    weft_panic_destroy(q);
}

static void hook_running_a_panicking_task_does_not_abort(void **state)
{
    (void)state;
    for (int workers = 1; workers <= 2; workers++) {
        nested n = {.rt = wt_runtime(workers, WT_NO_DEVICES, 0)};
        weft_set_panic_hook(hook_runs_a_task, &n);
        weft_handle_t *h;
        WT_CHECK(weft_spawn(n.rt, task_panics, NULL, &h));
        weft_panic_t *p = NULL;
        assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
        assert_string_equal(weft_panic_message(p), "the task panicked");
        weft_panic_destroy(p);
        weft_set_panic_hook(NULL, NULL);
        assert_int_equal(atomic_load(&n.calls), 2);
        assert_int_equal(n.inner_rc, WEFT_EPANIC);
        assert_string_equal(n.inner_msg, "inner");
        assert_int_equal(weft_runtime_destroy(n.rt), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hook_that_panics_aborts),
        cmocka_unit_test(hook_that_panics_once_aborts),
        cmocka_unit_test(hook_that_panics_on_dedicated_thread_aborts),
        cmocka_unit_test(hook_running_a_panicking_task_does_not_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
