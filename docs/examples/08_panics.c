/* 08_panics.c — a panic ends only its task and is caught at join; panics
 * nobody joins are still reported: by the scope, or by the hook and a
 * counter for detached tasks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <weft/weft.h>

static void *parse(void *arg)
{
    const char *text = arg;
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0') weft_panic("not a number: \"%s\"", text);
    return (void *)(intptr_t)v;
}

static int spawn_named(weft_runtime_t *rt, weft_scope_t *s, const char *name, const char *text,
                       weft_handle_t **h)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = name;
    return s ? weft_scope_builder_spawn(s, &b, parse, (void *)text, h)
             : weft_builder_spawn(&b, rt, parse, (void *)text, h);
}

/* The scope's body joins one failing task, and forgets another. */
static int body(weft_scope_t *s, void *arg)
{
    (void)arg;
    weft_handle_t *h;
    weft_panic_t *p;
    if (spawn_named(NULL, s, "checker-1", "x1", &h) == 0 && weft_join(h, NULL, &p) == WEFT_EPANIC) {
        printf("body: checker-1 panicked (%s); handled\n", weft_panic_message(p));
        weft_panic_destroy(p);
    }
    spawn_named(NULL, s, "checker-2", "x2", NULL); /* nobody joins this one */
    return 0;
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    weft_handle_t *h;
    void *value;
    weft_panic_t *p;

    /* 1. Caught at join: the joiner gets WEFT_EPANIC and the payload. */
    if (spawn_named(rt, NULL, "parser", "12x", &h) != 0) return 1;
    if (weft_join(h, &value, &p) == WEFT_EPANIC) {
        printf("join: task '%s' panicked at %s:%d: %s\n", weft_panic_thread(p), weft_panic_file(p),
               weft_panic_line(p), weft_panic_message(p));
        weft_panic_destroy(p); /* the payload is ours */
    }
    if (spawn_named(rt, NULL, "parser", "42", &h) == 0 && weft_join(h, &value, NULL) == 0)
        printf("join: parsed %ld; the runtime carries on\n", (long)(intptr_t)value);

    /* 2. Detached: nobody can join it, yet its panic is not lost. */
    if (spawn_named(rt, NULL, "forgotten", "oops", &h) != 0) return 1;
    weft_handle_detach(h);
    while (weft_runtime_detached_panics(rt) == 0) weft_sleep_ns(1000000);
    printf("detached panics so far: %llu\n", (unsigned long long)weft_runtime_detached_panics(rt));

    /* 3. In a scope, an unjoined panic fails the whole scope. */
    int rc = weft_scope(rt, body, NULL, &p);
    printf("scope: %s\n", weft_err_name(rc));
    if (p) {
        const weft_panic_t *cause = weft_panic_cause(p);
        printf("  message: %s\n", weft_panic_message(p));
        printf("  cause:   task '%s': %s\n", weft_panic_thread(cause), weft_panic_message(cause));
        printf("  others:  %zu\n", weft_panic_suppressed(p));
        weft_panic_destroy(p);
    }

    weft_runtime_destroy(rt);
    return 0;
}
