/* 04_builder.c — named tasks, dedicated threads, and spawn errors. */
#include <stdint.h>
#include <stdio.h>

#include <weft/weft.h>

static void *whoami(void *arg)
{
    (void)arg;
    const char *name = weft_current_name();
    printf("task '%s' runs %s\n", name ? name : "<unnamed>",
           weft_current_worker() >= 0 ? "on a pool worker" : "on its own thread");
    return NULL;
}

/* Spawn with b and report the outcome. */
static void try_spawn(weft_runtime_t *rt, const weft_builder_t *b, const char *what)
{
    weft_handle_t *h;
    int rc = weft_builder_spawn(b, rt, whoami, NULL, &h);
    if (rc == 0) {
        weft_join(h, NULL, NULL);
        return;
    }
    printf("%s: %s: %s\n", what, weft_err_name(rc), weft_last_error_message());
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    weft_builder_t b;

    /* A name: shown by weft_current_name() and in panic messages. */
    weft_builder_init(&b);
    b.name = "parser";
    try_spawn(rt, &b, "named");

    /* A stack size: the task gets a dedicated OS thread with that stack
     * (and the OS thread carries the name, as top and gdb show). */
    b.name = "deep-recursion";
    b.stack_size = (size_t)64 << 20;
    try_spawn(rt, &b, "64 MiB stack");

    /* Spawn failures are returned, never a crash or a panic. */
    b.name = "bad\nname";
    b.stack_size = 0;
    try_spawn(rt, &b, "control character in the name");

    b.name = "tiny";
    b.stack_size = 1;
    try_spawn(rt, &b, "1-byte stack");

    b.name = "absurd";
    b.stack_size = (size_t)1 << 60;
    try_spawn(rt, &b, "1 EiB stack");

    /* ...and the runtime goes on working. */
    weft_builder_init(&b);
    b.name = "afterwards";
    try_spawn(rt, &b, "afterwards");

    weft_runtime_destroy(rt);
    return 0;
}
