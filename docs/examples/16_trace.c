/* 16_trace.c — record where every chunk ran, for Perfetto.
 * Open the file it writes at https://ui.perfetto.dev (or chrome://tracing):
 * one row per place, one bar per chunk. $WEFT_TRACE=file does the same for
 * any program, from runtime creation to runtime destruction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

#define N 1000000

static const char source[] =
    "__kernel void axpy(const float a, __global const float *x, __global float *y, const uint n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) y[i] += a * x[i];\n"
    "}\n";

static void axpy_cpu(size_t begin, size_t end, void *const *argv)
{
    const float a = *(const float *)argv[0];
    const float *x = argv[1];
    float *y = argv[2];
    for (size_t i = begin; i < end; i++) y[i] += a * x[i];
}

static float x[N], y[N];

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "weft-trace.json";
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0 || weft_trace_start(rt, path) != 0) {
        fprintf(stderr, "set-up failed: %s\n", weft_last_error_message());
        return 1;
    }
    const weft_kernel_t axpy = {.name = "axpy", .cpu = axpy_cpu, .cl_source = source, .cl_entry = "axpy"};
    float a = 2.0f;
    unsigned n = N;
    weft_arg_t args[] = {weft_arg_scalar(&a, sizeof a),
                         weft_arg_split(x, sizeof x, sizeof x[0], WEFT_READ),
                         weft_arg_split(y, sizeof y, sizeof y[0], WEFT_READ_WRITE),
                         weft_arg_scalar(&n, sizeof n)};
    for (int i = 0; i < N; i++) x[i] = 1.0f;
    for (int rep = 0; rep < 3; rep++)
        if (weft_parallel_run(rt, &axpy, weft_range_1d(N, 256), args, 4, NULL, NULL) != 0) return 1;
    printf("y[0] = %.1f after 3 runs\n", y[0]);

    if (weft_trace_flush(rt) != 0) {
        fprintf(stderr, "weft_trace_flush: %s\n", weft_last_error_message());
        return 1;
    }
    /* The file is Chrome's trace-event JSON: look for the chunk events. */
    FILE *f = fopen(path, "r");
    static char text[1 << 20];
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[len] = '\0';
    if (f) fclose(f);
    printf("%s: Chrome trace JSON: %s; chunk events: %s\n", path,
           strncmp(text, "{\"traceEvents\":[", 16) == 0 ? "yes" : "no",
           strstr(text, "\"cat\":\"chunk\"") ? "yes" : "no");
    weft_runtime_destroy(rt); /* writes the file one last time */
    return 0;
}
