/* test_cl_rewrite.c — the scanner that gives an operation's kernel the whole
 * range's geometry at launch (coexec/cl_rewrite.c), alone, on text: it finds
 * the entry's parameter list and body past comments, strings, attributes,
 * line splices, other kernels and names that extend the entry's; it adds the
 * hidden parameter and scopes the builtin macros to the entry; every line and
 * column of the user's source stays where it was, as #line directives tell
 * a compiler; and it refuses (the sized form is then built) wherever it
 * cannot be sure: a helper or macro path that reaches a builtin outside the
 * entry, prototypes, #include, #line, unbalanced #if branches, build options
 * naming a builtin. White-box: includes the engine's internal header. */
#include "weft_test.h"

#include "coexec/cl_rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------ */

static char *rewrite(const char *src, const char *entry, const char *options)
{
    const char *why = "unset";
    char *out = weft__cl_rewrite_entry(src, entry, options, &why);
    if (!out) fail_msg("entry '%s' refused: %s\n--- source ---\n%s", entry, why ? why : "(out of memory)", src);
    assert_null(why);
    return out;
}

static void refused(const char *src, const char *entry, const char *options, const char *reason_part)
{
    weft__cl_entry_loc loc;
    const char *why = weft__cl_find_entry(src, entry, options, &loc);
    if (!why) fail_msg("entry '%s' was accepted, expected a refusal (%s)\n--- source ---\n%s", entry, reason_part, src);
    wt_assert_contains(why, reason_part);
    const char *why2 = NULL;
    char *out = weft__cl_rewrite_entry(src, entry, options, &why2);
    assert_null(out);
    assert_string_equal(why2, why);
}

/* Offset of the n-th (from 0) occurrence of needle in hay, which must exist. */
static size_t find_nth(const char *hay, const char *needle, int n)
{
    const char *p = hay;
    for (int k = 0;; k++) {
        p = strstr(p, needle);
        if (!p) fail_msg("'%s' occurs fewer than %d times in:\n%s", needle, n + 1, hay);
        if (k == n) return (size_t)(p - hay);
        p += 1;
    }
}

/* Line (from 1) and column (bytes, from 0) of offset off as a compiler
 * presumes them: physical lines, renumbered by "#line N" directives. */
static void presumed(const char *s, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, start = 0;
    for (size_t i = 0; i < off; i++) {
        if (s[i] != '\n') continue;
        size_t n;
        if (sscanf(s + start, "#line %zu", &n) == 1 && strncmp(s + start, "#line ", 6) == 0) l = n;
        else l++;
        start = i + 1;
    }
    *line = l;
    *col = off - start;
}

/* Every occurrence of every marker (tokens like LINE_MARK_<k>) is at the
 * same presumed line and column in out as in src. */
static void same_positions(const char *src, const char *out, const char *const *marks, size_t nmarks)
{
    for (size_t m = 0; m < nmarks; m++) {
        size_t a = find_nth(src, marks[m], 0), b = find_nth(out, marks[m], 0);
        size_t la, ca, lb, cb;
        presumed(src, a, &la, &ca);
        presumed(out, b, &lb, &cb);
        if (la != lb || ca != cb)
            fail_msg("'%s' is at %zu:%zu in the source but %zu:%zu in the rewrite:\n%s", marks[m], la, ca, lb, cb,
                     out);
    }
}

/* The macros are defined right before the entry's name and undefined right
 * after its body: the entry's body (and only it, of the kernels) sees them. */
static void scoped_to(const char *out, const char *entry_head, const char *after_body)
{
    size_t def = find_nth(out, "#define get_global_size", 0), head = find_nth(out, entry_head, 0);
    size_t undef = find_nth(out, "#undef get_global_size", 0), tail = find_nth(out, after_body, 0);
    assert_true(def < head);
    assert_true(head < undef);
    assert_true(undef < tail);
    /* Only once each. */
    assert_null(strstr(out + def + 1, "#define get_global_size"));
    assert_null(strstr(out + undef + 1, "#undef get_global_size"));
}

/* ---- found, rewritten ---------------------------------------------------------- */

static void simple_kernel(void **state)
{
    (void)state;
    static const char src[] = "__kernel void k(__global int *o, ulong n)\n"
                              "{\n"
                              "    size_t i = get_global_id(0);\n"
                              "    if (i < n) o[i] = (int)get_group_id(0) + MARK_A;\n"
                              "}\n"
                              "MARK_B\n";
    weft__cl_entry_loc loc;
    assert_null(weft__cl_find_entry(src, "k", NULL, &loc));
    assert_int_equal(loc.name, find_nth(src, "k(", 0));
    assert_int_equal(loc.params_close, find_nth(src, ")", 0));
    assert_int_equal(loc.params, 1);
    assert_int_equal(loc.body_open, find_nth(src, "{", 0));
    assert_int_equal(loc.body_end, find_nth(src, "}", 0) + 1);
    char *out = rewrite(src, "k", NULL);
    wt_assert_contains(out, "k(__global int *o, ulong n, ulong4 weft__geometry)\n");
    wt_assert_contains(out, "#define get_global_size(d) ((size_t)((d) == 0 ? weft__geometry.s0 : (d) == 1 ? "
                            "weft__geometry.s1 : 1))\n");
    wt_assert_contains(out, "#define get_global_offset(d)");
    wt_assert_contains(out, "#define get_global_linear_id()");
    scoped_to(out, "k(__global", "MARK_B");
    static const char *const marks[] = {"k(__global", "size_t i", "MARK_A", "MARK_B", "{\n", "}\n"};
    same_positions(src, out, marks, 6);
    /* No size of any range is in it: the same text for every range. */
    assert_null(strstr(out, "WEFT_GLOBAL_SIZE"));
    free(out);
}

static void comments_and_strings(void **state)
{
    (void)state;
    static const char src[] = "/* __kernel void k(int a) { } — a kernel in a comment */\n"
                              "// __kernel void k(int b) {\n"
                              "__kernel void k(__global int *o /* ) { */, int n // )\n"
                              "                )\n"
                              "{\n"
                              "    printf(\"k( ) { } }}} %d\\n\", n); /* } */\n"
                              "    char c = '}'; char q = '\\'';\n"
                              "    o[0] = MARK_A; // }\n"
                              "}\n"
                              "__kernel void other(__global int *o) { o[0] = get_group_id(0); } MARK_B\n";
    weft__cl_entry_loc loc;
    assert_null(weft__cl_find_entry(src, "k", NULL, &loc));
    assert_int_equal(loc.params_close, find_nth(src, "                )", 0) + 16);
    assert_int_equal(loc.body_end, find_nth(src, "}\n__kernel void other", 0) + 1);
    char *out = rewrite(src, "k", NULL);
    wt_assert_contains(out, "int n // )\n                , ulong4 weft__geometry)\n");
    scoped_to(out, "k(__global", "__kernel void other");
    static const char *const marks[] = {"k(__global", "printf", "MARK_A", "__kernel void other", "MARK_B"};
    same_positions(src, out, marks, 5);
    free(out);
}

static void attributes(void **state)
{
    (void)state;
    static const char src[] =
        "__kernel __attribute__((reqd_work_group_size(64, 1, 1))) __attribute__((vec_type_hint(float4)))\n"
        "void k(__global float *x) __attribute__((noinline))\n"
        "{\n"
        "    x[get_global_id(0)] = (float)get_num_groups(0);\n"
        "}\n";
    char *out = rewrite(src, "k", NULL);
    wt_assert_contains(out, "void \n#define get_global_size");
    wt_assert_contains(out, "k(__global float *x, ulong4 weft__geometry) __attribute__((noinline))\n");
    static const char *const marks[] = {"__attribute__((reqd", "k(__global", "x[get_global_id"};
    same_positions(src, out, marks, 3);
    /* The column of the name is kept: blanks up to it after the #line. */
    wt_assert_contains(out, "#line 2\n     k(__global");
    free(out);
}

static void several_kernels_and_prefixes(void **state)
{
    (void)state;
    static const char src[] = "__kernel void kk(__global int *o) { o[get_group_id(0)] = 1; }\n"
                              "kernel void k2(__global int *o) { o[get_group_id(0)] = 2; }\n"
                              "kernel void k(__global int *o) { o[get_group_id(0)] = 3; }\n"
                              "__kernel void k_(__global int *o) { o[get_global_size(0)] = 4; }\n";
    weft__cl_entry_loc loc;
    assert_null(weft__cl_find_entry(src, "k", NULL, &loc));
    assert_int_equal(loc.name, find_nth(src, " k(__global", 0) + 1);
    char *out = rewrite(src, "k", NULL);
    wt_assert_contains(out, "k(__global int *o, ulong4 weft__geometry) { o[get_group_id(0)] = 3; }");
    wt_assert_contains(out, "kk(__global int *o) {");
    wt_assert_contains(out, "k2(__global int *o) {");
    wt_assert_contains(out, "k_(__global int *o) {");
    scoped_to(out, "k(__global int *o, ulong4", "__kernel void k_");
    /* The other kernels see the real builtins: they are outside the macros. */
    assert_true(find_nth(out, "k2(__global", 0) < find_nth(out, "#define get_global_size", 0));
    assert_null(strstr(out, "kk(__global int *o, ulong4"));
    assert_null(strstr(out, "k2(__global int *o, ulong4"));
    assert_null(strstr(out, "k_(__global int *o, ulong4"));
    free(out);

    /* Each of them as the entry. */
    static const char *const names[] = {"kk", "k2", "k_"};
    static const char *const heads[] = {"kk(__global int *o, ulong4", "k2(__global int *o, ulong4",
                                        "k_(__global int *o, ulong4"};
    for (int i = 0; i < 3; i++) {
        out = rewrite(src, names[i], NULL);
        wt_assert_contains(out, heads[i]);
        assert_true(find_nth(out, "#define get_global_size", 0) < find_nth(out, heads[i], 0));
        assert_true(find_nth(out, heads[i], 0) < find_nth(out, "#undef get_global_size", 0));
        free(out);
    }
    /* A name no kernel has; one that only prefixes or extends another's. */
    refused(src, "k3", NULL, "no definition");
    refused(src, "k_x", NULL, "no definition");
}

static void empty_and_void_parameters(void **state)
{
    (void)state;
    static const char empty[] = "__kernel void k() { }\n";
    char *out = rewrite(empty, "k", NULL);
    wt_assert_contains(out, "k(ulong4 weft__geometry) { }");
    free(out);
    static const char with_void[] = "__kernel void k( void ) { }\n";
    out = rewrite(with_void, "k", NULL);
    wt_assert_contains(out, "k( ulong4 weft__geometry ) { }");
    free(out);
    weft__cl_entry_loc loc;
    assert_null(weft__cl_find_entry(with_void, "k", NULL, &loc));
    assert_int_equal(loc.params, -1);
    assert_int_equal(loc.void_begin, find_nth(with_void, "void )", 0));
    assert_int_equal(loc.void_end, loc.void_begin + 4);
    assert_null(weft__cl_find_entry(empty, "k", NULL, &loc));
    assert_int_equal(loc.params, 0);
}

static void line_splices_and_crlf(void **state)
{
    (void)state;
    /* The name follows a splice; a splice inside the parameter list. */
    static const char src[] = "__kernel void \\\n"
                              "k(__global int *o, \\\n"
                              "  int n)\r\n"
                              "{\r\n"
                              "    o[0] = n + MARK_A;\r\n"
                              "}\r\n"
                              "MARK_B\r\n";
    char *out = rewrite(src, "k", NULL);
    wt_assert_contains(out, "__kernel void \\\n\n#define get_global_size");
    wt_assert_contains(out, "  int n, ulong4 weft__geometry)\r\n");
    static const char *const marks[] = {"k(__global", "int n)", "MARK_A", "MARK_B"};
    const char *const out_marks[] = {"k(__global", "int n, ulong4", "MARK_A", "MARK_B"};
    for (int i = 0; i < 4; i++) {
        size_t la, ca, lb, cb;
        presumed(src, find_nth(src, marks[i], 0), &la, &ca);
        presumed(out, find_nth(out, out_marks[i], 0), &lb, &cb);
        if (la != lb || ca != cb) fail_msg("'%s' at %zu:%zu, rewritten at %zu:%zu:\n%s", marks[i], la, ca, lb, cb, out);
    }
    free(out);
}

static void macros_and_helpers_allowed(void **state)
{
    (void)state;
    /* A macro that names a builtin is expanded inside the entry: fine. A
     * helper that does not use the range-dependent builtins: fine. Another
     * kernel, never called, using them: fine. Conditional code that keeps
     * braces balanced: fine. */
    static const char src[] = "#define GID get_group_id(0)\n"
                              "#define LID(d) get_local_id(d)\n"
                              "#define TWICE(x) (2 * (x))\n"
                              "inline int helper(int x) { return x + (int)get_local_id(0) + (int)get_global_id(0); }\n"
                              "__kernel void unrelated(__global int *o) { o[get_num_groups(0)] = GID; }\n"
                              "__kernel void k(__global int *o)\n"
                              "{\n"
                              "#ifdef FAST\n"
                              "    if (1) { o[1] = 1; }\n"
                              "#else\n"
                              "    if (2) { o[1] = 2; }\n"
                              "#endif\n"
                              "    o[GID] = TWICE(helper(LID(0)));\n"
                              "}\n"
                              "MARK_B\n";
    char *out = rewrite(src, "k", NULL);
    scoped_to(out, "k(__global int *o, ulong4", "MARK_B");
    free(out);
    /* Options with plain macros are fine too. */
    out = rewrite(src, "k", "-DFAST -DN=64 -cl-mad-enable");
    free(out);
}

/* ---- refused: the sized form is built instead -------------------------------------- */

/* A source the entry form must refuse, and the part of the reason it gives. */
typedef struct refusal {
    const char *src, *entry, *options, *reason;
} refusal;

#define K "__kernel void k(__global int *o)"
#define CALLS "function the kernel may call"

/* A builtin reached outside the entry's own body. */
static const refusal REACHED[] = {
    /* a helper; a helper's helper */
    {"size_t gid(void) { return get_group_id(0); }\n" K " { o[0] = gid(); }\n", "k", NULL, CALLS},
    {"size_t b(void) { return get_global_size(0); }\nsize_t a(void) { return b(); }\n" K " { o[0] = a(); }\n", "k",
     NULL, CALLS},
    /* a macro that calls a helper; a helper that uses a macro naming a builtin */
    {"size_t lin(void) { return get_global_linear_id(); }\n#define LIN lin()\n" K " { o[0] = LIN; }\n", "k", NULL,
     CALLS},
    {"#define OFF get_global_offset(0)\nsize_t off(void) { return OFF; }\n" K " { o[0] = off(); }\n", "k", NULL, CALLS},
    /* a function a macro makes at top level */
    {"#define MAKE(name) size_t name(void) { return get_num_groups(0); }\nMAKE(ng)\n" K " { o[0] = ng(); }\n", "k",
     NULL, CALLS},
    /* build options that name a helper using a builtin, or a builtin */
    {"size_t gid(void) { return get_group_id(0); }\n" K " { o[0] = CALL; }\n", "k", "-DCALL=gid()", CALLS},
    {K " { o[0] = X; }\n", "k", "-DX=get_group_id(0)", CALLS},
    /* code outside any function */
    {"#define G get_group_id(0)\nG\n" K " { }\n", "k", NULL, "outside any function"},
};

/* Sources whose structure the scan cannot be sure of. */
static const refusal UNSURE[] = {
    {K ";\n" K " { }\n", "k", NULL, "named elsewhere"},
    {K " { }\n__kernel void j(__global int *o) { k(o); }\n", "k", NULL, "named elsewhere"},
    {"#define ENTRY k\n" K " { }\n", "k", NULL, "named elsewhere"},
    {"#ifdef A\n" K " { }\n#else\n__kernel void k(__global long *o) { }\n#endif\n", "k", NULL,
     "more than one definition"},
    {"#ifdef A\n" K " {\n#else\n__kernel void k(__global long *o) {\n#endif\n}\n", "k", NULL, "#if/#ifdef branch"},
    /* a branch that opens a block its sibling opens too */
    {K "\n{\n#ifdef A\n    if (1) {\n#else\n    if (2) {\n#endif\n    }\n}\n", "k", NULL, "#if/#ifdef branch"},
    {"__kernel void k(__global int *o\n#ifdef A\n, int n\n#endif\n) { }\n", "k", NULL, "directive between"},
    {"#include \"helpers.h\"\n" K " { }\n", "k", NULL, "includes other files"},
    {K " { }\n", "k", "-include helpers.h", "includes other files"},
    {"#line 40\n" K " { }\n", "k", NULL, "#line"},
    {K " { o[0] = 1; \n", "k", NULL, "unbalanced"},
    {K " { } /* open\n", "k", NULL, "unterminated comment"},
    {"#define get_global_size(d) 4\n" K " { }\n", "k", NULL, "macro of the name"},
    {"#undef get_group_id\n" K " { }\n", "k", NULL, "macro of the name"},
    {K " { int weft__geometry = 0; }\n", "k", NULL, "weft__geometry"},
    {K " { }\n", "k", "-Dweft__geometry=1", "weft__geometry"},
    {"#define KNAME k\n__kernel void KNAME(__global int *o) { }\n", "k", NULL, "no definition"},
    {"__kernel void KNAME(__global int *o) { }\n", "k", "-DKNAME=k", "no definition"},
    {"", "k", NULL, "no definition"},
    /* the name written across a backslash-newline (found by fuzzing) */
    {"__kernel void a\\\ndd(__global int *o) { }\n", "add", NULL, "line splice"},
};

static void refused_all(const refusal *r, size_t n)
{
    for (size_t i = 0; i < n; i++) refused(r[i].src, r[i].entry, r[i].options, r[i].reason);
}

static void helpers_reaching_builtins_refused(void **state)
{
    (void)state;
    refused_all(REACHED, sizeof REACHED / sizeof *REACHED);
    /* But a helper the entry never reaches is no reason. */
    static const char unused[] = "size_t gid(void) { return get_group_id(0); }\n" K " { o[0] = 1; }\n"
                                 "__kernel void other(__global int *o) { o[0] = gid(); }\n";
    free(rewrite(unused, "k", NULL));
    refused(unused, "other", NULL, CALLS);
}

static void unsure_sources_refused(void **state)
{
    (void)state;
    refused_all(UNSURE, sizeof UNSURE / sizeof *UNSURE);
}

/* ---- the sized form -------------------------------------------------------------- */

static void sized_form(void **state)
{
    (void)state;
    static const char src[] = "__kernel void k(__global int *o) { o[0] = MARK_A; }\n";
    char *out = weft__cl_sized_source(src, 1024, 3);
    assert_non_null(out);
    wt_assert_contains(out, "#define WEFT_GLOBAL_SIZE_0 1024UL\n#define WEFT_GLOBAL_SIZE_1 3UL\n");
    wt_assert_contains(out, "#define get_global_offset(d)");
    wt_assert_contains(out, "#define get_global_linear_id()");
    wt_assert_contains(out, "#line 1\n__kernel void k(__global int *o)");
    static const char *const marks[] = {"MARK_A"};
    same_positions(src, out, marks, 1);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_kernel),
        cmocka_unit_test(comments_and_strings),
        cmocka_unit_test(attributes),
        cmocka_unit_test(several_kernels_and_prefixes),
        cmocka_unit_test(empty_and_void_parameters),
        cmocka_unit_test(line_splices_and_crlf),
        cmocka_unit_test(macros_and_helpers_allowed),
        cmocka_unit_test(helpers_reaching_builtins_refused),
        cmocka_unit_test(unsure_sources_refused),
        cmocka_unit_test(sized_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
