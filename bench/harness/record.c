/* bench/harness/record.c — records: one comparison of weft with its baseline,
 * its ratio, throughput, placement and goal; and the formats they print in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

const int bench_policies[BENCH_NPOLICIES] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                             WEFT_POLICY_ADAPTIVE};

bench_record *bench_append_record(bench_ctx *b, const bench_record *src)
{
    if (b->nrecords == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        bench_record *r = realloc(b->records, cap * sizeof *r);
        if (!r) return NULL;
        b->records = r;
        b->cap = cap;
    }
    bench_record *r = &b->records[b->nrecords++];
    *r = *src;
    if (!r->subject.verified) b->failures++;
    if (!r->base.verified && !r->base.missing) b->failures++;
    return r;
}

bench_record *bench_add_record(bench_ctx *b, const char *workload, const char *variant, size_t size, int threads,
                               const bench_measure *subject, const char *unit, const char *baseline,
                               const bench_measure *base, double goal)
{
    bench_record r = {.device_index = -1, .size = size, .threads = threads, .subject = *subject, .base = *base,
                      .goal = goal, .goal_kind = goal >= 1.0 ? 'x' : 't', .efficiency = NAN, .eff_cores = NAN};
    snprintf(r.workload, sizeof r.workload, "%s", workload);
    snprintf(r.variant, sizeof r.variant, "%s", variant);
    snprintf(r.baseline, sizeof r.baseline, "%s", baseline);
    snprintf(r.placement, sizeof r.placement, "cpu");
    snprintf(r.device, sizeof r.device, "%s", b->machine->cpu_model);
    snprintf(r.policy, sizeof r.policy, "-");
    bench_record_work(&r, 1.0, unit);
    r.ratio = subject->verified && base->verified && subject->s.median > 0 ? base->s.median / subject->s.median : NAN;
    return bench_append_record(b, &r);
}

void bench_record_policy(bench_record *r, int policy_kind)
{
    snprintf(r->policy, sizeof r->policy, "%s", bench_policy_name(policy_kind));
}

const char *bench_policy_name(int kind)
{
    switch (kind) {
    case WEFT_POLICY_STATIC: return "static";
    case WEFT_POLICY_DYNAMIC: return "dynamic";
    case WEFT_POLICY_GUIDED: return "guided";
    case WEFT_POLICY_ADAPTIVE: return "adaptive";
    default: return "?";
    }
}

void bench_record_place(bench_record *r, const char *device_name, int device_index)
{
    snprintf(r->placement, sizeof r->placement, "%s", device_name);
    snprintf(r->device, sizeof r->device, "%s", device_name);
    r->device_index = device_index;
}

void bench_record_all_places(const bench_ctx *b, bench_record *r, const char *placement)
{
    snprintf(r->placement, sizeof r->placement, "%s", placement);
    snprintf(r->device, sizeof r->device, "%s", b->machine->cpu_model);
    for (int i = 0; i < b->machine->ndevices; i++) {
        size_t len = strlen(r->device);
        snprintf(r->device + len, sizeof r->device - len, " + %s", b->machine->devices[i].info.name);
    }
    r->device_index = -1;
}

void bench_record_work(bench_record *r, double work_per_op, const char *unit)
{
    r->work_per_op = work_per_op;
    if (unit != r->unit) snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->throughput = r->subject.verified && r->subject.s.median > 0 ? work_per_op / r->subject.s.median : NAN;
    r->base_throughput = r->base.verified && r->base.s.median > 0 ? work_per_op / r->base.s.median : NAN;
}

int bench_record_busy(const bench_ctx *b, const bench_record *r)
{
    return isfinite(r->eff_cores) && bench_busy_machine(b->machine, r->eff_cores);
}

int bench_goal_met(const bench_record *r)
{
    return r->goal > 0 && isfinite(r->ratio) && r->ratio >= r->goal;
}

int bench_switches_goal_met(const bench_record *r)
{
    return r->switches_goal > 0 && isfinite(r->subject.switches_per_op) &&
           r->subject.switches_per_op < r->switches_goal;
}

bench_measure bench_missing_measure(void)
{
    return (bench_measure){.s = {NAN, NAN, NAN, 0}, .missing = 1, .switches_per_op = NAN};
}

const char *bench_fmt_switches(const bench_measure *m, char *buf, size_t cap)
{
    double v = m->switches_per_op;
    if (!m->verified || !isfinite(v)) snprintf(buf, cap, "-");
    else if (v == 0) snprintf(buf, cap, "0");
    else if (v >= 0.001) snprintf(buf, cap, "%.3f", v);
    else snprintf(buf, cap, "%.1e", v);
    return buf;
}

const char *bench_fmt_time(double s, char *buf, size_t cap)
{
    if (!isfinite(s)) snprintf(buf, cap, "-");
    else if (s < 1e-6) snprintf(buf, cap, "%.0f ns", s * 1e9);
    else if (s < 1e-3) snprintf(buf, cap, "%.2f us", s * 1e6);
    else if (s < 1.0) snprintf(buf, cap, "%.2f ms", s * 1e3);
    else snprintf(buf, cap, "%.2f s", s);
    return buf;
}

const char *bench_fmt_si(double v, char *buf, size_t cap)
{
    static const char *const pre[] = {"", "k", "M", "G", "T"};
    if (!isfinite(v)) {
        snprintf(buf, cap, "-");
        return buf;
    }
    int k = 0;
    for (; fabs(v) >= 1000.0 && k < 4; k++) v /= 1000.0;
    snprintf(buf, cap, fabs(v) >= 100 ? "%.0f%s" : fabs(v) >= 10 ? "%.1f%s" : "%.2f%s", v, pre[k]);
    return buf;
}
