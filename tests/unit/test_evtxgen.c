/* tests/gen/evtxgen: the EVTX writer checked without wmihunt's reader.
 *
 * 1. Structure: a small walker of its own (not lib/evtx) recomputes every
 *    CRC, walks every record, and checks the string and template tables.
 * 2. Damage: each kind breaks exactly the one thing it names.
 * 3. The bench recipe rebuilds the corpus bench file with its sha256
 *    (skipped without the corpus).
 * 4. The independent oracle: evtxexport (libevtx 20181227, Debian
 *    libevtx-utils) reads the writer's output and every record's
 *    EventRecordID, EventID, Provider, TimeCreated, Channel, Computer and
 *    EventData/UserData value must equal the writer's expectation, up to
 *    libevtx's known rendering differences (tests/README.md, "EVTX
 *    writer"). Skipped when evtxexport is not on PATH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen/evtxgen.h"

#ifndef WH_CORPUS
#define WH_CORPUS "/work/shared/corpus"
#endif
#ifndef WH_TEST_TMP
#define WH_TEST_TMP "/tmp"
#endif

static uint16_t r16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t r32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t r64(const uint8_t *p) { return (uint64_t)r32(p) | ((uint64_t)r32(p + 4) << 32); }

static uint32_t hash65599(const uint8_t *p, size_t units)
{
    uint32_t h = 0;
    for (size_t i = 0; i < units; i++) h = h * 65599u + r16(p + 2 * i);
    return h;
}

static uint32_t chunk_header_crc(const uint8_t *c)
{
    uint8_t tmp[504];
    memcpy(tmp, c, 120);
    memcpy(tmp + 120, c + 128, 384);
    return evtxgen_crc32(tmp, sizeof tmp);
}

static evtxgen *scenario(const char *name, unsigned flags, unsigned mb)
{
    evtxgen *g = evtxgen_scenario(name, flags, mb);
    assert_non_null(g);
    if (*evtxgen_error(g)) fail_msg("%s: %s", name, evtxgen_error(g));
    return g;
}

/* ------------------------------------------------------------------ */
/* 1. Structure.                                                        */

/* Walks a clean file the writer made: every checksum, size, id, table
 * entry, and the expectations' offsets and ids. */
static void check_structure(const evtxgen *g)
{
    size_t n;
    const uint8_t *img = evtxgen_image(g, &n);
    assert_true(n >= 4096 && (n - 4096) % 65536 == 0);
    assert_memory_equal(img, "ElfFile\0", 8);
    assert_int_equal(r32(img + 124), evtxgen_crc32(img, 120));
    assert_int_equal(r32(img + 32), 128);
    assert_int_equal(r16(img + 38), 3);
    assert_true(r16(img + 36) == 1 || r16(img + 36) == 2);
    assert_int_equal(r16(img + 40), 4096);
    uint32_t nchunks = (uint32_t)((n - 4096) / 65536);
    assert_int_equal(r16(img + 42), nchunks);
    assert_true(r64(img + 8) == 0 && r64(img + 16) == nchunks - 1);
    size_t ei = 0;
    uint64_t next_id = evtxgen_expect_at(g, 0)->record_id;
    for (uint32_t k = 0; k < nchunks; k++) {
        const uint8_t *c = img + 4096 + (size_t)k * 65536;
        assert_memory_equal(c, "ElfChnk\0", 8);
        assert_int_equal(r32(c + 124), chunk_header_crc(c));
        uint32_t free_off = r32(c + 48);
        assert_true(free_off >= 512 && free_off <= 65536);
        assert_int_equal(r32(c + 52), evtxgen_crc32(c + 512, free_off - 512));
        assert_int_equal(r32(c + 40), 128);
        uint32_t off = 512, last = 0;
        uint64_t first_id = next_id;
        while (off < free_off) {
            assert_memory_equal(c + off, "**\0\0", 4);
            uint32_t size = r32(c + off + 4);
            assert_true(size >= 28 && size % 8 == 0 && size <= free_off - off);
            assert_int_equal(r32(c + off + size - 4), size);
            assert_true(r64(c + off + 8) == next_id);
            const evtxgen_expect *e = evtxgen_expect_at(g, ei++);
            assert_non_null(e);
            assert_true(e->record_id == next_id && e->chunk == k && e->size == size);
            assert_true(e->offset == 4096 + (uint64_t)k * 65536 + off);
            assert_int_equal(e->status, EVTXGEN_LIVE);
            // The fragment header opens every record's binary XML.
            assert_memory_equal(c + off + 24, "\x0f\x01\x01\x00", 4);
            last = off;
            off += size;
            next_id++;
        }
        assert_int_equal(off, free_off);
        assert_int_equal(r32(c + 44), last);
        assert_true(r64(c + 8) == first_id && r64(c + 16) == next_id - 1);
        assert_true(r64(c + 24) == first_id && r64(c + 32) == next_id - 1);
        // Name table: newest first, bucket = hash % 64, hash of the name.
        for (unsigned b = 0; b < 64; b++) {
            uint32_t prev = 65536;
            for (uint32_t o = r32(c + 128 + 4 * b); o; o = r32(c + o)) {
                assert_true(o >= 512 && o < prev && o + 8 <= free_off);
                uint16_t units = r16(c + o + 6);
                assert_int_equal(r16(c + o + 4), hash65599(c + o + 8, units) & 0xFFFF);
                assert_int_equal(r16(c + o + 4) % 64, b);
                assert_int_equal(r16(c + o + 8 + 2 * units), 0);
                prev = o;
            }
        }
        // Template table: newest first, bucket from the GUID.
        for (unsigned b = 0; b < 32; b++) {
            uint32_t prev = 65536;
            for (uint32_t o = r32(c + 384 + 4 * b); o; o = r32(c + o)) {
                assert_true(o >= 512 && o < prev && o + 24 <= free_off);
                assert_int_equal(hash65599(c + o + 4, 8) % 32, b);
                uint32_t body = r32(c + o + 20);
                assert_memory_equal(c + o + 24, "\x0f\x01\x01\x00", 4);
                assert_int_equal(c[o + 24 + body - 1], 0x00); /* end of the definition */
                prev = o;
            }
        }
    }
    assert_int_equal(ei, evtxgen_expect_count(g));
    assert_true(r64(img + 24) == next_id);
}

static void structure_wmi(void **state)
{
    (void)state;
    for (unsigned f = 0; f < 2; f++) {
        evtxgen *g = scenario("wmi", f ? EVTXGEN_SCN_LIBEVTX : 0, 0);
        check_structure(g);
        size_t n;
        const uint8_t *img = evtxgen_image(g, &n);
        assert_int_equal(r16(img + 36), 2);
        assert_true(n > 4096 + 65536); /* several chunks */
        evtxgen_free(g);
    }
}

static void structure_types(void **state)
{
    (void)state;
    for (unsigned f = 0; f < 2; f++) {
        evtxgen *g = scenario("types", f ? EVTXGEN_SCN_LIBEVTX : 0, 0);
        check_structure(g);
        size_t n;
        evtxgen_image(g, &n);
        assert_true(n > 4096 + 65536);
        evtxgen_free(g);
    }
}

static void structure_big(void **state)
{
    (void)state;
    evtxgen *g = scenario("big", 0, 3);
    check_structure(g);
    size_t n;
    evtxgen_image(g, &n);
    assert_int_equal(n, 4096 + 48 * 65536); /* 3 MiB: 48 chunks (the header rounds up) */
    evtxgen_free(g);
}

/* Facts the writer shares with Windows, checked against the corpus bytes. */
static void writer_facts(void **state)
{
    (void)state;
    assert_int_equal(evtxgen_crc32("123456789", 9), 0xCBF43926u);
    char hex[65];
    evtxgen_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char t[32];
    // sysmon_19_20_21_1_CommandLineEventConsumer record 1: 2cdc350c2308d501.
    evtxgen_filetime_str(0x01d508230c35dc2cull, t);
    assert_string_equal(t, "2019-05-11T17:57:49.9031596Z");
    evtxgen *g = evtxgen_new(NULL);
    const evtxgen_val *v = evtxgen_v_guid(g, "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}");
    assert_memory_equal(v->bytes, "\x5f\x38\x70\x57\x2a\xc2\xe0\x43\xbf\x4c\x06\xf5\x69\x8f\xfb\xd9", 16);
    v = evtxgen_v_sid(g, "S-1-5-18");
    assert_int_equal(v->size, 12);
    assert_memory_equal(v->bytes, "\x01\x01\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00", 12);
    v = evtxgen_v_uint(g, EVTXGEN_T_HEX32, 0x80041002u);
    assert_string_equal(v->items[0], "0x80041002");
    v = evtxgen_v_sizet(g, 0x14, 4);
    assert_string_equal(v->items[0], "0x14");
    v = evtxgen_v_bool(g, 2);
    assert_string_equal(v->items[0], "2");
    v = evtxgen_v_bin(g, "\x00\xab", 2);
    assert_string_equal(v->items[0], "00AB");
    v = evtxgen_v_ansi(g, "caf\xe9 \x80");
    assert_string_equal(v->items[0], "caf\xc3\xa9 \xe2\x82\xac");
    const uint16_t bad[] = {'a', 0xD800, 'b'};
    v = evtxgen_v_utf16(g, bad, 3, "a\xef\xbf\xbd" "b");
    assert_int_equal(v->size, 6);
    assert_false(*evtxgen_error(g));
    evtxgen_free(g);
    // "Event" hashes to 0x0cba, as stored in every corpus chunk.
    const uint8_t ev[] = {'E', 0, 'v', 0, 'e', 0, 'n', 0, 't', 0};
    assert_int_equal(hash65599(ev, 5) & 0xFFFF, 0x0cba);
}

/* Names and templates: inline at first use in a chunk, by offset after,
 * and inline again in the next chunk. */
static void templates_per_chunk(void **state)
{
    (void)state;
    evtxgen_opts o = {.records_per_chunk = 3};
    evtxgen *g = evtxgen_new(&o);
    evtxgen_node *r = evtxgen_elem(g, NULL, "Root");
    evtxgen_subst(g, evtxgen_elem(g, r, "V"), 0, EVTXGEN_T_U32, false);
    const evtxgen_tmpl *t = evtxgen_template(g, r);
    for (uint32_t i = 0; i < 6; i++) {
        const evtxgen_val *v[] = {evtxgen_v_uint(g, EVTXGEN_T_U32, i)};
        assert_true(evtxgen_add_frag(g, evtxgen_frag_tmpl(g, true, t, v, 1), 0) == i + 1);
    }
    assert_int_equal(evtxgen_finish(g), 0);
    size_t n;
    const uint8_t *img = evtxgen_image(g, &n);
    assert_int_equal(n, 4096 + 2 * 65536);
    for (uint32_t i = 0; i < 6; i++) {
        const evtxgen_expect *e = evtxgen_expect_at(g, i);
        const uint8_t *rec = img + e->offset;
        uint32_t off_in_chunk = (uint32_t)((e->offset - 4096) % 65536);
        assert_int_equal(rec[28], 0x0c);
        uint32_t def = r32(rec + 34);
        bool inl = def == off_in_chunk + 38;
        assert_true(inl == (i % 3 == 0));
        if (!inl) assert_int_equal(def, 512 + 38); /* the first record's definition */
    }
    evtxgen_free(g);
}

/* ------------------------------------------------------------------ */
/* 2. Damage.                                                           */

static size_t count_status(const evtxgen *g, evtxgen_status s)
{
    size_t n = 0;
    for (size_t i = 0; i < evtxgen_expect_count(g); i++) n += evtxgen_expect_at(g, i)->status == s;
    return n;
}

static bool chunk_crcs_ok(const uint8_t *c)
{
    uint32_t free_off = r32(c + 48);
    return r32(c + 124) == chunk_header_crc(c) && free_off >= 512 && free_off <= 65536 &&
           r32(c + 52) == evtxgen_crc32(c + 512, free_off - 512);
}

static void damage_kinds(void **state)
{
    (void)state;
    for (int d = 0; d < EVTXGEN_D_COUNT; d++) {
        evtxgen *g = scenario("damaged", 0, 0);
        size_t clean_n;
        evtxgen_image(g, &clean_n);
        assert_int_equal(clean_n, 4096 + 3 * 65536);
        assert_int_equal(evtxgen_expect_count(g), 15);
        assert_int_equal(evtxgen_apply_damage(g, (evtxgen_damage)d), 0);
        size_t n;
        const uint8_t *img = evtxgen_image(g, &n);
        const uint8_t *c0 = img + 4096, *c1 = c0 + 65536;
        bool fh_ok = r32(img + 124) == evtxgen_crc32(img, 120);
        size_t lost = count_status(g, EVTXGEN_LOST), rec = count_status(g, EVTXGEN_RECOVERED),
               bad = count_status(g, EVTXGEN_LIVE_BADCRC);
        switch ((evtxgen_damage)d) {
        case EVTXGEN_D_BAD_CHUNK_SIGNATURE:
            assert_memory_equal(c1, "ElfChnx\0", 8);
            assert_true(fh_ok && chunk_crcs_ok(c1) && lost == 5);
            break;
        case EVTXGEN_D_BAD_FILE_HEADER_CRC:
            assert_true(!fh_ok && chunk_crcs_ok(c0) && chunk_crcs_ok(c1) && lost + rec + bad == 0);
            break;
        case EVTXGEN_D_BAD_CHUNK_HEADER_CRC:
            assert_true(fh_ok && r32(c1 + 124) != chunk_header_crc(c1) && bad == 5);
            assert_int_equal(r32(c1 + 52), evtxgen_crc32(c1 + 512, r32(c1 + 48) - 512));
            break;
        case EVTXGEN_D_BAD_RECORD_CRC:
            assert_true(fh_ok && r32(c1 + 124) == chunk_header_crc(c1) && bad == 5);
            assert_int_not_equal(r32(c1 + 52), evtxgen_crc32(c1 + 512, r32(c1 + 48) - 512));
            break;
        case EVTXGEN_D_TRUNCATED:
            assert_true(n < clean_n && n > 4096 + 2 * 65536 && bad == 2 && lost == 3);
            break;
        case EVTXGEN_D_ZERO_SIZE_RECORD: case EVTXGEN_D_SIZE_COPY_MISMATCH: {
            const evtxgen_expect *e = evtxgen_expect_at(g, 2);
            const uint8_t *r = img + e->offset;
            if (d == EVTXGEN_D_ZERO_SIZE_RECORD) assert_int_equal(r32(r + 4), 0);
            else assert_int_equal(r32(r + e->size - 4), e->size + 8);
            assert_true(chunk_crcs_ok(c0) && lost == 1 && rec == 2 && e->status == EVTXGEN_LOST);
            break;
        }
        case EVTXGEN_D_CHUNK_PAST_ZEROES:
            assert_int_equal(n, 4096 + 5 * 65536);
            assert_true(fh_ok && r16(img + 42) == 1 && r64(img + 16) == 0);
            for (size_t i = 0; i < 2 * 65536; i++)
                if (c1[i]) fail_msg("byte %zu of the zero chunks is set", i);
            assert_memory_equal(c1 + 2 * 65536, "ElfChnk\0", 8);
            assert_true(evtxgen_expect_at(g, 14)->chunk == 4 && lost + rec + bad == 0);
            break;
        case EVTXGEN_D_DIRTY_WRONG_COUNT:
            assert_true(fh_ok && r32(img + 120) == 1 && r16(img + 42) == 2 && lost + rec + bad == 0);
            break;
        case EVTXGEN_D_TEMPLATE_OUTSIDE: case EVTXGEN_D_TEMPLATE_SELF: {
            assert_true(chunk_crcs_ok(c1) && lost == 1);
            for (size_t i = 0; i < 15; i++) {
                const evtxgen_expect *e = evtxgen_expect_at(g, i);
                if (e->status != EVTXGEN_LOST) continue;
                uint32_t def = r32(img + e->offset + 34), pos = (uint32_t)((e->offset - 4096) % 65536);
                if (d == EVTXGEN_D_TEMPLATE_OUTSIDE) assert_true(def >= 65536);
                else assert_int_equal(def, pos + 28); /* the instance token itself */
            }
            break;
        }
        case EVTXGEN_D_SLACK_RECORDS:
            assert_true(chunk_crcs_ok(c0) && rec == 2);
            assert_int_equal(r32(c0 + 48), evtxgen_expect_at(g, 3)->offset - 4096);
            assert_true(r64(c0 + 16) == 3);
            assert_memory_equal(img + evtxgen_expect_at(g, 4)->offset, "**\0\0", 4); /* still in slack */
            break;
        default: fail();
        }
        evtxgen_free(g);
    }
}

/* JSON lines: one per record a reader returns, none for lost ones. */
static void expect_jsonl(void **state)
{
    (void)state;
    evtxgen *g = scenario("damaged", 0, 0);
    assert_int_equal(evtxgen_apply_damage(g, EVTXGEN_D_ZERO_SIZE_RECORD), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(evtxgen_write_expect(g, f), 0);
    fclose(f);
    size_t lines = 0;
    for (char *p = text; (p = strchr(p, '\n')); p++) lines++;
    assert_int_equal(lines, 14);
    assert_non_null(strstr(text, "\"recovered\":true"));
    assert_non_null(strstr(text, "\"event_data\":{\"RuleName\":\"-\""));
    assert_non_null(strstr(text, "\"user_data\":{\"Operation_ESStoConsumerBinding\":{\"Namespace\":\"//./root/subscription\""));
    const char *head = "{\"chunk\":0,\"offset\":4608,\"record_id\":1,\"event_record_id\":1,";
    assert_true(strncmp(text, head, strlen(head)) == 0);
    free(text);
    evtxgen_free(g);
}

/* ------------------------------------------------------------------ */
/* 3. Bench recipe.                                                     */

static bool dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void bench_recipe_sha256(void **state)
{
    (void)state;
    const char *dir = WH_CORPUS "/evtx";
    if (!dir_exists(dir)) {
        print_message("corpus %s absent\n", dir);
        skip();
    }
    uint8_t *img;
    size_t n;
    char err[512], hex[65];
    if (evtxgen_bench_recipe(dir, &img, &n, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(n, 67112960);
    evtxgen_sha256_hex(img, n, hex);
    assert_string_equal(hex, EVTXGEN_BENCH_SHA256);
    // 87,366 records, renumbered from 1 (recipe result line).
    assert_true(r64(img + 24) == 87367);
    free(img);
}

/* ------------------------------------------------------------------ */
/* 4. evtxexport as the independent oracle.                             */

static bool have_evtxexport(void)
{
    const char *path = getenv("PATH");
    if (!path) return false;
    char *copy = strdup(path), *save = NULL;
    bool found = false;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/evtxexport", d);
        found = access(p, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* A minimal XML tree of evtxexport's output. */
typedef struct xnode {
    char *name, *text;
    char *an[8], *av[8];
    int na;
    struct xnode *kids, *last, *next, *up;
} xnode;

static void xfree(xnode *x)
{
    while (x) {
        xnode *n = x->next;
        xfree(x->kids);
        free(x->name);
        free(x->text);
        for (int i = 0; i < x->na; i++) { free(x->an[i]); free(x->av[i]); }
        free(x);
        x = n;
    }
}

static void put_utf8(char **o, unsigned long c)
{
    unsigned char *p = (unsigned char *)*o;
    if (c < 0x80) *p++ = (unsigned char)c;
    else if (c < 0x800) { *p++ = (unsigned char)(0xC0 | (c >> 6)); *p++ = (unsigned char)(0x80 | (c & 0x3F)); }
    else if (c < 0x10000) {
        *p++ = (unsigned char)(0xE0 | (c >> 12)); *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (c & 0x3F));
    } else {
        *p++ = (unsigned char)(0xF0 | (c >> 18)); *p++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F)); *p++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    *o = (char *)p;
}

/* Copies [s, e) decoding the five entities and numeric references. */
static char *xdecode(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    while (s < e) {
        if (*s == '&') {
            const char *semi = memchr(s, ';', (size_t)(e - s));
            static const struct { const char *n; char c; } ents[] = {
                {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
            bool done = false;
            for (size_t i = 0; semi && i < 5 && !done; i++) {
                size_t l = strlen(ents[i].n);
                if ((size_t)(semi - s + 1) == l && !memcmp(s, ents[i].n, l)) { *o++ = ents[i].c; s = semi + 1; done = true; }
            }
            if (!done && semi && s[1] == '#') {
                unsigned long c = s[2] == 'x' ? strtoul(s + 3, NULL, 16) : strtoul(s + 2, NULL, 10);
                put_utf8(&o, c);
                s = semi + 1;
                done = true;
            }
            if (done) continue;
        }
        *o++ = *s++;
    }
    *o = 0;
    return out;
}

static void xappend(char **dst, const char *s, size_t n)
{
    size_t old = *dst ? strlen(*dst) : 0;
    *dst = realloc(*dst, old + n + 1);
    memcpy(*dst + old, s, n);
    (*dst)[old + n] = 0;
}

/* Parses one <Event>...</Event>; returns the Event node. */
static xnode *xparse(const char *s, const char *e)
{
    xnode top = {0}, *cur = &top;
    while (s < e) {
        if (*s != '<') {
            const char *lt = memchr(s, '<', (size_t)(e - s));
            if (!lt) lt = e;
            char *t = xdecode(s, lt);
            xappend(&cur->text, t, strlen(t));
            free(t);
            s = lt;
        } else if (!strncmp(s, "<![CDATA[", 9)) {
            const char *end = strstr(s, "]]>");
            xappend(&cur->text, s + 9, (size_t)(end - s - 9));
            s = end + 3;
        } else if (s[1] == '?' || s[1] == '!') {
            s = strchr(s, '>') + 1;
        } else if (s[1] == '/') {
            if (cur->up) cur = cur->up;
            s = strchr(s, '>') + 1;
        } else {
            xnode *x = calloc(1, sizeof *x);
            const char *p = s + 1;
            while (*p != ' ' && *p != '>' && *p != '/') p++;
            x->name = strndup(s + 1, (size_t)(p - s - 1));
            for (;;) {
                while (*p == ' ') p++;
                if (*p == '/' || *p == '>') break;
                const char *eq = strchr(p, '=');
                const char *q = strchr(eq + 2, '"');
                if (x->na < 8) {
                    x->an[x->na] = strndup(p, (size_t)(eq - p));
                    x->av[x->na++] = xdecode(eq + 2, q);
                }
                p = q + 1;
            }
            x->up = cur;
            if (cur->last) cur->last->next = x;
            else cur->kids = x;
            cur->last = x;
            if (*p == '/') s = p + 2;
            else { cur = x; s = p + 1; }
        }
    }
    xfree(top.kids ? top.kids->next : NULL);
    if (top.kids) top.kids->next = NULL;
    free(top.text);
    return top.kids;
}

static xnode *xchild(xnode *x, const char *name)
{
    for (xnode *k = x ? x->kids : NULL; k; k = k->next)
        if (!strcmp(k->name, name)) return k;
    return NULL;
}

static const char *xattr(xnode *x, const char *name)
{
    for (int i = 0; x && i < x->na; i++)
        if (!strcmp(x->an[i], name)) return x->av[i];
    return NULL;
}

static const char *xtext(xnode *x) { return x ? (x->kids ? "" : (x->text ? x->text : "")) : NULL; }

/* Runs evtxexport -f xml (-m mode) on path; returns the parsed events. */
static size_t run_evtxexport_mode(const char *path, const char *mode, xnode ***out, int *status)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "evtxexport -m %s -f xml '%s' 2>/dev/null", mode, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *all = NULL;
    size_t len = 0, cap = 0, got;
    char tmp[65536];
    while ((got = fread(tmp, 1, sizeof tmp, p)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            all = realloc(all, cap);
        }
        memcpy(all + len, tmp, got);
        len += got;
    }
    *status = pclose(p);
    size_t n = 0, capx = 0;
    *out = NULL;
    if (!all) return 0;
    all[len] = 0;
    for (char *s = all; (s = strstr(s, "<Event ")) != NULL;) {
        char *e = strstr(s, "</Event>");
        if (!e) break;
        e += 8;
        if (n == capx) {
            capx = capx ? 2 * capx : 64;
            *out = realloc(*out, capx * sizeof **out);
        }
        (*out)[n++] = xparse(s, e);
        s = e;
    }
    free(all);
    return n;
}

static size_t run_evtxexport(const char *path, xnode ***out, int *status)
{
    return run_evtxexport_mode(path, "items", out, status);
}

/* Differences that are libevtx's rendering, not data (tests/README.md). */
typedef struct diffstats {
    unsigned exact, hex_pad, time_digits, float_form, sizet_decimal, bool_true, signed_bug;
} diffstats;

static bool is_hex(const char *s) { return s[0] == '0' && s[1] == 'x' && s[2]; }

static bool time_norm(const char *s, char out[40])
{
    // YYYY-MM-DDThh:mm:ss.f+Z: pad the fraction to 9 digits.
    size_t n = strlen(s);
    if (n < 21 || n > 31 || s[4] != '-' || s[10] != 'T' || s[19] != '.' || s[n - 1] != 'Z') return false;
    size_t fd = n - 21;
    memcpy(out, s, 20);
    memcpy(out + 20, s + 20, fd);
    for (size_t i = fd; i < 9; i++) out[20 + i] = '0';
    out[29] = 'Z';
    out[30] = 0;
    return fd <= 9;
}

static bool same_value(const char *exp, const char *got, diffstats *st)
{
    if (!strcmp(exp, got)) { st->exact++; return true; }
    char *end;
    // libevtx pads HexInt32/64 to 8/16 digits; Windows prints minimal hex.
    if (is_hex(exp) && is_hex(got)) {
        unsigned long long a = strtoull(exp, &end, 16), b = strtoull(got, &end, 16);
        if (a == b && !*end) { st->hex_pad++; return true; }
    }
    // libevtx prints 9 fractional digits (FILETIME) or 3 (SYSTEMTIME).
    char te[40], tg[40];
    if (time_norm(exp, te) && time_norm(got, tg) && !strcmp(te, tg)) { st->time_digits++; return true; }
    // libevtx prints SizeT in decimal.
    if (is_hex(exp) && got[0] >= '0' && got[0] <= '9') {
        unsigned long long a = strtoull(exp, NULL, 16), b = strtoull(got, &end, 10);
        if (a == b && !*end) { st->sizet_decimal++; return true; }
    }
    // libevtx prints floats as %e with a 3-digit exponent.
    if (strchr(got, 'e') && (strchr(got, '.') || strchr(got, 'e'))) {
        double a = strtod(exp, &end);
        if (!*end) {
            double b = strtod(got, &end);
            if (!*end && a == b) { st->float_form++; return true; }
        }
    }
    // libevtx prints any non-zero bool as true; Windows shows other values as their number.
    if (!strcmp(got, "true")) {
        unsigned long long a = strtoull(exp, &end, 10);
        if (!*end && *exp && a > 1) { st->bool_true++; return true; }
    }
    // libevtx 20181227 prints a negative signed integer as -(value with the
    // sign bit cleared): -1 as int32 becomes -2147483647.
    if (exp[0] == '-' && got[0] == '-') {
        long long a = strtoll(exp, &end, 10);
        if (!*end) {
            unsigned long long b = strtoull(got + 1, &end, 10);
            for (int w = 8; w <= 64 && !*end; w *= 2) {
                unsigned long long raw = (unsigned long long)a & (w == 64 ? ~0ull : (1ull << w) - 1);
                if ((raw & ((1ull << (w - 1)) - 1)) == b) { st->signed_bug++; return true; }
            }
        }
    }
    return false;
}

static void cmp_field(const char *what, uint64_t rid, const char *exp, const char *got, diffstats *st)
{
    if (!exp && !got) return;
    if (!exp || !got || !same_value(exp, got, st))
        fail_msg("record %llu %s: writer expects \"%s\", evtxexport shows \"%s\"", (unsigned long long)rid, what,
                 exp ? exp : "(absent)", got ? got : "(absent)");
}

static void ud_collect(xnode *x, const char *prefix, char ***names, char ***vals, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", x->name);
    if (!x->kids) {
        *names = realloc(*names, (*n + 1) * sizeof **names);
        *vals = realloc(*vals, (*n + 1) * sizeof **vals);
        (*names)[*n] = strdup(path);
        (*vals)[(*n)++] = strdup(x->text ? x->text : "");
        return;
    }
    for (xnode *k = x->kids; k; k = k->next) ud_collect(k, path, names, vals, n);
}

/* Compares one record's evtxexport rendering with the writer's expectation. */
static void compare_event(const evtxgen_expect *e, xnode *ev, diffstats *st)
{
    xnode *sys = xchild(ev, "System");
    uint64_t rid = e->record_id;
    cmp_field("EventRecordID", rid, e->event_record_id, xtext(xchild(sys, "EventRecordID")), st);
    cmp_field("EventID", rid, e->event_id, xtext(xchild(sys, "EventID")), st);
    cmp_field("Provider", rid, e->provider, xattr(xchild(sys, "Provider"), "Name"), st);
    cmp_field("TimeCreated", rid, e->time_created, xattr(xchild(sys, "TimeCreated"), "SystemTime"), st);
    cmp_field("Channel", rid, e->channel, xtext(xchild(sys, "Channel")), st);
    cmp_field("Computer", rid, e->computer, xtext(xchild(sys, "Computer")), st);
    cmp_field("Level", rid, e->level, xtext(xchild(sys, "Level")), st);
    cmp_field("Security/UserID", rid, e->user_sid, xattr(xchild(sys, "Security"), "UserID"), st);
    xnode *ed = xchild(ev, "EventData");
    assert_true(e->has_event_data == (ed != NULL));
    if (ed) {
        size_t i = 0;
        for (xnode *k = ed->kids; k; k = k->next) {
            if (strcmp(k->name, "Data")) continue;
            if (i >= e->n_event_data) fail_msg("record %llu: evtxexport shows more Data items", (unsigned long long)rid);
            const char *en = e->event_data[i].name, *gn = xattr(k, "Name");
            if ((en == NULL) != (gn == NULL) || (en && strcmp(en, gn)))
                fail_msg("record %llu Data %zu: name \"%s\" vs \"%s\"", (unsigned long long)rid, i, en ? en : "",
                         gn ? gn : "");
            char what[300];
            snprintf(what, sizeof what, "EventData/%s", en ? en : "Data");
            cmp_field(what, rid, e->event_data[i].value, xtext(k), st);
            i++;
        }
        assert_int_equal(i, e->n_event_data);
    }
    xnode *ud = xchild(ev, "UserData");
    assert_true(e->has_user_data == (ud != NULL));
    if (ud) {
        char **names = NULL, **vals = NULL;
        size_t n = 0;
        for (xnode *k = ud->kids; k; k = k->next) ud_collect(k, NULL, &names, &vals, &n);
        assert_int_equal(n, e->n_user_data);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(names[i], e->user_data[i].name);
            char what[1100];
            snprintf(what, sizeof what, "UserData/%s", names[i]);
            cmp_field(what, rid, e->user_data[i].value, vals[i], st);
            free(names[i]);
            free(vals[i]);
        }
        free(names);
        free(vals);
    }
}

static void tmp_path(char *out, size_t n, const char *name)
{
    const char *dir = dir_exists(WH_TEST_TMP) ? WH_TEST_TMP : "/tmp";
    snprintf(out, n, "%s/evtxgen-%ld-%s", dir, (long)getpid(), name);
}

/* Writes g, runs evtxexport, compares the first `expect_n` records (all
 * when 0); returns the number evtxexport printed. */
static size_t oracle(const evtxgen *g, const char *name, size_t expect_n, bool expect_ok)
{
    char path[4096];
    tmp_path(path, sizeof path, name);
    assert_int_equal(evtxgen_write(g, path), 0);
    xnode **evs;
    int status;
    size_t n = run_evtxexport(path, &evs, &status);
    unlink(path);
    size_t want = expect_n ? expect_n : evtxgen_expect_count(g);
    if (n != want)
        fail_msg("%s: evtxexport printed %zu records, writer expects %zu", name, n, want);
    assert_true((status == 0) == expect_ok);
    diffstats st = {0};
    for (size_t i = 0; i < n; i++) {
        compare_event(evtxgen_expect_at(g, i), evs[i], &st);
        xfree(evs[i]);
    }
    free(evs);
    print_message("%s: %zu records equal; values exact %u, libevtx renderings accepted: hex padding %u, "
                  "time digits %u, float form %u, SizeT decimal %u, bool true %u, signed-int bug %u\n",
                  name, n, st.exact, st.hex_pad, st.time_digits, st.float_form, st.sizet_decimal, st.bool_true,
                  st.signed_bug);
    return n;
}

#define NEED_EVTXEXPORT()                                      \
    do {                                                       \
        if (!have_evtxexport()) {                              \
            print_message("evtxexport not on PATH\n");         \
            skip();                                            \
        }                                                      \
    } while (0)

static void evtxexport_wmi(void **state)
{
    (void)state;
    NEED_EVTXEXPORT();
    evtxgen *g = scenario("wmi", EVTXGEN_SCN_LIBEVTX, 0);
    oracle(g, "wmi.evtx", 0, true);
    evtxgen_free(g);
}

static void evtxexport_types(void **state)
{
    (void)state;
    NEED_EVTXEXPORT();
    evtxgen *g = scenario("types", EVTXGEN_SCN_LIBEVTX, 0);
    oracle(g, "types.evtx", 0, true);
    evtxgen_free(g);
}

static void evtxexport_big(void **state)
{
    (void)state;
    NEED_EVTXEXPORT();
    evtxgen *g = scenario("big", 0, 2);
    oracle(g, "big.evtx", 0, true);
    evtxgen_free(g);
}

/* Damaged files whose defect libevtx tolerates as a correct reader must:
 * every record still readable. */
static void evtxexport_tolerated_damage(void **state)
{
    (void)state;
    NEED_EVTXEXPORT();
    const evtxgen_damage ok[] = {EVTXGEN_D_BAD_FILE_HEADER_CRC, EVTXGEN_D_BAD_CHUNK_HEADER_CRC,
                                 EVTXGEN_D_BAD_RECORD_CRC, EVTXGEN_D_DIRTY_WRONG_COUNT};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        evtxgen *g = scenario("damaged", 0, 0);
        assert_int_equal(evtxgen_apply_damage(g, ok[i]), 0);
        oracle(g, evtxgen_damage_name(ok[i]), 0, true);
        evtxgen_free(g);
    }
}

/* libevtx's recovery (evtxexport -m recovered) carves exactly the records
 * the writer marks recovered (slack, after a torn record), and the records
 * of a chunk with a bad signature, which the writer marks lost (a correct
 * reader must not return them as live; carving them is allowed). */
static void evtxexport_recovered(void **state)
{
    (void)state;
    NEED_EVTXEXPORT();
    const struct { evtxgen_damage d; evtxgen_status st; size_t n; } cases[] = {
        {EVTXGEN_D_SLACK_RECORDS, EVTXGEN_RECOVERED, 2},
        {EVTXGEN_D_ZERO_SIZE_RECORD, EVTXGEN_RECOVERED, 2},
        {EVTXGEN_D_SIZE_COPY_MISMATCH, EVTXGEN_RECOVERED, 2},
        {EVTXGEN_D_BAD_CHUNK_SIGNATURE, EVTXGEN_LOST, 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        evtxgen *g = scenario("damaged", 0, 0);
        assert_int_equal(evtxgen_apply_damage(g, cases[c].d), 0);
        char path[4096];
        tmp_path(path, sizeof path, evtxgen_damage_name(cases[c].d));
        assert_int_equal(evtxgen_write(g, path), 0);
        xnode **evs;
        int status;
        size_t n = run_evtxexport_mode(path, "recovered", &evs, &status);
        unlink(path);
        assert_int_equal(n, cases[c].n);
        diffstats st = {0};
        size_t k = 0;
        for (size_t i = 0; i < evtxgen_expect_count(g) && k < n; i++) {
            const evtxgen_expect *e = evtxgen_expect_at(g, i);
            if (e->status != cases[c].st) continue;
            compare_event(e, evs[k], &st);
            xfree(evs[k++]);
        }
        assert_int_equal(k, n);
        free(evs);
        print_message("%s: evtxexport -m recovered carves %zu records, equal to the writer's\n",
                      evtxgen_damage_name(cases[c].d), n);
        evtxgen_free(g);
    }
}

/* The full variants hold what libevtx 20181227 cannot read: it prints
 * every record before the first such one, equal, then gives up. */
static void evtxexport_stops_where_documented(void **state)
{
    (void)state;
    NEED_EVTXEXPORT();
    evtxgen *g = scenario("wmi", 0, 0);
    size_t first = 0;
    while (first < evtxgen_expect_count(g) && !evtxgen_expect_at(g, first)->templateless) first++;
    assert_true(first > 0 && first < evtxgen_expect_count(g));
    oracle(g, "wmi-full.evtx", first, false);
    evtxgen_free(g);
    // types: the first record holds a NULL value in a normal substitution.
    g = scenario("types", 0, 0);
    char path[4096];
    tmp_path(path, sizeof path, "types-full.evtx");
    assert_int_equal(evtxgen_write(g, path), 0);
    xnode **evs;
    int status;
    size_t n = run_evtxexport(path, &evs, &status);
    unlink(path);
    assert_int_equal(n, 0);
    assert_int_not_equal(status, 0);
    free(evs);
    evtxgen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_facts),
        cmocka_unit_test(templates_per_chunk),
        cmocka_unit_test(structure_wmi),
        cmocka_unit_test(structure_types),
        cmocka_unit_test(structure_big),
        cmocka_unit_test(damage_kinds),
        cmocka_unit_test(expect_jsonl),
        cmocka_unit_test(bench_recipe_sha256),
        cmocka_unit_test(evtxexport_wmi),
        cmocka_unit_test(evtxexport_types),
        cmocka_unit_test(evtxexport_big),
        cmocka_unit_test(evtxexport_tolerated_damage),
        cmocka_unit_test(evtxexport_recovered),
        cmocka_unit_test(evtxexport_stops_where_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
