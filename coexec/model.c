/* coexec/model.c — the adaptive policy's memory: indices per second of each
 * (kernel, place), one small text file per kernel in a cache folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

static atomic_uint tmp_seq; /* distinct temp files for concurrent stores */

#define LINE_MAX_LEN 512

/* The cache folder, created if missing. 0 on success. */
static int cache_dir(char *buf, size_t cap)
{
    const char *dir = getenv("WEFT_CACHE_DIR");
    int n;
    if (dir && *dir) n = snprintf(buf, cap, "%s", dir);
    else if ((dir = getenv("XDG_CACHE_HOME")) && *dir) n = snprintf(buf, cap, "%s/weft", dir);
    else if ((dir = getenv("HOME")) && *dir) n = snprintf(buf, cap, "%s/.cache/weft", dir);
    else return -1;
    if (n < 0 || (size_t)n >= cap) return -1;
    /* mkdir -p */
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST) return -1;
    return 0;
}

/* dir/<kernel with unsafe bytes as '_'>.model */
static int model_path(const char *kernel, char *buf, size_t cap)
{
    if (cache_dir(buf, cap)) return -1;
    size_t len = strlen(buf);
    if (len + strlen(kernel) + 8 > cap) return -1;
    buf[len++] = '/';
    for (const char *k = kernel; *k; k++) {
        char c = *k;
        int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        buf[len++] = safe ? c : '_';
    }
    strcpy(buf + len, ".model");
    return 0;
}

int weft__model_load(const char *kernel, const char *place, double *speed)
{
    char path[1024], line[LINE_MAX_LEN];
    if (!kernel || model_path(kernel, path, sizeof path)) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    size_t plen = strlen(place);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, place, plen) == 0 && line[plen] == '\t') {
            double v = strtod(line + plen + 1, NULL);
            if (v > 0) {
                *speed = v;
                found = 1;
            }
        }
    }
    fclose(f);
    return found;
}

void weft__model_store(const char *kernel, const char *place, double speed)
{
    char path[1024], tmp[1100], line[LINE_MAX_LEN];
    if (!kernel || speed <= 0 || model_path(kernel, path, sizeof path)) return;
    snprintf(tmp, sizeof tmp, "%s.%ld.%u.tmp", path, (long)getpid(), atomic_fetch_add(&tmp_seq, 1));
    FILE *out = fopen(tmp, "w");
    if (!out) return;
    FILE *in = fopen(path, "r");
    size_t plen = strlen(place);
    if (in) {
        while (fgets(line, sizeof line, in))
            if (!(strncmp(line, place, plen) == 0 && line[plen] == '\t')) fputs(line, out);
        fclose(in);
    }
    fprintf(out, "%s\t%.6g\n", place, speed);
    /* rename() makes the update atomic for concurrent readers. */
    if (fclose(out) == 0) rename(tmp, path);
    else remove(tmp);
}
