/* coexec/cl_rewrite.c — the source a device place builds (cl_rewrite.h).
 *
 * A small lexer of OpenCL C (comments, string and character literals, line
 * splices, directives) feeds one scan of the source, which finds the entry's
 * definition, every function definition and every macro; a walk then follows
 * what the entry's body may reach — macros (expanded where they are used)
 * and functions (which see the real builtins) — and refuses the entry form
 * when a work-item builtin would be reached outside the entry's own body.
 * The scan is no compiler: wherever it cannot be sure, it refuses, and the
 * place builds the sized form instead. */
#include "cl_rewrite.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the text that is added ----------------------------------------------- */

/* The builtins whose values a chunk would give for itself. get_global_id is
 * absolute already (the chunk's launch has the real global offset). */
static const char *const BUILTINS[] = {"get_global_size", "get_num_groups", "get_group_id", "get_global_offset",
                                       "get_global_linear_id"};
#define NBUILTINS (sizeof BUILTINS / sizeof *BUILTINS)

/* Derived from get_global_size: the whole range starts at 0, and a chunk
 * starts on a work-group boundary. */
#define DERIVED                                                                       \
    "#define get_num_groups(d) (get_global_size(d) / get_local_size(d))\n"            \
    "#define get_group_id(d) (get_global_id(d) / get_local_size(d))\n"                \
    "#define get_global_offset(d) ((void)(d), (size_t)0)\n"                           \
    "#define get_global_linear_id() (get_global_id(1) * get_global_size(0) + get_global_id(0))\n"

static const char ENTRY_DEFINES[] =
    "#define get_global_size(d) ((size_t)((d) == 0 ? " WEFT__CL_GEOMETRY ".s0 : (d) == 1 ? " WEFT__CL_GEOMETRY
    ".s1 : 1))\n" DERIVED;
static const char ENTRY_UNDEFS[] = "#undef get_global_size\n#undef get_num_groups\n#undef get_group_id\n"
                                   "#undef get_global_offset\n#undef get_global_linear_id\n";
static const char GEOMETRY_PARAM[] = "ulong4 " WEFT__CL_GEOMETRY;

static const char SIZED_FMT[] =
    "#define WEFT_GLOBAL_SIZE_0 %zuUL\n"
    "#define WEFT_GLOBAL_SIZE_1 %zuUL\n"
    "#define get_global_size(d) ((size_t)((d) == 0 ? WEFT_GLOBAL_SIZE_0 : (d) == 1 ? WEFT_GLOBAL_SIZE_1 : 1))\n" DERIVED
    "#line 1\n";

/* Why the entry form was refused (weft__cl_find_entry's answers). */
static const char WHY_OOM[] = "out of memory";
static const char WHY_COMMENT[] = "an unterminated comment";
static const char WHY_UNBALANCED[] = "unbalanced parentheses or braces";
static const char WHY_BRANCH[] = "an #if/#ifdef branch with unbalanced parentheses or braces";
static const char WHY_INCLUDE[] = "it includes other files (#include, -include, -imacros)";
static const char WHY_LINE[] = "it has #line directives";
static const char WHY_HEAD[] = "a directive between the kernel's name and its body";
static const char WHY_NO_DEF[] = "no definition of the kernel";
static const char WHY_TWO_DEFS[] = "more than one definition of the kernel";
static const char WHY_NAMED[] = "the kernel is named elsewhere (a prototype, a call, a macro)";
static const char WHY_REACHED[] = "a function the kernel may call, or code outside any function, uses a work-item "
                                  "builtin whose value depends on the range";
static const char WHY_MACRO[] = "a macro of the name of a work-item builtin";
static const char WHY_RESERVED[] = "it uses the name " WEFT__CL_GEOMETRY;
static const char WHY_SPLICED[] = "the kernel's name is split by a line splice";

/* ---- the lexer ---------------------------------------------------------------- */

/* The length of the line splice (backslash, newline) at s[i], or 0. */
static size_t splice(const char *s, size_t i)
{
    if (s[i] != '\\') return 0;
    if (s[i + 1] == '\n') return 2;
    if (s[i + 1] == '\r' && s[i + 2] == '\n') return 3;
    return 0;
}

/* The character at *i, past any splices (*i moves onto it). */
static char at(const char *s, size_t *i)
{
    size_t k;
    while ((k = splice(s, *i))) *i += k;
    return s[*i];
}

static int ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

enum { T_EOF, T_EOL, T_IDENT, T_PUNCT, T_OTHER };

typedef struct token {
    int kind;
    char c;                       /* T_PUNCT: the character */
    int bol;                      /* first on its logical line */
    size_t b, e;                  /* raw bytes [b, e) */
    uint64_t h;                   /* T_IDENT: hash of its characters */
} token;

typedef struct lexer {
    const char *s;
    size_t i;
    int bol;                      /* only blanks and comments since the last newline */
    int open_comment;
} lexer;

/* Skip blanks and comments. In a directive (dir), stop before a newline. */
static void blanks(lexer *lx, int dir)
{
    const char *s = lx->s;
    for (;;) {
        size_t i = lx->i;
        char c = at(s, &i);
        if (c == '\n') {
            if (dir) {
                lx->i = i;
                return;
            }
            lx->bol = 1;
            lx->i = i + 1;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->i = i + 1;
        } else if (c == '/') {
            size_t j = i + 1;
            char d = at(s, &j);
            if (d == '/') { /* to the end of the logical line */
                j++;
                while (at(s, &j) && s[j] != '\n') j++;
            } else if (d == '*') { /* newlines inside leave bol as it was */
                j++;
                for (;;) {
                    char x = at(s, &j);
                    if (!x) {
                        lx->open_comment = 1;
                        break;
                    }
                    j++;
                    size_t k = j;
                    if (x == '*' && at(s, &k) == '/') {
                        j = k + 1;
                        break;
                    }
                }
            } else {
                lx->i = i;
                return;
            }
            lx->i = j;
        } else {
            lx->i = i;
            return;
        }
    }
}

/* The next token; in a directive (dir), T_EOL at its end. */
static token next(lexer *lx, int dir)
{
    blanks(lx, dir);
    const char *s = lx->s;
    size_t i = lx->i, j = i + 1, end = i + 1;
    token t = {.kind = T_PUNCT, .b = i, .bol = lx->bol};
    char c = s[i];
    lx->bol = 0;
    if (c == '\0') {
        t.kind = T_EOF;
        end = i;
    } else if (c == '\n') {
        t.kind = T_EOL;
        lx->bol = 1; /* the directive's end */
    } else if (ident_start(c)) {
        t.kind = T_IDENT;
        t.h = (FNV_OFFSET ^ (unsigned char)c) * FNV_PRIME;
        while (ident_char(at(s, &j))) {
            t.h = (t.h ^ (unsigned char)s[j]) * FNV_PRIME;
            end = ++j;
        }
    } else if ((c >= '0' && c <= '9') || (c == '.' && at(s, &j) >= '0' && s[j] <= '9')) {
        t.kind = T_OTHER; /* a pp-number */
        char prev = c;
        j = i + 1;
        for (;;) {
            char x = at(s, &j);
            int sign = (x == '+' || x == '-') && (prev == 'e' || prev == 'E' || prev == 'p' || prev == 'P');
            if (!ident_char(x) && x != '.' && !sign) break;
            prev = x;
            end = ++j;
        }
    } else if (c == '"' || c == '\'') {
        /* Unterminated: it ends with its line (as in a skipped #if 0 group). */
        t.kind = T_OTHER;
        for (;;) {
            char x = at(s, &j);
            if (!x || x == '\n') break;
            end = ++j;
            if (x == c) break;
            if (x == '\\') {
                char y = at(s, &j);
                if (y && y != '\n') end = ++j;
            }
        }
    } else {
        t.c = c;
    }
    t.e = end;
    lx->i = end;
    return t;
}

/* Token text [b, e) of base (splices skipped) equals the string w. */
static int same_text(const char *base, size_t b, size_t e, const char *w)
{
    size_t i = b;
    for (; *w; w++, i++) {
        if (i >= e || at(base, &i) != *w || i >= e) return 0;
    }
    return at(base, &i), i >= e;
}

static uint64_t hash_of(const char *w)
{
    uint64_t h = FNV_OFFSET;
    for (; *w; w++) h = (h ^ (unsigned char)*w) * FNV_PRIME;
    return h;
}

/* ---- the scan ------------------------------------------------------------------- */

/* An identifier: in code (region: -1 outside any function body, -2 a
 * function's name where it is defined, else the function whose body holds
 * it) or in a macro's replacement list. */
typedef struct ident {
    size_t b, e;
    uint64_t h;
    int region;
} ident;

typedef struct func {
    size_t name;                  /* its name in code[] */
    size_t lo, hi;                /* its body's identifiers, code[lo..hi) */
} func;

typedef struct macro {
    size_t b, e;                  /* its name */
    uint64_t h;
    size_t lo, hi;                /* its replacement list's identifiers, dtok[lo..hi) */
} macro;

typedef struct group {
    long brace, paren;            /* depths where an #if group began */
} group;

typedef struct scan {
    const char *s;
    const char *entry;
    uint64_t entry_h;
    ident *code;
    size_t ncode, capcode;
    ident *dtok;
    size_t ndtok, capdtok;
    func *funcs;
    size_t nfuncs, capfuncs;
    macro *macros;
    size_t nmacros, capmacros;
    group *groups;
    size_t ngroups, capgroups;
    long entry_func;              /* funcs[] index of the entry's definition, -1 */
    int entry_defs;
    weft__cl_entry_loc loc;
    const char *why;              /* the first reason to refuse */
} scan;

static void refuse(scan *sc, const char *why)
{
    if (!sc->why) sc->why = why;
}

/* Room for one more of elem bytes in *v (n used, *cap allocated). */
static int grow(scan *sc, void **v, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, c * elem);
    if (!p) {
        refuse(sc, WHY_OOM);
        return -1;
    }
    *v = p;
    *cap = c;
    return 0;
}

static int is_builtin(const char *base, size_t b, size_t e, uint64_t h)
{
    for (size_t k = 0; k < NBUILTINS; k++)
        if (h == hash_of(BUILTINS[k]) && same_text(base, b, e, BUILTINS[k])) return 1;
    return 0;
}

static int is_word(const char *base, const token *t, const char *w)
{
    return t->kind == T_IDENT && t->h == hash_of(w) && same_text(base, t->b, t->e, w);
}

/* An identifier of the source met in code (dir 0) or in a macro's body. */
static void add_ident(scan *sc, const token *t, int dir, int region)
{
    if (is_word(sc->s, t, WEFT__CL_GEOMETRY)) refuse(sc, WHY_RESERVED);
    ident id = {.b = t->b, .e = t->e, .h = t->h, .region = region};
    if (dir) {
        if (grow(sc, (void **)&sc->dtok, sc->ndtok, &sc->capdtok, sizeof *sc->dtok) == 0) sc->dtok[sc->ndtok++] = id;
    } else {
        if (grow(sc, (void **)&sc->code, sc->ncode, &sc->capcode, sizeof *sc->code) == 0) sc->code[sc->ncode++] = id;
    }
}

/* The rest of a directive's line. */
static void skip_line(lexer *lx)
{
    token t;
    do t = next(lx, 1);
    while (t.kind != T_EOL && t.kind != T_EOF);
}

/* #define: the macro's name and the identifiers of its replacement list
 * (its own parameters left out: they stand for the arguments, which are
 * seen where it is used). */
static void define(scan *sc, lexer *lx)
{
    token n = next(lx, 1);
    if (n.kind != T_IDENT) {
        if (n.kind != T_EOL && n.kind != T_EOF) skip_line(lx);
        return;
    }
    if (is_builtin(sc->s, n.b, n.e, n.h)) refuse(sc, WHY_MACRO);
    if (is_word(sc->s, &n, WEFT__CL_GEOMETRY)) refuse(sc, WHY_RESERVED);
    token params[64];
    size_t np = 0;
    int all_params = 1;
    size_t j = n.e;
    token t = {.kind = T_PUNCT};
    if (at(sc->s, &j) == '(') { /* function-like: '(' right after the name */
        next(lx, 1);
        for (;;) {
            t = next(lx, 1);
            if (t.kind == T_EOL || t.kind == T_EOF || (t.kind == T_PUNCT && t.c == ')')) break;
            if (t.kind != T_IDENT) continue;
            if (np < sizeof params / sizeof *params) params[np++] = t;
            else all_params = 0;
        }
    }
    macro m = {.b = n.b, .e = n.e, .h = n.h, .lo = sc->ndtok};
    if (t.kind != T_EOL && t.kind != T_EOF) {
        while ((t = next(lx, 1)).kind != T_EOL && t.kind != T_EOF) {
            if (t.kind != T_IDENT) continue;
            int param = 0;
            for (size_t k = 0; k < np && all_params && !param; k++)
                param = params[k].h == t.h && t.e - t.b == params[k].e - params[k].b &&
                        memcmp(sc->s + t.b, sc->s + params[k].b, t.e - t.b) == 0;
            if (!param) add_ident(sc, &t, 1, 0);
        }
    }
    m.hi = sc->ndtok;
    if (grow(sc, (void **)&sc->macros, sc->nmacros, &sc->capmacros, sizeof *sc->macros) == 0)
        sc->macros[sc->nmacros++] = m;
}

/* A directive, its '#' just read; brace and paren are the code's depths. */
static void directive(scan *sc, lexer *lx, long brace, long paren)
{
    const char *s = sc->s;
    token t = next(lx, 1);
    if (t.kind == T_EOL || t.kind == T_EOF) return; /* the null directive */
    if (t.kind != T_IDENT) { /* "# 12 "file"": a line marker */
        refuse(sc, WHY_LINE);
    } else if (is_word(s, &t, "define")) {
        define(sc, lx);
        return;
    } else if (is_word(s, &t, "undef")) {
        token n = next(lx, 1);
        if (n.kind == T_IDENT && is_builtin(s, n.b, n.e, n.h)) refuse(sc, WHY_MACRO);
        if (n.kind == T_EOL || n.kind == T_EOF) return;
    } else if (is_word(s, &t, "include") || is_word(s, &t, "include_next") || is_word(s, &t, "import")) {
        refuse(sc, WHY_INCLUDE);
    } else if (is_word(s, &t, "line")) {
        refuse(sc, WHY_LINE);
    } else if (is_word(s, &t, "if") || is_word(s, &t, "ifdef") || is_word(s, &t, "ifndef")) {
        if (grow(sc, (void **)&sc->groups, sc->ngroups, &sc->capgroups, sizeof *sc->groups) == 0)
            sc->groups[sc->ngroups++] = (group){brace, paren};
    } else if (is_word(s, &t, "elif") || is_word(s, &t, "else") || is_word(s, &t, "elifdef") ||
               is_word(s, &t, "elifndef") || is_word(s, &t, "endif")) {
        /* Each branch must leave the depths as its group found them. */
        if (sc->ngroups == 0 || sc->groups[sc->ngroups - 1].brace != brace ||
            sc->groups[sc->ngroups - 1].paren != paren)
            refuse(sc, WHY_BRANCH);
        if (is_word(s, &t, "endif") && sc->ngroups) sc->ngroups--;
    }
    skip_line(lx);
}

/* The top-level declaration being read (brace depth 0). */
typedef struct decl {
    int named;                    /* a name followed by '(' was seen */
    size_t name;                  /* its code[] index */
    int in_params, params_done;
    size_t nparams;               /* tokens in the parameter list */
    token first;                  /* the first of them */
    size_t params_close;
    int directive;                /* a directive since the name */
} decl;

static int is_attribute(const char *s, const token *t)
{
    return is_word(s, t, "__attribute__") || is_word(s, t, "__attribute");
}

/* One pass over the source: identifiers by region, functions, macros, the
 * entry's definition. */
static void scan_source(scan *sc)
{
    lexer lx = {.s = sc->s, .bol = 1};
    long brace = 0, paren = 0;
    decl d = {0};
    int prev_name = 0;            /* the last token was a name at depth 0 */
    size_t prev_idx = 0;
    long cur = -1;                /* the function whose body is open */
    for (;;) {
        token t = next(&lx, 0);
        if (t.kind == T_EOF) break;
        if (t.kind == T_PUNCT && t.c == '#' && t.bol) {
            directive(sc, &lx, brace, paren);
            if (d.named && brace == 0) d.directive = 1;
            prev_name = 0;
            continue;
        }
        if (brace == 0 && d.in_params && !(t.kind == T_PUNCT && t.c == ')' && paren == 1)) {
            if (d.nparams++ == 0) d.first = t;
        }
        if (t.kind == T_IDENT) {
            add_ident(sc, &t, 0, brace > 0 ? (int)cur : -1);
            prev_name = brace == 0 && paren == 0 && !is_attribute(sc->s, &t);
            prev_idx = sc->ncode - 1;
            continue;
        }
        if (t.kind == T_PUNCT && t.c == '(') {
            /* A function's name is the one before its declaration's last
             * top-level parenthesis that is no attribute's. */
            if (brace == 0 && paren == 0 && prev_name && sc->ncode) {
                d = (decl){.named = 1, .name = prev_idx, .in_params = 1};
            }
            paren++;
        } else if (t.kind == T_PUNCT && t.c == ')') {
            if (--paren < 0) {
                refuse(sc, WHY_UNBALANCED);
                paren = 0;
            }
            if (brace == 0 && paren == 0 && d.in_params) {
                d.in_params = 0;
                d.params_done = 1;
                d.params_close = t.b;
            }
        } else if (t.kind == T_PUNCT && t.c == '{') {
            if (brace == 0) {
                cur = -1;
                if (paren != 0) refuse(sc, WHY_UNBALANCED);
                if (d.named && d.params_done && paren == 0 &&
                    grow(sc, (void **)&sc->funcs, sc->nfuncs, &sc->capfuncs, sizeof *sc->funcs) == 0) {
                    cur = (long)sc->nfuncs;
                    sc->funcs[sc->nfuncs++] = (func){.name = d.name, .lo = sc->ncode};
                    ident *nm = &sc->code[d.name];
                    nm->region = -2;
                    if (nm->h == sc->entry_h && same_text(sc->s, nm->b, nm->e, sc->entry)) {
                        if (sc->entry_defs++ == 0) {
                            sc->entry_func = cur;
                            weft__cl_entry_loc *loc = &sc->loc;
                            loc->name = nm->b;
                            loc->params_close = d.params_close;
                            loc->params = d.nparams == 0 ? 0 : 1;
                            if (d.nparams == 1 && is_word(sc->s, &d.first, "void")) {
                                loc->params = -1;
                                loc->void_begin = d.first.b;
                                loc->void_end = d.first.e;
                            }
                            loc->body_open = t.b;
                        }
                        if (d.directive) refuse(sc, WHY_HEAD);
                    }
                }
            }
            brace++;
        } else if (t.kind == T_PUNCT && t.c == '}') {
            if (brace == 0) {
                refuse(sc, WHY_UNBALANCED);
            } else if (--brace == 0 && cur >= 0) {
                sc->funcs[cur].hi = sc->ncode;
                if (cur == sc->entry_func) sc->loc.body_end = t.e;
                cur = -1;
                d = (decl){0};
            }
        } else if (t.kind == T_PUNCT && t.c == ';' && brace == 0 && paren == 0) {
            d = (decl){0};
        }
        prev_name = 0;
    }
    if (lx.open_comment) refuse(sc, WHY_COMMENT);
    if (brace != 0 || paren != 0) refuse(sc, WHY_UNBALANCED);
    if (sc->ngroups != 0) refuse(sc, WHY_BRANCH);
    if (cur >= 0) sc->funcs[cur].hi = sc->ncode;
}

/* ---- what the entry reaches ------------------------------------------------- */

/* Name lookups: indices sorted by hash. */
typedef struct by_hash {
    uint64_t h;
    size_t i;
} by_hash;

static int cmp_hash(const void *a, const void *b)
{
    uint64_t x = ((const by_hash *)a)->h, y = ((const by_hash *)b)->h;
    return x < y ? -1 : x > y;
}

static size_t lower_bound(const by_hash *v, size_t n, uint64_t h)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].h < h) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Work: a function's body (out of the entry's scope), or a macro's
 * replacement list in or out of it. */
typedef struct work {
    int macro;
    int in_scope;
    size_t i;
} work;

typedef struct walk {
    scan *sc;
    by_hash *fn, *mc;             /* functions and macros by name */
    unsigned char *fn_seen, *mc_seen; /* mc_seen[2 * i + in_scope] */
    work *todo;
    size_t ntodo;
} walk;

static int same_name(const char *base, size_t b, size_t e, const scan *sc, size_t nb, size_t ne)
{
    size_t i = b, j = nb;
    for (;;) {
        int end_a = (at(base, &i), i >= e), end_b = (at(sc->s, &j), j >= ne);
        if (end_a || end_b) return end_a && end_b;
        if (base[i++] != sc->s[j++]) return 0;
    }
}

/* An identifier [b, e) of base (the source or the options) that the walk
 * reaches: in the entry's scope or not; follow: also the functions it may
 * name (not for declarations outside any function). */
static void reach(walk *w, const char *base, size_t b, size_t e, uint64_t h, int in_scope, int follow)
{
    scan *sc = w->sc;
    if (!in_scope && is_builtin(base, b, e, h)) refuse(sc, WHY_REACHED);
    for (size_t k = lower_bound(w->mc, sc->nmacros, h); k < sc->nmacros && w->mc[k].h == h; k++) {
        const macro *m = &sc->macros[w->mc[k].i];
        unsigned char *seen = &w->mc_seen[2 * w->mc[k].i + (size_t)in_scope];
        if (!*seen && same_name(base, b, e, sc, m->b, m->e)) {
            *seen = 1;
            w->todo[w->ntodo++] = (work){.macro = 1, .in_scope = in_scope, .i = w->mc[k].i};
        }
    }
    if (!follow) return;
    for (size_t k = lower_bound(w->fn, sc->nfuncs, h); k < sc->nfuncs && w->fn[k].h == h; k++) {
        const ident *nm = &sc->code[sc->funcs[w->fn[k].i].name];
        if (!w->fn_seen[w->fn[k].i] && same_name(base, b, e, sc, nm->b, nm->e)) {
            w->fn_seen[w->fn[k].i] = 1;
            w->todo[w->ntodo++] = (work){.macro = 0, .in_scope = 0, .i = w->fn[k].i};
        }
    }
}

static void reach_ident(walk *w, const ident *id, int in_scope, int follow)
{
    reach(w, w->sc->s, id->b, id->e, id->h, in_scope, follow);
}

/* The identifiers of the build options: each counts as named outside the
 * entry (a -D macro may name a helper or a builtin). "-DNAME" gives both
 * DNAME and NAME. */
static void reach_options(walk *w, const char *opt)
{
    if (strstr(opt, "-include") || strstr(opt, "-imacros")) refuse(w->sc, WHY_INCLUDE);
    for (size_t i = 0; opt[i];) {
        if (!ident_char(opt[i])) {
            i++;
            continue;
        }
        size_t b = i;
        while (ident_char(opt[i])) i++;
        for (size_t s = b; s < i && s <= b + 1; s++) {
            if (s > b && !(b > 0 && opt[b - 1] == '-' && (opt[b] == 'D' || opt[b] == 'U'))) break;
            if (!ident_start(opt[s])) continue;
            uint64_t h = FNV_OFFSET;
            for (size_t k = s; k < i; k++) h = (h ^ (unsigned char)opt[k]) * FNV_PRIME;
            if (h == hash_of(WEFT__CL_GEOMETRY) && i - s == strlen(WEFT__CL_GEOMETRY)) refuse(w->sc, WHY_RESERVED);
            if (h == w->sc->entry_h && i - s == strlen(w->sc->entry) && memcmp(opt + s, w->sc->entry, i - s) == 0)
                refuse(w->sc, WHY_NAMED);
            reach(w, opt, s, i, h, 0, 1);
        }
    }
}

/* Every function and macro the entry's body, the code outside functions and
 * the options may reach; refuses where a builtin is reached out of scope. */
static void walk_entry(scan *sc, const char *options)
{
    walk w = {.sc = sc};
    size_t nf = sc->nfuncs, nm = sc->nmacros;
    w.fn = malloc((nf ? nf : 1) * sizeof *w.fn);
    w.mc = malloc((nm ? nm : 1) * sizeof *w.mc);
    w.fn_seen = calloc(nf ? nf : 1, 1);
    w.mc_seen = calloc(nm ? 2 * nm : 1, 1);
    w.todo = malloc((nf + 2 * nm + 1) * sizeof *w.todo);
    if (!w.fn || !w.mc || !w.fn_seen || !w.mc_seen || !w.todo) {
        refuse(sc, WHY_OOM);
        goto out;
    }
    for (size_t i = 0; i < nf; i++) w.fn[i] = (by_hash){sc->code[sc->funcs[i].name].h, i};
    for (size_t i = 0; i < nm; i++) w.mc[i] = (by_hash){sc->macros[i].h, i};
    qsort(w.fn, nf, sizeof *w.fn, cmp_hash);
    qsort(w.mc, nm, sizeof *w.mc, cmp_hash);
    w.fn_seen[sc->entry_func] = 1; /* never "called": any other mention of it is refused */

    const func *entry = &sc->funcs[sc->entry_func];
    for (size_t k = entry->lo; k < entry->hi; k++) reach_ident(&w, &sc->code[k], 1, 1);
    /* Outside any function: declarations, and macros that may expand to
     * whole functions. */
    for (size_t k = 0; k < sc->ncode; k++)
        if (sc->code[k].region == -1) reach_ident(&w, &sc->code[k], 0, 0);
    /* A function whose name is a macro's may be named otherwise: reach it. */
    for (size_t f = 0; f < nf; f++) {
        const ident *name = &sc->code[sc->funcs[f].name];
        size_t k = lower_bound(w.mc, nm, name->h);
        for (; k < nm && w.mc[k].h == name->h && !w.fn_seen[f]; k++) {
            const macro *m = &sc->macros[w.mc[k].i];
            if (same_name(sc->s, name->b, name->e, sc, m->b, m->e)) {
                w.fn_seen[f] = 1;
                w.todo[w.ntodo++] = (work){.macro = 0, .in_scope = 0, .i = f};
            }
        }
    }
    if (options) reach_options(&w, options);
    while (w.ntodo > 0 && !sc->why) {
        work it = w.todo[--w.ntodo];
        if (it.macro) {
            const macro *m = &sc->macros[it.i];
            for (size_t k = m->lo; k < m->hi; k++) reach_ident(&w, &sc->dtok[k], it.in_scope, 1);
        } else {
            const func *f = &sc->funcs[it.i];
            for (size_t k = f->lo; k < f->hi; k++) reach_ident(&w, &sc->code[k], 0, 1);
        }
    }
out:
    free(w.fn);
    free(w.mc);
    free(w.fn_seen);
    free(w.mc_seen);
    free(w.todo);
}

/* The entry named anywhere but where it is defined. */
static int entry_named_elsewhere(const scan *sc)
{
    size_t def = sc->funcs[sc->entry_func].name;
    for (size_t k = 0; k < sc->ncode; k++)
        if (k != def && sc->code[k].h == sc->entry_h && same_text(sc->s, sc->code[k].b, sc->code[k].e, sc->entry))
            return 1;
    for (size_t k = 0; k < sc->ndtok; k++)
        if (sc->dtok[k].h == sc->entry_h && same_text(sc->s, sc->dtok[k].b, sc->dtok[k].e, sc->entry)) return 1;
    for (size_t k = 0; k < sc->nmacros; k++)
        if (sc->macros[k].h == sc->entry_h && same_text(sc->s, sc->macros[k].b, sc->macros[k].e, sc->entry))
            return 1;
    return 0;
}

const char *weft__cl_find_entry(const char *src, const char *entry, const char *options, weft__cl_entry_loc *loc)
{
    scan sc = {.s = src, .entry = entry, .entry_h = hash_of(entry), .entry_func = -1};
    scan_source(&sc);
    if (!sc.why) {
        if (sc.entry_defs == 0) refuse(&sc, WHY_NO_DEF);
        else if (sc.entry_defs > 1) refuse(&sc, WHY_TWO_DEFS);
        else if (entry_named_elsewhere(&sc)) refuse(&sc, WHY_NAMED);
    }
    if (!sc.why) walk_entry(&sc, options);
    /* The rewrite puts text around the name as written: spelled across a
     * backslash-newline, it is not there to be found. */
    if (!sc.why && strncmp(src + sc.loc.name, entry, strlen(entry)) != 0) refuse(&sc, WHY_SPLICED);
    if (!sc.why) *loc = sc.loc;
    free(sc.code);
    free(sc.dtok);
    free(sc.funcs);
    free(sc.macros);
    free(sc.groups);
    return sc.why;
}

/* ---- the two forms ---------------------------------------------------------- */

/* The physical line (from 1) and column (bytes from the line's start) of
 * offset off. */
static void line_col(const char *s, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, start = 0;
    for (size_t i = 0; i < off; i++)
        if (s[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = off - start;
}

/* A line marker "#line <line>\n" then col blanks: what follows is where it
 * was in the user's source. Written to out (NULL: only measured). */
static size_t put_marker(char *out, size_t line, size_t col)
{
    int n = snprintf(out, out ? 32 : 0, "#line %zu\n", line);
    if (out) memset(out + n, ' ', col);
    return (size_t)n + col;
}

/* Put n bytes of p at *o (NULL: only count). */
static void put(char **o, size_t *len, const char *p, size_t n)
{
    if (*o) {
        memcpy(*o, p, n);
        *o += n;
    }
    *len += n;
}

char *weft__cl_rewrite_entry(const char *src, const char *entry, const char *options, const char **why_not)
{
    weft__cl_entry_loc loc;
    const char *why = weft__cl_find_entry(src, entry, options, &loc);
    if (why) {
        *why_not = why == WHY_OOM ? NULL : why;
        return NULL;
    }
    *why_not = NULL;
    size_t n = strlen(src), name_line, name_col, end_line, end_col;
    line_col(src, loc.name, &name_line, &name_col);
    line_col(src, loc.body_end, &end_line, &end_col);
    /* The directives need a line of their own: the name may follow other
     * tokens, or a splice, on its line. */
    int nl = loc.name > 0 && !(src[loc.name - 1] == '\n' && !(loc.name >= 2 && src[loc.name - 2] == '\\') &&
                               !(loc.name >= 3 && src[loc.name - 2] == '\r' && src[loc.name - 3] == '\\'));
    size_t cut = loc.params == -1 ? loc.void_begin : loc.params_close;
    size_t resume = loc.params == -1 ? loc.void_end : loc.params_close;
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++) {
        char *o = out;
        size_t len = 0;
        put(&o, &len, src, loc.name);
        put(&o, &len, "\n", (size_t)nl);
        put(&o, &len, ENTRY_DEFINES, sizeof ENTRY_DEFINES - 1);
        size_t m = put_marker(o, name_line, name_col);
        if (o) o += m;
        len += m;
        put(&o, &len, src + loc.name, cut - loc.name);
        put(&o, &len, ", ", loc.params == 1 ? 2 : 0);
        put(&o, &len, GEOMETRY_PARAM, sizeof GEOMETRY_PARAM - 1);
        put(&o, &len, src + resume, loc.body_end - resume);
        put(&o, &len, "\n", 1);
        put(&o, &len, ENTRY_UNDEFS, sizeof ENTRY_UNDEFS - 1);
        m = put_marker(o, end_line, end_col);
        if (o) o += m;
        len += m;
        put(&o, &len, src + loc.body_end, n - loc.body_end + 1); /* with the '\0' */
        if (pass == 0 && !(out = malloc(len + 32))) return NULL;
    }
    return out;
}

char *weft__cl_sized_source(const char *src, size_t gs0, size_t gs1)
{
    int head = snprintf(NULL, 0, SIZED_FMT, gs0, gs1);
    size_t len = (size_t)head + strlen(src) + 1;
    char *out = malloc(len);
    if (!out) return NULL;
    snprintf(out, len, SIZED_FMT, gs0, gs1);
    strcpy(out + head, src);
    return out;
}
