/* wmihunt mof PATH...: MOF files (and folders of them) as records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/limits.h"
#include "core/port.h"
#include "core/text.h"
#include "core/sort.h"
#include "wmihunt/mof.h"
#include "wmihunt/source.h"

static const char MOF_USAGE[] =
    "usage: wmihunt mof [options] PATH...\n"
    "\n"
    "Reads MOF source files (UTF-8, UTF-16LE/BE with or without BOM) offline and\n"
    "prints one record per file (encoding, pragmas, hashes, file times, what was\n"
    "skipped), per class declaration and per instance, with every property.\n"
    "Filters, event consumers and bindings are marked persistence. A folder is\n"
    "walked for *.mof (any case); symbolic links are not followed, files over\n"
    "64 MiB are skipped. A .zip, .7z or .tar(.gz) is walked like a folder.\n"
    "\n"
    "options:\n"
    "  --strict             stop each file at its first syntax error (as a compiler\n"
    "                       would); by default damaged files are read as far as\n"
    "                       possible and every skipped region is listed\n"
    "  --format text|jsonl|json|csv\n"
    "  -n, --namespace NS   only classes and instances in NS\n"
    "  -v, -q               more or no diagnostics\n"
    "\n"
    "examples:\n"
    "  wmihunt mof --format jsonl evil.mof\n"
    "  wmihunt mof /mnt/c/Windows/System32/wbem\n";

typedef struct run {
    wh_writer *w;
    const char *ns;
    wh_mof_opts mo;
    cli_diag *diag;
    int usable, failed;
} run;

static int filtered(void *ud, const wh_record *rec)
{
    run *r = ud;
    if (r->ns && strcmp(rec->artifact, "mof.file") != 0) {
        const wh_field *f = wh_record_field(rec, "namespace");
        if (!f || f->v.type != WH_V_STR || wh_strcasecmp(f->v.as.str.s, r->ns) != 0) return 0;
    }
    return wh_writer_record(r->w, wh_source_record(rec)); // in an archive: ARCHIVE!member
}

static void one_file(run *r, const char *path)
{
    wh_mof *m = NULL;
    cli_file_start(r->diag, 0);
    wh_status st = wh_mof_open(path, &r->mo, &r->diag->sink, &m);
    if (st != WH_OK) {
        fprintf(stderr, "wmihunt mof: %s: cannot be read (%s)\n", cli_vis(path), wh_status_str(st));
        r->failed++;
        return;
    }
    r->usable++;
    (void)wh_mof_emit(m, filtered, r);
    wh_mof_close(m);
}

static bool is_mof(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && wh_strcasecmp(name + n - 4, ".mof") == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Depth-first, names sorted so the output is stable; lstat: links are not followed.
static void walk(run *r, const char *dir, unsigned depth)
{
    if (depth > WH_LIMIT_MOF_WALK_DEPTH) {
        fprintf(stderr, "wmihunt mof: %s: deeper than %u levels, not walked\n", cli_vis(dir), WH_LIMIT_MOF_WALK_DEPTH);
        r->failed++;
        return;
    }
    wh_dir *d = wh_dir_open(dir);
    if (!d) {
        fprintf(stderr, "wmihunt mof: %s: cannot open folder\n", cli_vis(dir));
        r->failed++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    const char *e;
    while ((e = wh_dir_next(d))) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof(*nn));
            if (!nn) break;
            names = nn, cap = nc;
        }
        if (!(names[n] = strdup(e))) break;
        n++;
    }
    wh_dir_close(d);
    if (n) wh_sort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = malloc(len);
        if (p) {
            snprintf(p, len, "%s/%s", dir, names[i]);
            wh_fstat st;
            if (wh_stat(p, false, &st) == 0) {
                if (st.type == WH_FT_DIR) walk(r, p, depth + 1);
                else if (st.type == WH_FT_REG && is_mof(names[i])) {
                    if (st.size > WH_LIMIT_MOF_FILE) {
                        fprintf(stderr, "wmihunt mof: %s: %lld bytes, over the %u-byte limit: skipped\n", cli_vis(p),
                                (long long)st.size, WH_LIMIT_MOF_FILE);
                        r->failed++;
                    } else {
                        one_file(r, p);
                    }
                }
            }
            free(p);
        }
        free(names[i]);
    }
    free(names);
}

int cmd_mof(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(MOF_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    bool strict = false;
    char **rest = calloc((size_t)argc, sizeof(*rest));
    const char **paths = calloc((size_t)argc, sizeof(*paths));
    if (!rest || !paths) {
        free(rest);
        free(paths);
        return WH_EXIT_NOINPUT;
    }
    int nrest = 0, npaths = 0;
    // Paths are not limited to cli_opts' eight positionals.
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--strict") == 0) strict = true;
        else if (a[0] == '-' && a[1]) {
            rest[nrest++] = argv[i];
            bool takes = strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0 || strcmp(a, "-n") == 0 ||
                         strcmp(a, "--namespace") == 0 || strcmp(a, "--max-memory") == 0 ||
                         strcmp(a, "--time-budget") == 0;
            if (takes && i + 1 < argc) rest[nrest++] = argv[++i];
        } else {
            paths[npaths++] = a;
        }
    }
    cli_opts o = {0};
    int rc = WH_EXIT_USAGE;
    if (!cli_parse(nrest, rest, &o)) goto done;
    if (npaths < 1) {
        fprintf(stderr, "wmihunt mof: expected one or more .mof files or folders (try 'wmihunt mof --help')\n");
        goto done;
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    run r = {.w = wh_writer_new(stdout, o.fmt, false), .ns = o.ns, .diag = &diag};
    r.mo = (wh_mof_opts){.size = sizeof(r.mo), .flags = strict ? WH_MOF_OPT_STRICT : 0, .max_memory = o.max_memory};
    for (int i = 0; i < npaths; i++) {
        wh_fstat st;
        wh_source *src = NULL; // a .zip/.7z/.tar of MOF files: extracted to a private folder, removed after
        const char *p = paths[i];
        if (wh_source_is_archive(p)) {
            if (wh_source_open(p, NULL, &diag.sink, &src) != WH_OK) { // said
                r.failed++;
                continue;
            }
            p = wh_source_dir(src);
        }
        if (wh_stat(p, true, &st) == 0 && st.type == WH_FT_DIR) walk(&r, p, 0);
        else one_file(&r, p);
        wh_source_close(src);
    }
    wh_writer_finish(r.w);
    wh_writer_free(r.w);
    fflush(stdout);
    int drc = cli_exit_code(&diag);
    if (!r.usable) rc = WH_EXIT_NOINPUT;
    else rc = r.failed ? WH_EXIT_PARTIAL : drc;
done:
    free(rest);
    free(paths);
    return rc;
}
