/* bench/harness/openblas_env.c — pick OPENBLAS_CORETYPE from the CPU's flags
 * and set it before OpenBLAS starts (see bench_openblas_env in harness.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cblas.h> /* OpenBLAS's: openblas_get_config(), openblas_get_corename() */

#include "harness.h"

#define REEXEC_MARK "WEFT_BENCH_OPENBLAS_REEXEC"

/* Does the space-separated flag list hold `flag` as a whole word? */
static int has_flag(const char *flags, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += n) {
        int start = p == flags || p[-1] == ' ' || p[-1] == '\t';
        int end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n' || p[n] == '\t';
        if (start && end) return 1;
    }
    return 0;
}

/* The OpenBLAS core name for this x86-64 CPU, from the first "flags" and
 * "vendor_id" lines of /proc/cpuinfo. Names as OpenBLAS's DYNAMIC_ARCH
 * table spells them (case does not matter to it). */
static void detect(bench_openblas_env *e)
{
    e->detected[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) {
        snprintf(e->why, sizeof e->why, "/proc/cpuinfo unreadable");
        return;
    }
    static char line[8192];
    char vendor[64] = "";
    int got_flags = 0;
    while (!got_flags && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        if (!strncmp(line, "vendor_id", 9) && !vendor[0]) {
            snprintf(vendor, sizeof vendor, "%s", colon + 2);
            vendor[strcspn(vendor, "\n")] = '\0';
        } else if (!strncmp(line, "flags", 5)) {
            got_flags = 1;
        }
    }
    fclose(f);
    if (!got_flags) {
        snprintf(e->why, sizeof e->why, "no flags line in /proc/cpuinfo");
        return;
    }
    const char *flags = strchr(line, ':') + 1;
    int amd = strstr(vendor, "AMD") != NULL;
    /* Most capable first. AVX-512 kernels (SkylakeX) serve every AVX-512 core
     * 0.3.21 may not know (Ice Lake, Sapphire/Emerald/Granite Rapids, Zen 4). */
    static const struct {
        const char *flag, *core, *amd_core;
    } table[] = {
        {"avx512f", "SkylakeX", "SkylakeX"}, {"avx2", "Haswell", "Zen"},
        {"avx", "Sandybridge", "Sandybridge"}, {"sse4_2", "Nehalem", "Nehalem"},
        {"ssse3", "Core2", "Core2"},          {"pni", "Prescott", "Prescott"}, /* pni: SSE3 */
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (!has_flag(flags, table[i].flag)) continue;
        snprintf(e->detected, sizeof e->detected, "%s", amd ? table[i].amd_core : table[i].core);
        snprintf(e->why, sizeof e->why, "%s in /proc/cpuinfo flags%s", table[i].flag,
                 amd ? " (AMD)" : "");
        return;
    }
    snprintf(e->why, sizeof e->why, "no SSE3 or later in /proc/cpuinfo flags");
#else
    snprintf(e->why, sizeof e->why, "not an x86-64 CPU: OpenBLAS's own detection applies");
#endif
}

void bench_openblas_env_setup(bench_openblas_env *e, char **argv)
{
    memset(e, 0, sizeof *e);
    const char *v = getenv("OPENBLAS_CORETYPE");
    const char *mark = getenv(REEXEC_MARK);
    detect(e);
    if (mark && *mark) {
        /* We are the re-executed copy: we set the variable before. */
        e->reexeced = 1;
        e->set_here = 1;
        unsetenv(REEXEC_MARK);
    } else if (v && *v) {
        e->found = 1;
        snprintf(e->found_value, sizeof e->found_value, "%s", v);
    } else if (e->detected[0]) {
        if (setenv("OPENBLAS_CORETYPE", e->detected, 1) == 0) {
            e->set_here = 1;
            /* A linked OpenBLAS initialised itself before main without it:
             * start again so its constructor sees the variable. Not for a
             * smoke run, which only checks results: it stays one process,
             * whole under valgrind or a sanitizer. */
            for (char **a = argv; a && *a; a++) e->smoke |= strcmp(*a, "--smoke") == 0;
            if (!e->smoke && argv && argv[0] && setenv(REEXEC_MARK, "1", 1) == 0) {
                fflush(NULL);
                execv("/proc/self/exe", argv);
                unsetenv(REEXEC_MARK); /* exec failed: go on, and say so below */
                e->set_here = 0;
                unsetenv("OPENBLAS_CORETYPE");
            }
        }
    }
    const char *config = openblas_get_config(), *core = openblas_get_corename();
    snprintf(e->linked, sizeof e->linked, "%s", config ? config : "?");
    snprintf(e->corename, sizeof e->corename, "%s", core ? core : "?");
}

void bench_openblas_env_print(FILE *f, const bench_openblas_env *e)
{
    fprintf(f, "openblas:  OPENBLAS_CORETYPE ");
    if (e->found) fprintf(f, "= %s (from the environment, kept)", e->found_value);
    else if (e->set_here) fprintf(f, "was unset; weft-bench set it to %s for this process%s", e->detected,
                                  e->reexeced ? " and re-ran itself so the linked OpenBLAS saw it"
                                  : e->smoke ? " (smoke run: not re-run, OpenBLAS kept its own choice)"
                                                             : "");
    else fprintf(f, "unset, left unset");
    if (e->detected[0]) fprintf(f, "; this CPU: %s (%s)\n", e->detected, e->why);
    else fprintf(f, "; this CPU: no core to name (%s)\n", e->why);
    if (e->found && e->detected[0] && strcasecmp(e->found_value, e->detected) != 0)
        fprintf(f, "           NOTE: the environment's %s differs from the detected %s\n", e->found_value,
                e->detected);
    fprintf(f, "           (OpenBLAS 0.3.21 takes recent Xeons for Prescott, ~6x slower GEMM, unless it is set;\n"
               "            it is read once, when OpenBLAS loads)\n");
}
