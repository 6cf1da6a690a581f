/* 03_spawn_all_join_all.c — parallel work: spawn every task, then join them
 * all. Spawning and joining in the same loop runs one task at a time. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <weft/weft.h>

#define TASKS 2

/* How many tasks run at the same moment, and the most there ever were. */
static atomic_int running, peak, arrived;

/* Each task arrives, then waits (up to `patience` ns) for all TASKS tasks to
 * have arrived: only tasks that really run side by side can meet. */
static void *meet(void *arg)
{
    uint64_t patience = (uint64_t)(uintptr_t)arg, waited = 0;
    int now = atomic_fetch_add(&running, 1) + 1;
    int seen = atomic_load(&peak);
    while (now > seen && !atomic_compare_exchange_weak(&peak, &seen, now)) {
    }
    atomic_fetch_add(&arrived, 1);
    while (atomic_load(&arrived) < TASKS && waited < patience) {
        weft_sleep_ns(1000000);
        waited += 1000000;
    }
    atomic_fetch_sub(&running, 1);
    return NULL;
}

static void reset(void)
{
    atomic_store(&running, 0);
    atomic_store(&peak, 0);
    atomic_store(&arrived, 0);
}

int main(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = TASKS; /* enough workers for every task at once */
    weft_runtime_t *rt;
    if (weft_runtime_create(&o, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    weft_handle_t *h[TASKS];

    /* Wrong: join inside the spawning loop. Each task is waited for before
     * the next one exists, so no two ever run together (each gives up
     * waiting for the other after 50 ms). */
    reset();
    for (int i = 0; i < TASKS; i++) {
        if (weft_spawn(rt, meet, (void *)(uintptr_t)50000000u, &h[i]) != 0) return 1;
        weft_join(h[i], NULL, NULL);
    }
    printf("spawn+join in one loop: at most %d task(s) running at once\n", atomic_load(&peak));

    /* Right: spawn them all, then join them all. */
    reset();
    int started = 0;
    for (int i = 0; i < TASKS; i++) {
        if (weft_spawn(rt, meet, (void *)(uintptr_t)10000000000u, &h[i]) != 0) break;
        started++;
    }
    for (int i = 0; i < started; i++) weft_join(h[i], NULL, NULL);
    printf("spawn all, then join all: %d task(s) running at once\n", atomic_load(&peak));

    weft_runtime_destroy(rt);
    return 0;
}
