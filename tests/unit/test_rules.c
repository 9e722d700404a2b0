/* Data-driven rule tests: tests/rules/cases/<rule-id>.yml holds input
 * records (docs/output.md shapes) and how often that rule must fire; every
 * built-in rule needs a case that fires and one that does not. Also rule
 * file error reporting (file:line:column) and the operators' edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <yaml.h>

#include "core/arena.h"
#include "core/text.h"
#include "wmihunt/detect.h"

#define CASES WH_SRC "/tests/rules/cases"

typedef struct diags {
    char msgs[4096];
    int errors;
} diags;

static void on_diag(void *ud, const wh_diag *d)
{
    diags *g = ud;
    if (d->sev == WH_SEV_ERROR) g->errors++;
    size_t n = strlen(g->msgs);
    snprintf(g->msgs + n, sizeof g->msgs - n, "%s\n", d->msg);
}

/* ---- YAML to wh_record ---- */

static bool is_int(const char *s)
{
    if (*s == '-') s++;
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

/* "2024-01-01T10:00:00Z" style (the writers' form) as a FILETIME. */
static bool parse_iso(const char *s, uint64_t *ft)
{
    int Y, M, D, h, m, sec, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &used) != 6) return false;
    const char *p = s + used;
    uint64_t frac = 0;
    int digits = 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits < 7) frac = frac * 10 + (uint64_t)(*p - '0'), digits++;
    if (strcmp(p, "Z") != 0) return false;
    while (digits++ < 7) frac *= 10;
    int64_t y = Y - (M <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468 + 134774;
    *ft = ((uint64_t)days * 86400 + (uint64_t)h * 3600 + (uint64_t)m * 60 + (uint64_t)sec) * 10000000u + frac;
    return true;
}

static wh_value to_value(wh_arena *a, yaml_document_t *doc, yaml_node_t *n)
{
    wh_value v = {.type = WH_V_NULL};
    if (!n) return v;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)n->data.scalar.value;
        bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        uint64_t ft;
        if (plain && (!strcmp(s, "null") || !strcmp(s, "~") || !*s)) return v;
        if (plain && (!strcmp(s, "true") || !strcmp(s, "false"))) return wh_v_bool(s[0] == 't');
        if (plain && is_int(s)) return s[0] == '-' ? wh_v_int(strtoll(s, NULL, 10)) : wh_v_uint(strtoull(s, NULL, 10));
        if (plain && parse_iso(s, &ft)) return wh_v_time(ft);
        return wh_v_str(wh_arena_strdup(a, s));
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        wh_value *it = wh_arena_calloc(a, k ? k : 1, sizeof(wh_value));
        for (size_t i = 0; i < k; i++)
            it[i] = to_value(a, doc, yaml_document_get_node(doc, n->data.sequence.items.start[i]));
        v.type = WH_V_ARRAY;
        v.as.arr.items = it;
        v.as.arr.n = k;
        return v;
    }
    size_t k = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    wh_field *f = wh_arena_calloc(a, k ? k : 1, sizeof(wh_field));
    for (size_t i = 0; i < k; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        f[i].name = wh_arena_strdup(a, (const char *)yaml_document_get_node(doc, p->key)->data.scalar.value);
        f[i].v = to_value(a, doc, yaml_document_get_node(doc, p->value));
    }
    v.type = WH_V_OBJECT;
    v.as.obj.fields = f;
    v.as.obj.n = k;
    return v;
}

static yaml_node_t *get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* A record: artifact, source, offset, host are the header; the rest are fields. */
static wh_record to_record(wh_arena *a, yaml_document_t *doc, yaml_node_t *n)
{
    wh_record r = {.offset = WH_NO_OFFSET};
    wh_value o = to_value(a, doc, n);
    wh_field *f = wh_arena_calloc(a, o.as.obj.n ? o.as.obj.n : 1, sizeof(wh_field));
    size_t k = 0;
    for (size_t i = 0; i < o.as.obj.n; i++) {
        const wh_field *x = &o.as.obj.fields[i];
        if (!strcmp(x->name, "artifact")) r.artifact = x->v.as.str.s;
        else if (!strcmp(x->name, "source")) r.source = x->v.as.str.s;
        else if (!strcmp(x->name, "host")) r.host = x->v.as.str.s;
        else if (!strcmp(x->name, "offset") && x->v.type == WH_V_UINT) r.offset = x->v.as.u;
        else {
            f[k++] = *x;
            if (x->v.type == WH_V_TIME && r.nts < WH_RECORD_MAX_TS) r.ts[r.nts++] = (wh_timestamp){x->v.as.ft, x->name};
        }
    }
    if (!r.source) r.source = "case";
    r.fields = f;
    r.nfields = k;
    return r;
}

/* ---- running cases ---- */

typedef struct tally {
    const char *rule;
    int count;
    int max_sev;
    char log[2048];
} tally;

static int on_finding(void *ud, const wh_finding *f)
{
    tally *t = ud;
    if (t->rule && !strcmp(f->rule_id, t->rule)) t->count++;
    if ((int)f->severity > t->max_sev) t->max_sev = (int)f->severity;
    size_t n = strlen(t->log);
    snprintf(t->log + n, sizeof t->log - n, "  %s [%s] %s\n", f->rule_id, wh_fsev_str(f->severity), f->why);
    assert_non_null(f->evidence);
    assert_non_null(f->title);
    return 0;
}

static const wh_rules *g_rules;

typedef struct cover {
    char id[64];
    bool fires, quiet;
} cover;

static cover g_cover[256];
static size_t g_ncover;

static int sev_of(const char *s)
{
    static const char *const n[] = {"info", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, n[i])) return i;
    return -2;
}

static void run_file(const char *path, const char *rule)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    yaml_parser_t p;
    yaml_document_t doc;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_file(&p, fp);
    if (!yaml_parser_load(&p, &doc)) fail_msg("%s: YAML error line %zu: %s", path, p.problem_mark.line + 1, p.problem);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *cases = get(&doc, root, "cases");
    assert_non_null(cases);
    cover *cv = NULL;
    for (size_t i = 0; rule && i < g_ncover; i++)
        if (!strcmp(g_cover[i].id, rule)) cv = &g_cover[i];
    for (yaml_node_item_t *it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++) {
        yaml_node_t *c = yaml_document_get_node(&doc, *it);
        yaml_node_t *nm = get(&doc, c, "name"), *fires = get(&doc, c, "fires"), *recs = get(&doc, c, "records");
        yaml_node_t *maxs = get(&doc, c, "max_severity");
        const char *name = nm ? (const char *)nm->data.scalar.value : "?";
        assert_non_null(recs);
        wh_arena *a = wh_arena_new(64u << 20);
        wh_detect *d = NULL, *dj = NULL;
        assert_int_equal(wh_detect_new(g_rules, &d), WH_OK);
        assert_int_equal(wh_detect_new(g_rules, &dj), WH_OK);
        tally t = {.rule = rule, .max_sev = -1}, tj = {.rule = rule, .max_sev = -1};
        for (yaml_node_item_t *ri = recs->data.sequence.items.start; ri < recs->data.sequence.items.top; ri++) {
            wh_record r = to_record(a, &doc, yaml_document_get_node(&doc, *ri));
            assert_int_equal(wh_detect_record(d, &r, on_finding, &t), WH_OK);
            // The same record judged apart (as a read-ahead thread does) and applied.
            const wh_detect_verdict *v = wh_detect_judge(g_rules, &r, a);
            assert_non_null(v);
            assert_int_equal(wh_detect_record_judged(dj, &r, v, on_finding, &tj), WH_OK);
        }
        assert_int_equal(wh_detect_finish(d, on_finding, &t), WH_OK);
        assert_int_equal(wh_detect_finish(dj, on_finding, &tj), WH_OK);
        if (strcmp(t.log, tj.log) != 0)
            fail_msg("%s: case '%s': judged apart, other findings:\n%s\nagainst:\n%s", path, name, tj.log, t.log);
        wh_detect_free(d);
        wh_detect_free(dj);
        wh_arena_free(a);
        if (fires) {
            int want = atoi((const char *)fires->data.scalar.value);
            if (t.count != want)
                fail_msg("%s: case '%s': %s fired %d time(s), expected %d; findings:\n%s", path, name, rule, t.count,
                         want, t.log);
            if (cv) {
                if (want > 0) cv->fires = true;
                else cv->quiet = true;
            }
        }
        if (maxs) {
            int ms = sev_of((const char *)maxs->data.scalar.value);
            if (t.max_sev > ms)
                fail_msg("%s: case '%s': a finding above %s:\n%s", path, name, (const char *)maxs->data.scalar.value,
                         t.log);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    fclose(fp);
}

static void test_builtin_loads(void **state)
{
    (void)state;
    diags g = {{0}, 0};
    wh_diag_sink sink = {.fn = on_diag, .ud = &g};
    wh_rules *r = NULL;
    assert_int_equal(wh_rules_load_builtin(&sink, &r), WH_OK);
    if (g.errors) fail_msg("builtin.yml: %s", g.msgs);
    assert_true(wh_rules_count(r) >= 40);
    wh_rules_free(r);
}

static void test_cases(void **state)
{
    (void)state;
    diags g = {{0}, 0};
    wh_diag_sink sink = {.fn = on_diag, .ud = &g};
    wh_rules *r = NULL;
    assert_int_equal(wh_rules_load_builtin(&sink, &r), WH_OK);
    g_rules = r;
    g_ncover = 0;
    for (size_t i = 0; i < wh_rules_count(r) && g_ncover < 256; i++) {
        snprintf(g_cover[g_ncover].id, sizeof g_cover[0].id, "%s", wh_rules_id(r, i));
        g_cover[g_ncover].fires = g_cover[g_ncover].quiet = false;
        g_ncover++;
    }
    DIR *dir = opendir(CASES);
    assert_non_null(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".yml")) continue;
        char path[1024], rule[256];
        snprintf(path, sizeof path, "%s/%s", CASES, e->d_name);
        snprintf(rule, sizeof rule, "%.*s", (int)(n - 4), e->d_name);
        bool known = false;
        for (size_t i = 0; i < g_ncover; i++) known |= !strcmp(g_cover[i].id, rule);
        // Files not named after a rule are scenario files (max_severity checks).
        run_file(path, known ? rule : NULL);
        files++;
    }
    closedir(dir);
    int missing = 0;
    for (size_t i = 0; i < g_ncover; i++)
        if (!g_cover[i].fires || !g_cover[i].quiet) {
            fprintf(stderr, "rule %s: %s\n", g_cover[i].id,
                    !g_cover[i].fires ? "no case that fires" : "no case that does not fire");
            missing++;
        }
    assert_int_equal(missing, 0);
    assert_true(files > 0);
    wh_rules_free(r);
    g_rules = NULL;
}

/* Loads text; returns the diagnostics and the number of rules loaded. */
static size_t load_text(const char *text, diags *g, wh_status *st)
{
    wh_diag_sink sink = {.fn = on_diag, .ud = g};
    wh_rules *r = NULL;
    *st = wh_rules_load_mem(text, strlen(text), "t.yml", &sink, &r);
    size_t n = wh_rules_count(r);
    wh_rules_free(r);
    return n;
}

static void test_errors(void **state)
{
    (void)state;
    diags g = {{0}, 0};
    wh_status st;
    // Bad YAML: the whole file is refused, with the line.
    assert_int_equal(load_text("- id: A\n  title: [unclosed\n", &g, &st), 0);
    assert_int_equal(st, WH_E_CORRUPT);
    assert_non_null(strstr(g.msgs, "t.yml:3:"));
    // Unknown operator: that rule skipped, the next one loads.
    memset(&g, 0, sizeof g);
    const char *unk = "- id: A\n  title: a\n  severity: low\n  artifact: x\n  where:\n    field: f\n    frobnicates: 1\n"
                      "- id: B\n  title: b\n  severity: low\n  artifact: x\n  where: {field: f, exists: true}\n";
    assert_int_equal(load_text(unk, &g, &st), 1);
    assert_int_equal(st, WH_OK);
    assert_int_equal(g.errors, 1);
    assert_non_null(strstr(g.msgs, "t.yml:7:5: rule A: unknown operator 'frobnicates'"));
    // Bad regex: an error with its line, not a crash.
    memset(&g, 0, sizeof g);
    const char *bre = "- id: R\n  title: r\n  severity: high\n  artifact: x\n  where: {field: f, matches: 'a(b'}\n";
    assert_int_equal(load_text(bre, &g, &st), 0);
    assert_non_null(strstr(g.msgs, "t.yml:5:"));
    assert_non_null(strstr(g.msgs, "bad regular expression"));
    // Other refusals: unknown severity, unknown key, duplicate id, missing where.
    memset(&g, 0, sizeof g);
    const char *other = "- id: S\n  title: s\n  severity: severe\n  artifact: x\n  where: {field: f, exists: true}\n"
                        "- id: K\n  title: k\n  severity: low\n  artifact: x\n  wehre: {field: f, exists: true}\n"
                        "- id: D\n  title: d\n  severity: low\n  artifact: x\n  where: {field: f, exists: true}\n"
                        "- id: D\n  title: d\n  severity: low\n  artifact: x\n  where: {field: f, exists: true}\n"
                        "- id: N\n  title: n\n  severity: low\n  artifact: x\n";
    assert_int_equal(load_text(other, &g, &st), 1);
    assert_int_equal(g.errors, 4);
    assert_non_null(strstr(g.msgs, "t.yml:3:13: rule S: severity"));
    assert_non_null(strstr(g.msgs, "t.yml:10:3: rule K: unknown key 'wehre'"));
    assert_non_null(strstr(g.msgs, "rule D: duplicate id"));
    assert_non_null(strstr(g.msgs, "rule N: missing 'where'"));
    // Not a list at all.
    memset(&g, 0, sizeof g);
    assert_int_equal(load_text("just text\n", &g, &st), 0);
    assert_int_equal(st, WH_E_CORRUPT);
    // Empty file: no rules, no error.
    memset(&g, 0, sizeof g);
    assert_int_equal(load_text("", &g, &st), 0);
    assert_int_equal(st, WH_OK);
    assert_int_equal(g.errors, 0);
}

/* Operators on hand-made records: arrays, nested objects, numbers, base64. */
static int count_fn(void *ud, const wh_finding *f)
{
    (void)f;
    (*(int *)ud)++;
    return 0;
}

static int fire_count(const char *rule_text, const wh_record *rec)
{
    diags g = {{0}, 0};
    wh_diag_sink sink = {.fn = on_diag, .ud = &g};
    wh_rules *r = NULL;
    assert_int_equal(wh_rules_load_mem(rule_text, strlen(rule_text), "op.yml", &sink, &r), WH_OK);
    if (g.errors) fail_msg("%s", g.msgs);
    wh_detect *d = NULL;
    assert_int_equal(wh_detect_new(r, &d), WH_OK);
    int n = 0;
    assert_int_equal(wh_detect_record(d, rec, count_fn, &n), WH_OK);
    assert_int_equal(wh_detect_finish(d, count_fn, &n), WH_OK);
    wh_detect_free(d);
    wh_rules_free(r);
    return n;
}

static void test_operators(void **state)
{
    (void)state;
    wh_value items[2] = {wh_v_str("alpha"), wh_v_str("UmVnaXN0ZXIgV3JpdGVQcm9jZXNzTWVtb3J5IGhlcmU=")};
    wh_value arr = {.type = WH_V_ARRAY, .as.arr = {items, 2}};
    wh_field inner[2] = {{"Name", wh_v_str("x")}, {"Size", wh_v_uint(4096)}};
    wh_value obj = {.type = WH_V_OBJECT, .as.obj = {inner, 2}};
    wh_field f[3] = {{"list", arr}, {"obj", obj}, {"n", wh_v_str("0x3e7")}};
    wh_record rec = {.artifact = "t.rec", .source = "s", .offset = 1, .nfields = 3, .fields = f};
#define R(w) "- {id: T, title: t, severity: low, artifact: 't.*', where: " w "}\n"
    assert_int_equal(fire_count(R("{field: list, equals: alpha}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: list, equals: ALPHA}"), &rec), 0);
    assert_int_equal(fire_count(R("{field: list, iequals: ALPHA}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: obj.name, in: [y, X]}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: obj.Size, gt: 4000}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: obj.Size, lte: 4000}"), &rec), 0);
    assert_int_equal(fire_count(R("{field: n, equals: 0x3e7}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: n, gte: 999}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: obj, icontains: X}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: missing, exists: false}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: list, length_gt: 40}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: list, base64of: WriteProcessMemory}"), &rec), 1);
    assert_int_equal(fire_count(R("{field: list, base64of: ReadProcessMemory}"), &rec), 0);
    assert_int_equal(fire_count(R("{field: list, matches: '^al.ha$'}"), &rec), 1);
    assert_int_equal(fire_count(R("{not: {field: list, startswith: al}}"), &rec), 0);
    assert_int_equal(fire_count(R("{any: [{field: list, endswith: zz}, {field: source, equals: s}]}"), &rec), 1);
    assert_int_equal(fire_count(R("{all: [{field: list, endswith: ha}, {field: artifact, equals: x}]}"), &rec), 0);
    // A regex that backtracks without end gives up (no match), not a hang.
    assert_int_equal(fire_count(R("{field: list, matches: '(a|aa)+$b'}"), &rec), 0);
#undef R
}

/* A value built to make a rule's pattern backtrack past PCRE2's match limit
 * does not pass as "no match": the engine says the rule gave up. */
static int ids_fn(void *ud, const wh_finding *f)
{
    char *ids = ud;
    strcat(ids, f->rule_id);
    strcat(ids, " ");
    return 0;
}

static void test_regex_gave_up(void **state)
{
    (void)state;
    char evil[64];
    memset(evil, 'a', 40);
    strcpy(evil + 40, "!");
    wh_field f[1] = {{"cmd", wh_v_str(evil)}};
    wh_record rec = {.artifact = "t.rec", .source = "s", .offset = 1, .nfields = 1, .fields = f};
    static const char text[] = "- {id: T-RE, title: t, severity: high, artifact: 't.*', where: {field: cmd, matches: '^(a+)+$'}}\n"
                               "- {id: T-OK, title: t, severity: low, artifact: 't.*', where: {field: cmd, contains: '!'}}\n";
    wh_diag_sink sink = {0};
    wh_rules *r = NULL;
    assert_int_equal(wh_rules_load_mem(text, strlen(text), "re.yml", &sink, &r), WH_OK);
    wh_detect *d = NULL;
    assert_int_equal(wh_detect_new(r, &d), WH_OK);
    char ids[256] = "";
    assert_int_equal(wh_detect_record(d, &rec, ids_fn, ids), WH_OK);
    assert_string_equal(ids, "WH-ENG-001 T-OK ");
    // Judged apart (a read-ahead thread), the same.
    wh_arena *a = wh_arena_new(0);
    const wh_detect_verdict *v = wh_detect_judge(r, &rec, a);
    assert_non_null(v);
    ids[0] = 0;
    assert_int_equal(wh_detect_record_judged(d, &rec, v, ids_fn, ids), WH_OK);
    assert_string_equal(ids, "WH-ENG-001 T-OK ");
    wh_arena_free(a);
    // A value the pattern decides quickly: no such finding.
    f[0].v = wh_v_str("aaaa");
    ids[0] = 0;
    assert_int_equal(wh_detect_record(d, &rec, ids_fn, ids), WH_OK);
    assert_string_equal(ids, "T-RE ");
    wh_detect_free(d);
    wh_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_loads),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_regex_gave_up),
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
