/* wmihunt triage DIR: where the WMI evidence is in a volume or collection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wmihunt/source.h"
#include "wmihunt/triage.h"

static const char TRIAGE_USAGE[] =
    "usage: wmihunt triage [options] DIR\n"
    "\n"
    "Lists the WMI evidence in DIR, a mounted Windows volume or a collection that\n"
    "keeps Windows paths under a prefix (KAPE C/ or C%3A/, CyLR C/, Velociraptor\n"
    "uploads/<accessor>/C%3A/): the CIM repository and its backups, wbem\\AutoRecover,\n"
    "every .mof, the SOFTWARE hive and its logs, the event logs (the ones wmihunt\n"
    "evtx reads for WMI evidence flagged), and what it expected but did not find.\n"
    "Names match in any case; %XX in collection paths is decoded. Nothing in DIR\n"
    "is opened for reading or written; symbolic links are not followed. DIR may\n"
    "be a .zip, .7z, .tar or .tar.gz of a collection: it is extracted to a private\n"
    "temporary folder (removed at the end) and paths are shown as ARCHIVE!member.\n"
    "DIR may be a disk image (E01, VHDX/VHD, VMDK, QCOW2, raw): each volume is\n"
    "named (partition table, offset, NTFS or BitLocker) and the files wmihunt\n"
    "reads are copied out of its NTFS volumes, shown as IMAGE!vol2/...\n"
    "\n"
    "options:\n"
    "  --format text|jsonl|json|csv\n"
    "  --max-depth N       directory levels to search (default 40)\n"
    "  --max-files N       entries to look at in all (default 2000000)\n"
    "  --max-seconds N     time for the walk (default 600)\n"
    "  --mof-max-size N    flag .mof files larger than N[K|M|G] (default 16M)\n"
    "  --vss               disk images: list and read every volume shadow copy too\n"
    "  -v, -q              more or no diagnostics\n"
    "\n"
    "exit codes: 0 found evidence, 2 no Windows evidence in DIR, 3 a bound or an\n"
    "unreadable folder cut the search short (see stderr), 64 usage error.\n"
    "\n"
    "examples:\n"
    "  wmihunt triage /mnt/evidence/C\n"
    "  wmihunt triage --format jsonl kape_out/ | jq -r 'select(.artifact==\"triage.artifact\") | .path'\n";

/* An archive's private folder is shown as ARCHIVE!member (wmihunt/source.h). */
static void shown_diag(void *ud, const wh_diag *d) { wh_source_diag(ud, d); }
static int shown_record(void *ud, const wh_record *r) { return wh_writer_record(ud, wh_source_record(r)); }

static bool num(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm') mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g') mul = 1ull << 30, end++;
    if (end == s || *end || v == 0 || v > max / mul) return false;
    *out = v * mul;
    return true;
}

int cmd_triage(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(TRIAGE_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    wh_triage_opts to = {.size = sizeof(to)};
    // Options this command takes out; the rest moves down in argv (every
    // argument is kept, however many).
    char **rest = argv;
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        static const char *const bounds[] = {"--max-depth", "--max-files", "--max-seconds", "--mof-max-size"};
        int b = -1;
        for (int k = 0; k < 4; k++)
            if (strcmp(argv[i], bounds[k]) == 0) b = k;
        if (b < 0) {
            rest[nrest++] = argv[i];
            continue;
        }
        unsigned long long v;
        if (i + 1 >= argc || !num(argv[i + 1], b == 3 ? UINT64_MAX : (b == 1 ? 1000000000ull : 1000000ull), &v)) {
            fprintf(stderr, "wmihunt triage: %s wants a positive number\n", argv[i]);
            return WH_EXIT_USAGE;
        }
        i++;
        if (b == 0) to.max_depth = (unsigned)v;
        else if (b == 1) to.max_files = (unsigned long)v;
        else if (b == 2) to.max_seconds = (unsigned)v;
        else to.mof_max_size = v;
    }
    cli_opts o = {0};
    if (!cli_parse(nrest, rest, &o)) return WH_EXIT_USAGE;
    if (o.npos != 1) {
        fprintf(stderr, "wmihunt triage: expected one directory (try 'wmihunt triage --help')\n");
        return WH_EXIT_USAGE;
    }
    const char *dir = o.pos[0];
    cli_diag diag;
    cli_diag_init(&diag, &o);
    wh_diag_sink sink = {.fn = shown_diag, .ud = &diag.sink};
    wh_triage *t = NULL;
    wh_source *src = NULL; // an archive is extracted to a private folder, removed at the end
    wh_status st = wh_source_open(dir, NULL, &sink, &src);
    if (st == WH_OK) st = wh_triage_open(wh_source_dir(src), &to, &sink, &t);
    if (st != WH_OK) {
        fprintf(stderr, "wmihunt triage: %s: cannot be searched (%s)\n", cli_vis(dir), wh_status_str(st));
        cli_exit_code(&diag);
        wh_source_close(src);
        return WH_EXIT_NOINPUT;
    }
    wh_writer *w = wh_writer_new(stdout, o.fmt, false);
    if (!w) {
        wh_triage_close(t);
        wh_source_close(src);
        return WH_EXIT_NOINPUT;
    }
    (void)wh_triage_emit(t, shown_record, w);
    wh_writer_finish(w);
    wh_writer_free(w);
    fflush(stdout);
    if (!o.quiet) {
        for (size_t i = 0; i < wh_triage_roots(t); i++) {
            const char *path, *vol;
            wh_triage_layout l;
            char shown[WH_SOURCE_SHOWN_MAX];
            if (wh_triage_root(t, i, &path, &l, &vol))
                fprintf(stderr, "wmihunt triage: Windows volume %s at %s (layout %s)\n",
                        *vol ? cli_vis(vol) : "(no drive letter)", cli_vis(wh_source_shown(path, shown, sizeof(shown))),
                        wh_triage_layout_name(l));
        }
        size_t nv = 0;
        const wh_source_volume *vols = wh_source_volumes(src, &nv);
        for (size_t i = 0; i < nv; i++) { // a disk image: its volumes and shadow copies
            char vt[400];
            fprintf(stderr, "wmihunt triage: %s: %s\n", cli_vis(dir), cli_vis(wh_source_volume_text(&vols[i], vt, sizeof(vt))));
        }
    }
    size_t found = wh_triage_count(t);
    bool roots = wh_triage_roots(t) > 0;
    if (!o.quiet)
        fprintf(stderr, "wmihunt triage: %zu artifact(s) found, %zu expected but missing%s\n", found,
                wh_triage_missing_count(t), wh_triage_incomplete(t) ? "; the search was cut short (see above)" : "");
    int rc = cli_exit_code(&diag);
    if (found == 0) {
        // Said on stderr whatever -q says: this is the answer, not a diagnostic.
        if (roots)
            fprintf(stderr, "wmihunt triage: %s: a Windows tree is there but holds none of the WMI evidence "
                            "wmihunt looks for\n", cli_vis(dir));
        else
            fprintf(stderr, "wmihunt triage: %s: no Windows evidence here: no Windows\\System32 within %d levels "
                            "(mounted volume, KAPE, CyLR, Velociraptor layouts) and no .mof, .evtx, repository "
                            "or SOFTWARE hive anywhere%s\n",
                    cli_vis(dir), 5, wh_triage_incomplete(t) ? " that the bounds let us search" : "");
        rc = WH_EXIT_NOINPUT;
    }
    wh_triage_close(t);
    wh_source_close(src);
    return rc;
}
