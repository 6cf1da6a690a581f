/* coexec/model.c — the adaptive and static policies' memory: indices per
 * second of each (kernel, place), one small text file per kernel in a cache
 * folder. A runtime keeps what it read and learned in memory, so that an
 * operation does not open files: a speed is read from disk once, and
 * written back when it moved by more than a tenth from what the file holds,
 * at most once a second per (kernel, place), and at runtime destroy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
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

/* The next line of f into buf (its newline dropped): 1, or 0 at the end.
 * A line longer than buf is skipped whole (its tail is no entry), and a
 * last line without a newline is a line like any other. */
static int next_line(FILE *f, char *buf, size_t cap)
{
    for (;;) {
        if (!fgets(buf, (int)cap, f)) return 0;
        size_t len = strlen(buf);
        if (len && buf[len - 1] == '\n') {
            buf[len - 1] = '\0';
            return 1;
        }
        if (len + 1 < cap || feof(f)) return 1; /* the last line, or a NUL inside it */
        int c;
        while ((c = fgetc(f)) != EOF && c != '\n') {
        }
    }
}

/* The speed of the entry "place<TAB>speed" in line; 0 when line is not
 * place's entry or its speed is not a plain number in the range a speed
 * can have (inf, nan, 1e308, trailing text: not a speed). */
static int entry_speed(const char *line, const char *place, double *speed)
{
    size_t plen = strlen(place);
    if (strncmp(line, place, plen) != 0 || line[plen] != '\t') return 0;
    char *end;
    errno = 0;
    double v = strtod(line + plen + 1, &end);
    if (end == line + plen + 1 || *end != '\0' || errno == ERANGE || !(v >= WEFT__MODEL_MIN && v <= WEFT__MODEL_MAX))
        return 0;
    *speed = v;
    return 1;
}

int weft__model_read(FILE *f, const char *place, double *speed)
{
    char line[LINE_MAX_LEN];
    int found = 0;
    while (next_line(f, line, sizeof line)) found |= entry_speed(line, place, speed);
    return found;
}

void weft__model_copy_except(FILE *in, FILE *out, const char *place)
{
    char line[LINE_MAX_LEN];
    size_t plen = strlen(place);
    while (next_line(in, line, sizeof line))
        if (*line && !(strncmp(line, place, plen) == 0 && line[plen] == '\t')) fprintf(out, "%s\n", line);
}

static int disk_load(const char *kernel, const char *place, double *speed)
{
    char path[1024];
    if (!kernel || model_path(kernel, path, sizeof path)) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = weft__model_read(f, place, speed);
    fclose(f);
    return found;
}

static void disk_store(const char *kernel, const char *place, double speed)
{
    char path[1024], tmp[1100];
    if (!kernel || !(speed >= WEFT__MODEL_MIN && speed <= WEFT__MODEL_MAX) || model_path(kernel, path, sizeof path))
        return;
    snprintf(tmp, sizeof tmp, "%s.%ld.%u.tmp", path, (long)getpid(), atomic_fetch_add(&tmp_seq, 1));
    FILE *out = fopen(tmp, "w");
    if (!out) return;
    FILE *in = fopen(path, "r");
    if (in) {
        weft__model_copy_except(in, out, place);
        fclose(in);
    }
    fprintf(out, "%s\t%.6g\n", place, speed);
    /* rename() makes the update atomic for concurrent readers. */
    if (fclose(out) == 0) rename(tmp, path);
    else remove(tmp);
}

/* ---- in memory ------------------------------------------------------------- */

struct weft__model {
    char *kernel, *place;
    int known;                    /* speed holds a value (read or learned) */
    double speed;
    double on_disk;               /* what the file holds (0: nothing) */
    uint64_t written_ns;          /* when this runtime last wrote it */
    struct weft__model *next;
};

#define WRITE_EVERY_NS 1000000000ull
#define WRITE_CHANGE 0.1

/* The entry of (kernel, place), made (and read from disk) on first use;
 * NULL when memory ran out. Under models_m. */
static struct weft__model *entry(weft__engine *e, const char *kernel, const char *place)
{
    for (struct weft__model *m = e->models; m; m = m->next)
        if (strcmp(m->kernel, kernel) == 0 && strcmp(m->place, place) == 0) return m;
    struct weft__model *m = calloc(1, sizeof *m);
    if (!m || !(m->kernel = weft__strdup(kernel)) || !(m->place = weft__strdup(place))) {
        if (m) free(m->kernel);
        free(m);
        return NULL;
    }
    m->known = disk_load(kernel, place, &m->speed);
    m->on_disk = m->known ? m->speed : 0;
    m->next = e->models;
    e->models = m;
    return m;
}

int weft__model_load(weft_runtime_t *rt, const char *kernel, const char *place, double *speed)
{
    if (!kernel) return 0;
    weft__engine *e = weft__engine_of(rt);
    pthread_mutex_lock(&e->models_m);
    struct weft__model *m = entry(e, kernel, place);
    int known = m ? m->known : disk_load(kernel, place, speed);
    if (m && known) *speed = m->speed;
    pthread_mutex_unlock(&e->models_m);
    return known;
}

void weft__model_store(weft_runtime_t *rt, const char *kernel, const char *place, double speed)
{
    if (!kernel || !(speed >= WEFT__MODEL_MIN && speed <= WEFT__MODEL_MAX)) return;
    weft__engine *e = weft__engine_of(rt);
    uint64_t now = weft__now_ns();
    pthread_mutex_lock(&e->models_m);
    struct weft__model *m = entry(e, kernel, place);
    int write = !m;
    if (m) {
        m->speed = speed;
        m->known = 1;
        double moved = m->on_disk > 0 ? (speed > m->on_disk ? speed / m->on_disk : m->on_disk / speed) - 1.0 : 1.0;
        write = moved > WRITE_CHANGE && now - m->written_ns >= WRITE_EVERY_NS;
        if (write) {
            m->on_disk = speed;
            m->written_ns = now;
        }
    }
    pthread_mutex_unlock(&e->models_m);
    if (write) disk_store(kernel, place, speed); /* outside the lock: files are slow */
}

void weft__models_flush(weft_runtime_t *rt)
{
    weft__engine *e = weft__engine_of(rt);
    while (e->models) {
        struct weft__model *m = e->models;
        e->models = m->next;
        if (m->known && m->speed != m->on_disk) disk_store(m->kernel, m->place, m->speed);
        free(m->kernel);
        free(m->place);
        free(m);
    }
}
