/* bench/openblas_env.h — OPENBLAS_CORETYPE for this CPU, set before any
 * OpenBLAS use.
 *
 * OpenBLAS 0.3.21 (Debian 12) built with DYNAMIC_ARCH picks its kernels from a
 * table of CPU models; models newer than the table (recent Xeons such as
 * Sapphire/Emerald Rapids) fall back to "Prescott", SSE3 kernels that run GEMM
 * about 6x slower. OPENBLAS_CORETYPE names the core and overrides the
 * detection. OpenBLAS reads it once, in its load-time constructor. */
#ifndef WEFT_BENCH_OPENBLAS_ENV_H
#define WEFT_BENCH_OPENBLAS_ENV_H

#include <stdio.h>

typedef struct bench_openblas_env {
    int found;               /* OPENBLAS_CORETYPE was in the environment */
    char found_value[64];    /* its value then */
    char detected[32];       /* the core this CPU should use ("" off x86-64) */
    char why[96];            /* what chose it: "avx512f in /proc/cpuinfo flags" */
    int set_here;            /* weft-bench set it (it was unset) */
    int reexeced;            /* weft-bench re-ran itself so a linked OpenBLAS sees it */
    int smoke;               /* --smoke: no re-run (results only) */
    char linked[160];        /* openblas_get_config() when OpenBLAS is linked, else "" */
    char corename[32];       /* openblas_get_corename(): the core OpenBLAS uses */
} bench_openblas_env;

/* Call first in main, before anything that may use OpenBLAS. Detects the
 * core from /proc/cpuinfo; when OPENBLAS_CORETYPE is unset, sets it for this
 * process. When OpenBLAS is already loaded (linked: its constructor ran before
 * main, with the variable unset), re-executes /proc/self/exe once with argv so
 * that it starts with the right core. Never fails: on any problem it leaves
 * the environment as it was and says so in e. */
void bench_openblas_env_setup(bench_openblas_env *e, char **argv);

/* Lines for the run conditions ("openblas:  ..."). */
void bench_openblas_env_print(FILE *f, const bench_openblas_env *e);

#endif
