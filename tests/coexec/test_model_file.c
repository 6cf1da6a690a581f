/* test_model_file.c — the speed-model file format alone (coexec/model.c,
 * white-box): a line "place<TAB>speed" per entry. Speeds that are not a
 * plain finite number in range (inf, nan, 1e308, 0, trailing text) are not
 * read; a last line without a newline is still a line, and an entry written
 * after it stays its own line; the tail of an over-long line is no entry. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coexec/engine.h"

/* Read place from text: 1 and *speed, or 0. */
static int read_text(const char *text, const char *place, double *speed)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int found = weft__model_read(f, place, speed);
    fclose(f);
    return found;
}

static void odd_speeds_are_not_read(void **state)
{
    (void)state;
    static const char *bad[] = {"inf", "-inf", "nan", "1e308", "1e16", "0", "-5", "1e-9", "12abc", "", " ",
                                "0x1p2000", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        double v = -1;
        snprintf(text, sizeof text, "2^5 cpu:2\t%s\n", bad[i]);
        if (read_text(text, "2^5 cpu:2", &v)) fail_msg("'%s' read as a speed (%g)", bad[i], v);
    }
    double v = 0;
    assert_int_equal(read_text("2^5 cpu:2\t250.5\n", "2^5 cpu:2", &v), 1);
    assert_true(v == 250.5);
    /* A bad later entry leaves the good earlier one. */
    assert_int_equal(read_text("k\t7\nk\tinf\n", "k", &v), 1);
    assert_true(v == 7);
}

static void last_line_without_newline(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(read_text("a\t1\nb\t2", "b", &v), 1);
    assert_true(v == 2);
    /* Rewriting the file (an entry for c appended after the others): b and
     * c stay two entries. */
    const char *text = "a\t1\nb\t2";
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(in);
    assert_non_null(out);
    weft__model_copy_except(in, out, "c");
    fprintf(out, "c\t3\n");
    fclose(in);
    fclose(out);
    assert_string_equal(buf, "a\t1\nb\t2\nc\t3\n");
    assert_int_equal(read_text(buf, "b", &v), 1);
    assert_true(v == 2);
    assert_int_equal(read_text(buf, "c", &v), 1);
    assert_true(v == 3);
    free(buf);
}

static void tail_of_a_long_line_is_no_entry(void **state)
{
    (void)state;
    char text[2048];
    memset(text, 'x', 1000);
    strcpy(text + 1000, "\nfake\t9\n");
    /* The same with the entry glued to the long line's end. */
    char glued[2048];
    memset(glued, 'y', 510);
    strcpy(glued + 510, "p\t5\nq\t6\n");
    double v = 0;
    assert_int_equal(read_text(text, "fake", &v), 1); /* a real line after it is read */
    assert_true(v == 9);
    assert_int_equal(read_text(glued, "p", &v), 0);
    assert_int_equal(read_text(glued, "q", &v), 1);
    assert_true(v == 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(odd_speeds_are_not_read),
        cmocka_unit_test(last_line_without_newline),
        cmocka_unit_test(tail_of_a_long_line_is_no_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
