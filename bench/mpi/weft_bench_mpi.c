/* bench/mpi/weft_bench_mpi.c — weft-bench-mpi: the bundled operations
 * across the ranks of an MPI job (weft/mpi.h), against the same operation in
 * one process, measured in the same run. Run it under mpirun (weft-bench
 * --mpi does, with 1, 2 and 4 ranks):
 *
 *   mpirun -n P weft-bench-mpi [--quick | --smoke] [--workload NAME[,NAME]]
 *                              [--reps N] [--csv FILE]
 *
 * For each workload: the one-process time (rank 0 alone, a runtime of every
 * core, while the other ranks wait without spinning), the time per operation
 * over P ranks (each with cores / P workers, at least one), their ratio,
 * the bytes each rank sent per operation and the share of the time spent
 * in MPI. mandelbrot, nbody and sgemm are replicated (every rank ends with
 * the whole result); stencil5 is distributed (each rank holds its rows and
 * one halo row each side; a step moves only halo rows). Every result is
 * checked against the one-process one before a time is reported: the same
 * bits for mandelbrot and stencil5, float tolerance for nbody and sgemm
 * (their CPU and device bodies round differently). Times are medians.
 *
 * On one machine the ranks share its cores: this measures weft_mpi's
 * overhead, not a speed-up (docs/benchmarks.md, "Across MPI ranks").
 * Exit status: 0; 1 when a result failed its check; 2 for a usage error. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <weft/kernels.h>
#include <weft/mpi.h>
#include <weft/weft.h>

static int me, nranks, quick, smoke, reps = 7;
static FILE *csv;

/* ---- waiting without taking a core ------------------------------------------ */

/* A barrier that sleeps while it waits: MPI_Barrier polls, and the ranks
 * that wait would take the cores from the one measuring alone. */
static void quiet_barrier(void)
{
    MPI_Request r;
    MPI_Ibarrier(MPI_COMM_WORLD, &r);
    for (int done = 0;;) {
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (done) return;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static weft_runtime_t *runtime(int threads)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = threads;
    weft_runtime_t *rt = NULL;
    if (weft_runtime_create(&o, &rt) != 0) {
        fprintf(stderr, "weft-bench-mpi: rank %d: weft_runtime_create: %s\n", me, weft_last_error_message());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return rt;
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ---- workloads -------------------------------------------------------------- */

/* One workload: its inputs, and how to fill the arguments of one operation
 * writing into `out` (the one-process run and the MPI run write apart). */
typedef struct workload {
    const char *name;
    size_t size, size_quick, size_smoke;
    const char *size_what;
    int distributed;              /* stencil5 */
    int exact;                    /* bit-identical check, else tolerance */
    size_t out_bytes;
    void *in1, *in2;
    int (*args)(struct workload *w, weft_k_args_t *a, void *out, void *aux);
    size_t n;                     /* the size used */
} workload;

static float hashf(size_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return (float)(x >> 8) / 16777216.0f * 2.0f - 1.0f;
}

static float *floats(size_t n, size_t seed)
{
    float *v = malloc(n * sizeof *v);
    if (!v) MPI_Abort(MPI_COMM_WORLD, 2);
    for (size_t i = 0; i < n; i++) v[i] = hashf(i + seed * 1000003u);
    return v;
}

static int mandel_args(workload *w, weft_k_args_t *a, void *out, void *aux)
{
    (void)aux;
    size_t wd = w->n, h = w->n * 3 / 4;
    return weft_k_mandelbrot_args(a, wd, h, -2.2f, -1.2f, 3.2f / (float)wd, 2.4f / (float)h, 256, out);
}

static void mandel_setup(workload *w)
{
    w->out_bytes = w->n * (w->n * 3 / 4) * sizeof(uint32_t);
}

/* nbody: vel is read and written, so each run starts from its own copy. */
static int nbody_args(workload *w, weft_k_args_t *a, void *out, void *aux)
{
    memcpy(aux, w->in2, 4 * w->n * sizeof(float));
    return weft_k_nbody_args(a, w->n, 0.01f, 0.01f, w->in1, aux, out);
}

static void nbody_setup(workload *w)
{
    float *pos = floats(4 * w->n, 1);
    for (size_t i = 0; i < w->n; i++) pos[4 * i + 3] = 1.0f / (float)w->n;
    w->in1 = pos;
    w->in2 = calloc(4 * w->n, sizeof(float));
    w->out_bytes = 4 * w->n * sizeof(float);
}

static int sgemm_args(workload *w, weft_k_args_t *a, void *out, void *aux)
{
    (void)aux;
    return weft_k_sgemm_args(a, w->n, w->n, w->n, 1.0f, w->in1, w->in2, 0.0f, out);
}

static void sgemm_setup(workload *w)
{
    w->in1 = floats(w->n * w->n, 2);
    w->in2 = floats(w->n * w->n, 3);
    w->out_bytes = w->n * w->n * sizeof(float);
}

static void stencil_setup(workload *w)
{
    w->in1 = floats(w->n * w->n, 4);
    w->out_bytes = w->n * w->n * sizeof(float);
}

enum { W_MANDEL, W_NBODY, W_SGEMM, W_STENCIL, W_COUNT };
static workload workloads[W_COUNT] = {
    {.name = "mandelbrot", .size = 2048, .size_quick = 1024, .size_smoke = 61, .size_what = "width (height 3/4)",
     .exact = 1, .args = mandel_args},
    {.name = "nbody", .size = 8192, .size_quick = 4096, .size_smoke = 197, .size_what = "bodies", .args = nbody_args},
    {.name = "sgemm", .size = 2048, .size_quick = 1024, .size_smoke = 67, .size_what = "n (n x n x n)",
     .args = sgemm_args},
    {.name = "stencil5", .size = 4096, .size_quick = 2048, .size_smoke = 37, .size_what = "grid n x n, one step",
     .distributed = 1, .exact = 1},
};

static void setup(workload *w)
{
    w->n = smoke ? w->size_smoke : quick ? w->size_quick : w->size;
    if (w == &workloads[W_MANDEL]) mandel_setup(w);
    if (w == &workloads[W_NBODY]) nbody_setup(w);
    if (w == &workloads[W_SGEMM]) sgemm_setup(w);
    if (w == &workloads[W_STENCIL]) stencil_setup(w);
}

static int close_enough(const float *a, const float *b, size_t n)
{
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= 1e30)) return 0; /* NaN or inf */
        worst = d > worst ? d : worst;
        scale = fabs((double)b[i]) > scale ? fabs((double)b[i]) : scale;
    }
    return worst <= 1e-4 * (scale > 1 ? scale : 1);
}

/* ---- one workload over the ranks --------------------------------------------- */

typedef struct result {
    double base_s, mpi_s, mpi_share;
    uint64_t bytes_sent;          /* this rank's, per operation */
    int ok, same_bits;
} result;

/* The one-process time: rank 0 alone, every core. Its output is the
 * reference every rank checks against (broadcast). */
static double one_process(workload *w, void *ref, void *aux)
{
    double t = 0;
    if (me == 0) {
        weft_runtime_t *rt = runtime(0);
        double *v = malloc((size_t)reps * sizeof *v);
        weft_k_args_t a;
        for (int r = -2; r < reps; r++) { /* two warm-up runs */
            if (w->args(w, &a, ref, aux)) MPI_Abort(MPI_COMM_WORLD, 2);
            double t0 = MPI_Wtime();
            weft_panic_t *pn = NULL;
            if (weft_k_run(rt, &a, NULL, &pn) != 0) {
                fprintf(stderr, "weft-bench-mpi: %s in one process: %s\n", w->name,
                        pn ? weft_panic_message(pn) : weft_last_error_message());
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            if (r >= 0) v[r] = MPI_Wtime() - t0;
        }
        t = median(v, reps);
        free(v);
        weft_runtime_destroy(rt);
    }
    quiet_barrier();
    MPI_Bcast(ref, (int)w->out_bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    return t;
}

/* One operation across the ranks, timed from a common start to the last
 * rank's return (returned); *share gets this rank's part of it in MPI and
 * *bytes what it sent. A failure aborts the job: there is nothing to time. */
static double timed_run(const char *name, weft_mpi_plan_t *p, const weft_k_args_t *a, const weft_mpi_options_t *o,
                        double *share, uint64_t *bytes)
{
    quiet_barrier();
    double t0 = MPI_Wtime();
    weft_panic_t *pn = NULL;
    int rc = weft_mpi_run(p, a->kernel, a->args, a->nargs, NULL, o, &pn);
    double t = MPI_Wtime() - t0, tmax;
    if (rc) {
        fprintf(stderr, "weft-bench-mpi: %s on rank %d: %s\n", name, me,
                pn ? weft_panic_message(pn) : weft_last_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    weft_mpi_stats_t st;
    weft_mpi_plan_stats(p, &st);
    *share = st.seconds > 0 ? st.mpi_seconds / st.seconds : 0;
    *bytes = st.bytes_sent;
    return tmax;
}

static result replicated(workload *w, int threads)
{
    result res = {.ok = 1};
    void *ref = malloc(w->out_bytes), *out = malloc(w->out_bytes), *aux = malloc(w->out_bytes);
    res.base_s = one_process(w, ref, aux);

    weft_runtime_t *rt = runtime(threads);
    weft_k_args_t a;
    w->args(w, &a, out, aux);
    weft_mpi_plan_t *p;
    if (weft_mpi_plan_create(rt, MPI_COMM_WORLD, a.kernel, a.range, NULL, 0, &p) != 0) {
        fprintf(stderr, "weft-bench-mpi: %s: %s\n", w->name, weft_last_error_message());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    double *v = malloc((size_t)reps * sizeof *v), *share = malloc((size_t)reps * sizeof *share);
    for (int r = -2; r < reps; r++) { /* two warm-up runs */
        memset(out, 0xff, w->out_bytes);
        w->args(w, &a, out, aux);
        double s, t = timed_run(w->name, p, &a, NULL, &s, &res.bytes_sent);
        if (r < 0) continue;
        v[r] = t;
        share[r] = s;
    }
    /* Checked before anything is reported. */
    res.same_bits = memcmp(out, ref, w->out_bytes) == 0;
    res.ok = res.same_bits || (!w->exact && close_enough(out, ref, w->out_bytes / sizeof(float)));
    res.mpi_s = median(v, reps);
    res.mpi_share = median(share, reps);
    free(v);
    free(share);
    weft_mpi_plan_destroy(p);
    weft_runtime_destroy(rt);
    free(ref);
    free(out);
    free(aux);
    return res;
}

/* stencil5, distributed: one timed operation is one step; the check is the
 * state after every step run, against as many one-process steps. */
static result distributed(workload *w, int threads)
{
    result res = {.ok = 1};
    size_t n = w->n, steps = (size_t)reps + 2;
    const float *init = w->in1;
    float *ga = malloc(n * n * sizeof *ga), *gb = malloc(n * n * sizeof *gb);
    /* One process: rank 0, every core; steps one at a time, each timed. */
    double base = 0;
    if (me == 0) {
        weft_runtime_t *rt = runtime(0);
        memcpy(ga, init, n * n * sizeof *ga);
        memcpy(gb, init, n * n * sizeof *gb);
        double *v = malloc(steps * sizeof *v);
        for (size_t s = 0; s < steps; s++) {
            weft_k_args_t a;
            weft_k_stencil5_args(&a, n, n, 0.5f, 0.125f, s % 2 ? gb : ga, s % 2 ? ga : gb);
            double t0 = MPI_Wtime();
            if (weft_k_run(rt, &a, NULL, NULL) != 0) MPI_Abort(MPI_COMM_WORLD, 1);
            v[s] = MPI_Wtime() - t0;
        }
        base = median(v + 2, reps);
        free(v);
        weft_runtime_destroy(rt);
    }
    quiet_barrier();
    float *ref = steps % 2 ? gb : ga;
    MPI_Bcast(ref, (int)(n * n * sizeof *ref), MPI_BYTE, 0, MPI_COMM_WORLD);
    MPI_Bcast(&base, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    res.base_s = base;

    weft_runtime_t *rt = runtime(threads);
    weft_k_args_t a;
    weft_k_stencil5_args(&a, n, n, 0.5f, 0.125f, init, gb == ref ? ga : gb);
    weft_mpi_plan_t *p;
    if (weft_mpi_plan_create(rt, MPI_COMM_WORLD, a.kernel, a.range, NULL, 1, &p) != 0) MPI_Abort(MPI_COMM_WORLD, 2);
    weft_mpi_rows_t rows;
    weft_mpi_plan_rows(p, me, &rows);
    size_t held = rows.last - rows.first;
    float *la = malloc((held ? held : 1) * n * sizeof *la), *lb = malloc((held ? held : 1) * n * sizeof *lb);
    memcpy(la, init + rows.first * n, held * n * sizeof *la);
    memcpy(lb, la, held * n * sizeof *lb);
    weft_mpi_options_t o;
    weft_mpi_options_init(&o);
    o.layout = WEFT_MPI_DISTRIBUTED;
    double *v = malloc(steps * sizeof *v), *share = malloc(steps * sizeof *share);
    for (size_t s = 0; s < steps; s++) {
        float *in = s % 2 ? lb : la, *out = s % 2 ? la : lb;
        weft_k_stencil5_args(&a, n, n, 0.5f, 0.125f, in, out);
        a.args[4].data = in;
        a.args[4].bytes = held * n * sizeof *in;
        a.args[5].data = out;
        a.args[5].bytes = held * n * sizeof *out;
        v[s] = timed_run(w->name, p, &a, &o, &share[s], &res.bytes_sent);
    }
    float *last = steps % 2 ? lb : la;
    size_t own = (rows.end - rows.begin) * n;
    res.ok = res.same_bits =
        own == 0 || memcmp(last + (rows.begin - rows.first) * n, ref + rows.begin * n, own * sizeof *ref) == 0;
    res.mpi_s = median(v + 2, reps);
    res.mpi_share = median(share + 2, reps);
    free(v);
    free(share);
    free(la);
    free(lb);
    weft_mpi_plan_destroy(p);
    weft_runtime_destroy(rt);
    free(ga);
    free(gb);
    return res;
}

/* ---- main ----------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: mpirun -n P weft-bench-mpi [--quick | --smoke] [--workload NAME[,NAME]] [--reps N] [--csv FILE]\n"
          "  workloads: mandelbrot, nbody, sgemm (replicated), stencil5 (distributed)\n",
          f);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int chosen[W_COUNT] = {1, 1, 1, 1}, status = 0;
    const char *csv_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else if (!strcmp(argv[i], "--smoke")) { /* tiny sizes, one operation: checks only */
            smoke = 1;
            reps = 1;
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
            if (reps < 1 || reps > 1000) status = 2;
        } else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
            csv_path = argv[++i];
        } else if (!strcmp(argv[i], "--workload") && i + 1 < argc) {
            memset(chosen, 0, sizeof chosen);
            char *list = strdup(argv[++i]), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int found = 0;
                for (int k = 0; k < W_COUNT; k++)
                    if (!strcmp(t, workloads[k].name)) chosen[k] = found = 1;
                if (!found) status = 2;
            }
            free(list);
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (me == 0) usage(stdout);
            MPI_Finalize();
            return 0;
        } else {
            status = 2;
        }
    }
    if (status) {
        if (me == 0) usage(stderr);
        MPI_Finalize();
        return 2;
    }
    int threads = cores() / nranks > 0 ? cores() / nranks : 1;
    if (me == 0) {
        printf("weft-bench-mpi: %d rank%s, %d worker%s each (%d online cores); one process: rank 0, %d workers\n",
               nranks, nranks == 1 ? "" : "s", threads, threads == 1 ? "" : "s", cores(), cores());
        printf("On one machine this measures overhead, not speed-up. Medians of %d operations.\n", reps);
        printf("%-11s %5s %-28s %12s %10s %7s %14s %9s  %s\n", "workload", "ranks", "size", "1 process ms",
               "ranks ms", "ratio", "sent/rank B", "in MPI", "check");
        if (csv_path && !(csv = fopen(csv_path, "a"))) {
            fprintf(stderr, "weft-bench-mpi: cannot open %s\n", csv_path);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        if (csv && ftell(csv) == 0)
            fprintf(csv, "workload,ranks,workers_per_rank,size,one_process_ms,ranks_ms,ratio,bytes_sent_max_rank,"
                         "bytes_sent_total,mpi_share,check\n");
    }
    for (int k = 0; k < W_COUNT; k++) {
        if (!chosen[k]) continue;
        workload *w = &workloads[k];
        setup(w);
        result r = w->distributed ? distributed(w, threads) : replicated(w, threads);
        int ok_all, same_all;
        MPI_Allreduce(&r.ok, &ok_all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(&r.same_bits, &same_all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        uint64_t sent_max, sent_sum;
        MPI_Reduce(&r.bytes_sent, &sent_max, 1, MPI_UINT64_T, MPI_MAX, 0, MPI_COMM_WORLD);
        MPI_Reduce(&r.bytes_sent, &sent_sum, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
        double share_max;
        MPI_Reduce(&r.mpi_share, &share_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        if (!ok_all) status = 1;
        if (me == 0) {
            char size[64];
            snprintf(size, sizeof size, "%zu %s", w->n, w->size_what);
            if (ok_all)
                printf("%-11s %5d %-28.28s %12.2f %10.2f %6.2fx %14llu %8.1f%%  %s\n", w->name, nranks, size,
                       r.base_s * 1e3, r.mpi_s * 1e3, r.mpi_s / r.base_s, (unsigned long long)sent_max,
                       share_max * 100, same_all ? "same bits" : "within 1e-4");
            else
                printf("%-11s %5d %-28.28s  WRONG RESULT across ranks: no time reported\n", w->name, nranks, size);
            if (csv)
                fprintf(csv, "%s,%d,%d,%zu,%.4f,%.4f,%.4f,%llu,%llu,%.4f,%s\n", w->name, nranks, threads, w->n,
                        r.base_s * 1e3, ok_all ? r.mpi_s * 1e3 : NAN, ok_all ? r.mpi_s / r.base_s : NAN,
                        (unsigned long long)sent_max, (unsigned long long)sent_sum, share_max,
                        !ok_all ? "wrong" : same_all ? "same bits" : "within tolerance");
            fflush(stdout);
        }
        free(w->in1);
        free(w->in2);
        w->in1 = w->in2 = NULL;
    }
    if (csv) fclose(csv);
    MPI_Finalize();
    return status;
}
