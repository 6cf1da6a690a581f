/* bench/mpi/launch.c — `weft-bench --mpi`: runs weft-bench-mpi (the MPI
 * companion, built beside weft-bench when weft_mpi is) under the MPI
 * launcher with 1, 2 and 4 ranks (--ranks LIST for others), passing on
 * --quick, --smoke, --reps, --csv and --workload. Ranks may share cores
 * (--oversubscribe), are not pinned (--bind-to none), and yield their core
 * while they wait in MPI (OMPI_MCA_mpi_yield_when_idle=1). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpi_launch.h"

int bench_mpi_is_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--mpi")) return 1;
    return 0;
}

#ifndef WEFT_BENCH_MPIEXEC
int bench_mpi_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "weft-bench: --mpi: this build has no weft_mpi (MPI was not found when it was configured; "
                    "install libopenmpi-dev and openmpi-bin and configure again)\n");
    return 2;
}
#else
static int run_one(char *const *cmd)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execv(cmd[0], cmd);
        fprintf(stderr, "weft-bench: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int bench_mpi_run(int argc, char **argv)
{
    char self[PATH_MAX], companion[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "weft-bench: --mpi: cannot find my own path\n");
        return 2;
    }
    self[n] = '\0';
    snprintf(companion, sizeof companion, "%s/weft-bench-mpi", dirname(self));
    if (access(companion, X_OK) != 0) {
        fprintf(stderr, "weft-bench: --mpi: %s is missing (weft_mpi was not built)\n", companion);
        return 2;
    }
    const char *ranks = "1,2,4";
    char *pass[32];
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--mpi")) continue;
        if (!strcmp(a, "--ranks") && i + 1 < argc) {
            ranks = argv[++i];
        } else if (!strcmp(a, "--quick") || !strcmp(a, "--smoke")) {
            pass[np++] = argv[i];
        } else if ((!strcmp(a, "--reps") || !strcmp(a, "--csv") || !strcmp(a, "--workload")) && i + 1 < argc &&
                   np < 28) {
            pass[np++] = argv[i];
            pass[np++] = argv[++i];
        } else {
            fprintf(stderr, "weft-bench: --mpi takes --ranks LIST, --quick, --smoke, --reps N, --csv FILE and "
                            "--workload NAME[,NAME] (mandelbrot, nbody, sgemm, stencil5); not %s\n", a);
            return 2;
        }
    }
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    if (geteuid() == 0) { /* Open MPI refuses root without both */
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    }
    int status = 0;
    char *list = strdup(ranks), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long p = strtol(t, &end, 10);
        if (*end || p < 1 || p > 1024) {
            fprintf(stderr, "weft-bench: --ranks: '%s' is not a rank count\n", t);
            status = 2;
            break;
        }
        char *cmd[48];
        int c = 0;
        cmd[c++] = (char *)WEFT_BENCH_MPIEXEC;
        cmd[c++] = (char *)"-n";
        cmd[c++] = t;
        cmd[c++] = (char *)"--oversubscribe";
        cmd[c++] = (char *)"--bind-to";
        cmd[c++] = (char *)"none";
        cmd[c++] = companion;
        for (int k = 0; k < np; k++) cmd[c++] = pass[k];
        cmd[c] = NULL;
        fflush(stdout);
        int rc = run_one(cmd);
        if (rc != 0 && status == 0) status = rc == 2 ? 2 : 1;
    }
    free(list);
    return status;
}
#endif
