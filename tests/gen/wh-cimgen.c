/* wh-cimgen: writes synthetic WMI CIM repositories (test fixtures and
 * benchmark input) with tests/gen/cimgen and says what it wrote.
 *
 *   wh-cimgen [options] demo DIR      Windows defaults + two malicious subscriptions (v2.2)
 *   wh-cimgen [options] xp DIR        the same content in the XP format (v2.1)
 *   wh-cimgen [options] deleted DIR   demo, then the root\default subscription deleted
 *   wh-cimgen [options] hostile DIR   defaults + a consumer with hostile strings (cimgen.h)
 *   wh-cimgen [options] big DIR MB    defaults + bulk data until OBJECTS.DATA >= MB MiB
 *   wh-cimgen [options] stash DIR PE CERT
 *                                     defaults + payloads stored in class defaults and an
 *                                     instance (tests/gen/cimstash.h): base64 of file PE, a
 *                                     script, PE as uint8[], base64 of file CERT (benign)
 *   wh-cimgen [options] subs DIR SUB...
 *                                     defaults + the subscriptions given, each SUB being
 *       live|deleted NS FILTER QUERY CONSUMER_CLASS CONSUMER_NAME WRITTEN [PROP VALUE]...
 *     (WRITTEN: YYYY-MM-DDTHH:MM:SS[.ffffff]Z; VALUE all digits: an integer,
 *     true/false: a boolean, else a string; a deleted subscription's filter,
 *     consumer and binding are left in an unallocated page, as `cim recover`
 *     finds a subscription removed with wmic or Remove-WmiObject)
 *
 * Options: --seed N (default 1), --xp (v2.1 for deleted/big), --fs (XP:
 * write into DIR/FS), --root0 (v2.2: index root at logical page 0, for
 * readers that take child pointer 0 as "none"), --no-shuffle,
 * --model-json FILE (the model written, as JSON: what a reader must find;
 * tests/gen/check_refreader.py compares a reference reader with it).
 * Exit status: 0 written, 1 write failed, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gen/cimgen.h"
#include "gen/cimstash.h"

static int usage(void)
{
    fputs("usage: wh-cimgen [--seed N] [--xp] [--fs] [--root0] [--no-shuffle] [--model-json FILE]\n"
          "                 demo|xp|deleted|hostile DIR\n"
          "       wh-cimgen [same options] big DIR MB\n"
          "       wh-cimgen [same options] stash DIR PE CERT\n"
          "       wh-cimgen [same options] subs DIR {live|deleted NS FILTER QUERY CONSUMER_CLASS\n"
          "                 CONSUMER_NAME WRITTEN [PROP VALUE]...}...\n",
          stderr);
    return 2;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_elem(FILE *f, uint32_t type, const cimgen_val *v, size_t i)
{
    uint32_t t = type & CIMGEN_TYPE_MASK;
    switch (v->kind) {
    case CIMGEN_K_STR:
        json_str(f, v->array ? v->as[i] : v->s);
        break;
    case CIMGEN_K_BOOL:
        fputs((v->array ? v->ab[i] : v->b) ? "true" : "false", f);
        break;
    case CIMGEN_K_REAL:
        fprintf(f, "%.17g", t == CIMGEN_REAL32 ? (double)(float)(v->array ? v->ad[i] : v->d) : (v->array ? v->ad[i] : v->d));
        break;
    default: {
        // Integers as the type reads them (width and sign).
        uint64_t u = v->kind == CIMGEN_K_UINT ? (v->array ? v->au[i] : v->u) : (uint64_t)(v->array ? v->ai[i] : v->i);
        unsigned w = t == CIMGEN_SINT8 || t == CIMGEN_UINT8 ? 8
                     : t == CIMGEN_SINT16 || t == CIMGEN_UINT16 || t == CIMGEN_CHAR16 ? 16
                     : t == CIMGEN_SINT32 || t == CIMGEN_UINT32 ? 32 : 64;
        if (w < 64) u &= (1ull << w) - 1;
        bool sgn = t == CIMGEN_SINT8 || t == CIMGEN_SINT16 || t == CIMGEN_SINT32 || t == CIMGEN_SINT64;
        if (sgn && w < 64 && (u >> (w - 1)) & 1) u |= ~((1ull << w) - 1);
        if (sgn)
            fprintf(f, "%lld", (long long)u);
        else
            fprintf(f, "%llu", (unsigned long long)u);
    }
    }
}

static void json_val(FILE *f, uint32_t type, const cimgen_val *v)
{
    if (!v || v->kind == CIMGEN_K_NULL || v->kind == CIMGEN_K_UNSET) {
        fputs("null", f);
        return;
    }
    if (!v->array) {
        json_elem(f, type, v, 0);
        return;
    }
    fputc('[', f);
    for (size_t i = 0; i < v->n; i++) {
        if (i) fputc(',', f);
        json_elem(f, type, v, i);
    }
    fputc(']', f);
}

/* The model as a reader should see it: namespaces, classes, and every
 * instance with the effective value and state of each property. */
static int model_json(const cimgen_model *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs("{\"namespaces\":[", f);
    for (size_t i = 0; i < m->nns; i++) {
        if (i) fputc(',', f);
        json_str(f, m->ns[i]->path);
    }
    fputs("],\n\"classes\":[", f);
    for (size_t i = 0; i < m->nclasses; i++) {
        const cimgen_class *c = m->classes[i];
        fprintf(f, "%s{\"namespace\":", i ? ",\n" : "");
        json_str(f, c->ns->path);
        fputs(",\"name\":", f);
        json_str(f, c->name);
        fputs(",\"super\":", f);
        if (c->super) json_str(f, c->super->name); else fputs("null", f);
        fprintf(f, ",\"deleted\":%d,\"defined\":%llu,\"properties\":[", (int)c->deleted, (unsigned long long)c->defined);
        for (size_t k = 0; k < c->nall; k++) {
            const cimgen_prop *p = c->all[k];
            fprintf(f, "%s{\"name\":", k ? "," : "");
            json_str(f, p->name);
            fprintf(f, ",\"type\":%u,\"index\":%u,\"key\":%s,\"default\":", (unsigned)p->type, (unsigned)p->index,
                    p->key ? "true" : "false");
            json_val(f, p->type, p->has_default ? &p->dflt : NULL);
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fputs("],\n\"instances\":[", f);
    for (size_t i = 0; i < m->ninst; i++) {
        const cimgen_inst *in = m->inst[i];
        fprintf(f, "%s{\"namespace\":", i ? ",\n" : "");
        json_str(f, in->ns->path);
        fputs(",\"class\":", f);
        json_str(f, in->cls->name);
        fprintf(f, ",\"deleted\":%d,\"ts1\":%llu,\"ts2\":%llu,\"properties\":{", (int)in->deleted,
                (unsigned long long)in->ts_written, (unsigned long long)in->cls->defined);
        for (size_t k = 0; k < in->cls->nall; k++) {
            const cimgen_prop *p = in->cls->all[k];
            const cimgen_val *v = cimgen_get(in, p->name);
            const char *st = "set";
            if (v && v->kind == CIMGEN_K_NULL) {
                st = "null";
                v = NULL;
            } else if (!v) {
                st = p->has_default ? "default" : "null";
                v = p->has_default ? &p->dflt : NULL;
            }
            fprintf(f, "%s", k ? "," : "");
            json_str(f, p->name);
            fprintf(f, ":{\"type\":%u,\"state\":\"%s\",\"value\":", (unsigned)p->type, st);
            json_val(f, p->type, v);
            fputc('}', f);
        }
        fputs("}}", f);
    }
    fputs("]}\n", f);
    return fclose(f);
}

static long long file_size(const char *dir, const char *name)
{
    char p[1200];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static const char *how_name(cimgen_del how)
{
    switch (how) {
    case CIMGEN_DEL_OLDMAP: return "a page only an older mapping file maps";
    case CIMGEN_DEL_SLACK: return "slack of a live page";
    case CIMGEN_DEL_UNALLOC: return "an unallocated page";
    default: return "live";
    }
}

static void print_report(const cimgen_model *m, const cimgen_report *r, bool xp, double secs)
{
    printf("wrote %s (%s, %.2f s)\n", r->dir, xp ? "v2.1 XP: MD5 keys" : "v2.2 Vista+: SHA-256 keys", secs);
    static const char *const files[] = {"OBJECTS.DATA", "INDEX.BTR", "MAPPING1.MAP", "MAPPING2.MAP",
                                        "MAPPING3.MAP", "MAPPING.VER", "OBJECTS.MAP", "INDEX.MAP"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        long long s = file_size(r->dir, files[i]);
        if (s >= 0) printf("  %-13s %12lld bytes\n", files[i], s);
    }
    printf("  current map   %s, sequence %u", r->current_map, r->sequence);
    if (!xp) printf(", generation %u", r->generation);
    printf(" (%u mapping files)\n", r->nmaps);
    printf("  data          %u physical pages, %u logical entries, %u free, %u unmapped\n", r->data_pages,
           r->data_entries, r->data_free, r->data_unmapped);
    printf("  index         %u physical pages, %u logical entries, %u free, %u unmapped\n", r->index_pages,
           r->index_entries, r->index_free, r->index_unmapped);
    printf("  b-tree        root logical page %u, %u levels below the root, %u pages\n", r->index_root,
           r->index_depth, r->index_tree_pages);
    printf("  keys          %zu (%zu with a data reference)\n", r->keys, r->keys_with_data);
    printf("  objects       %zu namespaces, %zu classes, %zu instances, %zu reference records, %llu bytes; "
           "%zu continued over pages\n",
           r->namespaces, r->classes, r->instances, r->refobjects, (unsigned long long)r->objects_bytes,
           r->spanning);
    for (size_t i = 0; i < r->nplaced; i++) {
        const cimgen_placed *p = &r->placed[i];
        const char *what = p->is_class ? ((const cimgen_class *)p->obj)->name
                                       : ((const cimgen_inst *)p->obj)->class_name;
        const char *ns = p->is_class ? ((const cimgen_class *)p->obj)->ns->path
                                     : ((const cimgen_inst *)p->obj)->ns->path;
        printf("  deleted       %s %s:%s -> %s: ", p->is_class ? "class" : "instance of", ns, what, how_name(p->how));
        if (p->logical_page != UINT32_MAX) printf("logical page %u, ", p->logical_page);
        printf("physical page %u, record id %u, %u bytes at offset %llu of OBJECTS.DATA\n", p->physical_page,
               p->record_id, p->size, (unsigned long long)p->offset);
    }
    // The persistence it holds, as a reader should report it.
    for (size_t i = 0; i < m->ninst; i++) {
        const cimgen_inst *in = m->inst[i];
        if (strcmp(in->class_name, "__FilterToConsumerBinding") != 0) continue;
        const cimgen_val *f = cimgen_get(in, "Filter"), *c = cimgen_get(in, "Consumer");
        printf("  binding       %s: %s -> %s%s\n", in->ns->path, f ? f->s : "?", c ? c->s : "?",
               in->deleted ? " (deleted)" : "");
    }
}

/* A whole file (stash's payloads); NULL when it cannot be read. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)sz + 1)) != NULL &&
            fread(b, 1, (size_t)sz, f) != (size_t)sz) {
            free(b);
            b = NULL;
        }
        *n = sz >= 0 ? (size_t)sz : 0;
    }
    fclose(f);
    return b;
}

static bool is_state(const char *a) { return !strcmp(a, "live") || !strcmp(a, "deleted"); }

/* A consumer property value as the class types it (see the usage). */
static cimgen_val typed(const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "false")) return cimgen_bool(v[0] == 't');
    bool digits = *v != 0;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9') digits = false;
    return digits ? cimgen_uint(strtoull(v, NULL, 10)) : cimgen_str(v);
}

/* The subscriptions of `subs`, after the Windows defaults. Returns 0, or
 * -1 on a malformed list. */
static int add_subs(cimgen_model *m, char **a, int n)
{
    cimgen_windows_defaults(m);
    for (int i = 0; i < n;) {
        if (!is_state(a[i]) || i + 7 > n) return -1;
        bool del = !strcmp(a[i], "deleted");
        const char *ns = a[i + 1], *filter = a[i + 2], *query = a[i + 3], *cls = a[i + 4], *name = a[i + 5];
        int y, mo, d, h, mi, s;
        double frac = 0;
        char rest[32] = "";
        if (sscanf(a[i + 6], "%4d-%2d-%2dT%2d:%2d:%2d%31s", &y, &mo, &d, &h, &mi, &s, rest) < 6) return -1;
        if (rest[0] == '.') frac = strtod(rest, NULL);
        uint64_t ts = cimgen_filetime(y, mo, d, h, mi, s, (uint32_t)(frac * 1e6 + 0.5));
        i += 7;
        cimgen_kv kv[32];
        size_t nkv = 0;
        while (i + 1 < n && !is_state(a[i]) && nkv < 32) {
            kv[nkv++] = (cimgen_kv){a[i], typed(a[i + 1])};
            i += 2;
        }
        if (i < n && !is_state(a[i])) return -1;
        cimgen_inst *b = cimgen_add_subscription(m, ns, filter, query, cls, name, kv, nkv, ts);
        if (del) {
            cimgen_delete_instance(cimgen_find_instance(m, ns, "__EventFilter", "Name", filter), CIMGEN_DEL_UNALLOC);
            cimgen_delete_instance(cimgen_find_instance(m, ns, cls, "Name", name), CIMGEN_DEL_UNALLOC);
            cimgen_delete_instance(b, CIMGEN_DEL_UNALLOC);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    cimgen_opts o = {.seed = 1};
    const char *pos[4] = {0}, *mjson = NULL;
    int npos = 0;
    char **subs = NULL;
    int nsubs = 0;
    for (int i = 1; i < argc; i++) {
        if (npos == 2 && strcmp(pos[0], "subs") == 0) { // the rest is the list
            subs = argv + i;
            nsubs = argc - i;
            break;
        }
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *e;
            o.seed = strtoull(argv[++i], &e, 0);
            if (*e) return usage();
        } else if (strcmp(argv[i], "--xp") == 0) {
            o.xp = true;
        } else if (strcmp(argv[i], "--fs") == 0) {
            o.xp_fs_subdir = true;
        } else if (strcmp(argv[i], "--root0") == 0) {
            o.index_root_page0 = true;
        } else if (strcmp(argv[i], "--model-json") == 0 && i + 1 < argc) {
            mjson = argv[++i];
        } else if (strcmp(argv[i], "--no-shuffle") == 0) {
            o.shuffle_off = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage();
        } else if (npos < 4) {
            pos[npos++] = argv[i];
        } else {
            return usage();
        }
    }
    if (npos < 2) return usage();
    const char *cmd = pos[0], *dir = pos[1];
    bool big = strcmp(cmd, "big") == 0, stash = strcmp(cmd, "stash") == 0;
    if (big != (npos == 3) || stash != (npos == 4)) return usage();
    if (strcmp(cmd, "xp") == 0) o.xp = true;
    if (!big && !stash && strcmp(cmd, "demo") && strcmp(cmd, "xp") && strcmp(cmd, "deleted") && strcmp(cmd, "hostile") &&
        strcmp(cmd, "subs"))
        return usage();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cimgen_model *m = cimgen_model_new();
    cimgen_report rep;
    int rc = 0;
    if (big) {
        char *e;
        unsigned long long mb = strtoull(pos[2], &e, 10);
        if (*e || !mb) {
            cimgen_model_free(m);
            return usage();
        }
        uint64_t want = mb << 20;
        cimgen_windows_defaults(m);
        cimgen_bulk(m, want - want / 8, o.seed); // records fill ~88% of the pages
        for (;;) {
            if (cimgen_write(m, dir, &o, &rep) != 0) {
                rc = 1;
                break;
            }
            long long got = file_size(rep.dir, "OBJECTS.DATA");
            if (got >= (long long)want) break;
            cimgen_bulk(m, want - (uint64_t)got + (want >> 6), o.seed + 1 + m->ninst);
        }
    } else if (strcmp(cmd, "subs") == 0) {
        if (add_subs(m, subs, nsubs) != 0) {
            cimgen_model_free(m);
            return usage();
        }
        if (cimgen_write(m, dir, &o, &rep) != 0) rc = 1;
    } else if (stash) {
        size_t npe = 0, ncert = 0;
        uint8_t *pe = slurp(pos[2], &npe), *cert = slurp(pos[3], &ncert);
        if (pe && cert) {
            cimstash_build(m, pe, npe, cert, ncert);
            if (cimgen_write(m, dir, &o, &rep) != 0) rc = 1;
        } else {
            snprintf(m->error, sizeof m->error, "cannot read %s", pe ? pos[3] : pos[2]);
            rc = 1;
        }
        free(pe);
        free(cert);
    } else if (strcmp(cmd, "hostile") == 0) {
        cimgen_hostile(m);
        if (cimgen_write(m, dir, &o, &rep) != 0) rc = 1;
    } else {
        cimgen_demo(m);
        if (strcmp(cmd, "deleted") == 0) cimgen_demo_delete(m);
        if (cimgen_write(m, dir, &o, &rep) != 0) rc = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        fprintf(stderr, "wh-cimgen: %s\n", m->error[0] ? m->error : "write failed");
    } else {
        print_report(m, &rep, o.xp, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        if (mjson && model_json(m, mjson) != 0) {
            fprintf(stderr, "wh-cimgen: %s: cannot write\n", mjson);
            rc = 1;
        } else if (mjson) {
            printf("  model         %s\n", mjson);
        }
    }
    cimgen_model_free(m);
    return rc;
}
