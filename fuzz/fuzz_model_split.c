/* fuzz/fuzz_model_split.c — the speed-model file reader (coexec/model.c) and
 * the chunking policies (coexec/split.c) fed what it reads.
 *
 * The input is a model file. Its first line's key (up to a TAB) and a fixed
 * key are read with weft__model_read(): a speed read is finite and within
 * [WEFT__MODEL_MIN, WEFT__MODEL_MAX]. The file rewritten with an entry
 * appended (weft__model_copy_except, as a store does) must give that entry
 * back. Then the input's bytes, taken as doubles, are the speeds and chunk
 * times of a split under each policy: every group is handed exactly once,
 * the split ends, and no speed becomes NaN or infinite (UBSan catches a
 * double that does not fit a size_t). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coexec/engine.h"
#include "coexec/split.h"

#define TOTAL 512
#define PLACES 3

static int read_key(const char *text, size_t len, const char *key, double *v)
{
    if (len == 0) return 0;
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f) abort();
    int found = weft__model_read(f, key, v);
    fclose(f);
    if (found && !(*v >= WEFT__MODEL_MIN && *v <= WEFT__MODEL_MAX)) abort();
    return found;
}

/* The n-th double of the input (wrapping), whatever its bits. */
static double nth_double(const uint8_t *data, size_t size, size_t n)
{
    double d = 1.0;
    if (size >= sizeof d) memcpy(&d, data + (n * sizeof d) % (size - sizeof d + 1), sizeof d);
    return d;
}

static void split_with(const uint8_t *data, size_t size, int kind, const double *speed, const int *measured,
                       size_t chunk)
{
    weft__split sp;
    weft__split_init(&sp, kind, TOTAL, PLACES, speed, measured, chunk);
    unsigned char seen[TOTAL] = {0};
    size_t handed = 0, steps = 0;
    for (int live = 1; live;) {
        live = 0;
        for (int p = 0; p < PLACES; p++) {
            size_t gb, ge;
            if (!weft__split_next(&sp, p, &gb, &ge)) continue;
            live = 1;
            if (gb >= ge || ge > TOTAL) abort();
            for (size_t g = gb; g < ge; g++) {
                if (seen[g]) abort();
                seen[g] = 1;
            }
            handed += ge - gb;
            weft__split_record(&sp, p, ge - gb, nth_double(data, size, 7 + steps++));
            for (int q = 0; q < PLACES; q++)
                if (!isfinite(sp.speed[q]) || !(sp.speed[q] > 0)) abort();
        }
        if (steps > TOTAL) abort();
    }
    if (handed != TOTAL) abort();
    weft__split_free(&sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char key[128] = "2^5 cpu:2";
    const char *tab = memchr(text, '\t', size < sizeof key - 1 ? size : sizeof key - 1);
    if (tab && !memchr(text, '\n', (size_t)(tab - text)) && !memchr(text, '\0', (size_t)(tab - text))) {
        memcpy(key, text, (size_t)(tab - text));
        key[tab - text] = '\0';
    }
    double speed[PLACES];
    int measured[PLACES];
    measured[0] = read_key(text, size, key, &speed[0]);
    measured[1] = read_key(text, size, "2^5 cpu:2", &speed[1]);
    if (!measured[0]) speed[0] = nth_double(data, size, 0);
    if (!measured[1]) speed[1] = nth_double(data, size, 1);
    speed[2] = nth_double(data, size, 2);
    measured[2] = size & 1;

    /* A store's rewrite: the entry appended after the copied lines reads back. */
    if (*key && size) {
        char *buf = NULL;
        size_t len = 0;
        FILE *in = fmemopen(text, size, "r"), *out = open_memstream(&buf, &len);
        if (!in || !out) abort();
        weft__model_copy_except(in, out, key);
        fprintf(out, "%s\t%.6g\n", key, 1234.5);
        fclose(in);
        fclose(out);
        double v = 0;
        if (strlen(key) < 400 && (!read_key(buf, len, key, &v) || v != 1234.5)) abort();
        free(buf);
    }

    size_t chunk = size > 3 ? data[3] : 0;
    for (int kind = WEFT_POLICY_STATIC; kind <= WEFT_POLICY_ADAPTIVE; kind++)
        split_with(data, size, kind, speed, measured, chunk);
    free(text);
    return 0;
}
