/* test_ranges.c — the byte-range set that tracks which bytes of a
 * registered array each copy holds current (coexec/ranges.h), against a
 * plain byte map: thousands of random adds and removes, after each of
 * which the set must say exactly what the map says (covers, count, the
 * parts in and out, sorted, disjoint, never touching). White-box. */
#include "weft_test.h"

#include "coexec/ranges.h"

#define N 512

typedef struct collect {
    size_t lo[N], hi[N];
    size_t n;
} collect;

static int take(size_t lo, size_t hi, void *ctx)
{
    collect *c = ctx;
    c->lo[c->n] = lo;
    c->hi[c->n++] = hi;
    return 0;
}

static void same_as_map(const weft__ranges *s, const unsigned char *map)
{
    /* sorted, disjoint, not touching, inside [0, N) */
    for (size_t i = 0; i < s->n; i++) {
        assert_true(s->v[i].lo < s->v[i].hi);
        assert_true(s->v[i].hi <= N);
        if (i) assert_true(s->v[i - 1].hi < s->v[i].lo);
    }
    size_t b = 0;
    for (size_t i = 0; i < N; i++) b += map[i];
    assert_int_equal(weft__ranges_count(s, 0, N), b);
    /* the parts in and out of [lo, hi) match the map byte for byte */
    for (size_t lo = 0; lo < N; lo += 37) {
        size_t hi = lo + 101 < N ? lo + 101 : N;
        for (int in = 0; in < 2; in++) {
            collect c = {.n = 0};
            weft__ranges_each(s, lo, hi, in, take, &c);
            unsigned char seen[N] = {0};
            for (size_t k = 0; k < c.n; k++) {
                assert_true(c.lo[k] < c.hi[k]);
                if (k) assert_true(c.hi[k - 1] < c.lo[k]); /* maximal parts */
                for (size_t x = c.lo[k]; x < c.hi[k]; x++) seen[x] = 1;
            }
            for (size_t x = lo; x < hi; x++) assert_int_equal(seen[x], map[x] == in);
        }
        int all = 1;
        for (size_t x = lo; x < hi; x++) all &= map[x];
        assert_int_equal(weft__ranges_covers(s, lo, hi), all);
    }
}

static void random_against_map(void **state)
{
    (void)state;
    uint32_t r = 2463534242u;
    for (int round = 0; round < 20; round++) {
        weft__ranges s = {0};
        unsigned char map[N] = {0};
        for (int op = 0; op < 300; op++) {
            r ^= r << 13, r ^= r >> 17, r ^= r << 5;
            size_t lo = r % N, len = (r >> 9) % (round < 10 ? 16 : 200), hi = lo + len < N ? lo + len : N;
            int add = (r >> 20) % 3 != 0;
            if (add) assert_int_equal(weft__ranges_add(&s, lo, hi), 0);
            else assert_int_equal(weft__ranges_remove(&s, lo, hi), 0);
            for (size_t x = lo; x < hi; x++) map[x] = (unsigned char)add;
            same_as_map(&s, map);
        }
        weft__ranges_free(&s);
    }
}

static void edges(void **state)
{
    (void)state;
    weft__ranges s = {0};
    assert_int_equal(weft__ranges_add(&s, 5, 5), 0); /* empty: nothing */
    assert_int_equal(s.n, 0);
    assert_true(weft__ranges_covers(&s, 7, 7));
    weft__ranges_add(&s, 10, 20);
    weft__ranges_add(&s, 20, 30); /* touching: merged */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].lo, 10);
    assert_int_equal(s.v[0].hi, 30);
    weft__ranges_remove(&s, 15, 16); /* a hole: split in two */
    assert_int_equal(s.n, 2);
    assert_false(weft__ranges_covers(&s, 10, 30));
    assert_true(weft__ranges_covers(&s, 16, 30));
    weft__ranges_remove(&s, 30, 40); /* touching the end: nothing */
    assert_int_equal(weft__ranges_count(&s, 0, 100), 19);
    weft__ranges_clear(&s);
    assert_int_equal(s.n, 0);
    weft__ranges_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edges),
        cmocka_unit_test(random_against_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
