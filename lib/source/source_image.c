/* Disk images as evidence (include/wmihunt/source.h): the container
 * (E01/Ex01, VHD/VHDX, VMDK, raw through The Sleuth Kit with libewf,
 * libvhdi and libvmdk; QCOW through libqcow), its partition table (MBR,
 * GPT: libtsk), each volume named (BitLocker said with what to do), the
 * NTFS volumes' wanted files copied out (source_ntfs.c), and with --vss
 * each volume shadow copy (libvshadow) copied the same way. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include "source/source_int.h"

#ifdef WH_HAVE_TSK // only in wmihunt-image and the fuzz target (CMakeLists.txt)

#include "source/source_img.h"

const char *ws_tsk_error(void)
{
    const char *e = tsk_error_get();
    static _Thread_local char buf[300];
    snprintf(buf, sizeof(buf), "%s", e && *e ? e : "no reason given");
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = ' ';
    tsk_error_reset();
    return buf;
}

/* ---- images TSK does not open itself: QCOW, memory, shadow copies ---- */

typedef struct ximg {
    TSK_IMG_INFO info; /* first: TSK sees only this */
    ssize_t (*rd)(struct ximg *x, uint64_t off, char *buf, size_t len);
    void (*fin)(struct ximg *x);
    void *h;           /* libqcow_file_t *, libvshadow_store_t * */
    const unsigned char *mem;
    uint64_t size;
} ximg;

static ssize_t x_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    ximg *x = (ximg *)img;
    if (off < 0 || (uint64_t)off >= x->size) return 0;
    if (len > x->size - (uint64_t)off) len = (size_t)(x->size - (uint64_t)off);
    return x->rd(x, (uint64_t)off, buf, len);
}

static void x_close(TSK_IMG_INFO *img)
{
    ximg *x = (ximg *)img;
    if (x->fin) x->fin(x);
    free(x);
}

static void x_stat(TSK_IMG_INFO *img, FILE *f) { (void)img, (void)f; }

static TSK_IMG_INFO *x_open(ximg *x)
{
    TSK_IMG_INFO *i = tsk_img_open_external(x, (TSK_OFF_T)x->size, 512, x_read, x_close, x_stat);
    if (!i) x_close(&x->info);
    return i;
}

static ssize_t mem_rd(ximg *x, uint64_t off, char *buf, size_t len)
{
    memcpy(buf, x->mem + off, len);
    return (ssize_t)len;
}

static ssize_t qcow_rd(ximg *x, uint64_t off, char *buf, size_t len)
{
    libqcow_error_t *e = NULL;
    ssize_t n = libqcow_file_read_buffer_at_offset(x->h, buf, len, (off64_t)off, &e);
    libqcow_error_free(&e);
    return n;
}

static void qcow_fin(ximg *x)
{
    libqcow_file_t *f = x->h;
    if (!f) return;
    (void)libqcow_file_close(f, NULL);
    (void)libqcow_file_free(&f, NULL);
}

static TSK_IMG_INFO *open_qcow(wh_source *s, const char *path)
{
    libqcow_file_t *f = NULL;
    libqcow_error_t *e = NULL;
    size64_t size = 0;
    char why[300] = "";
    if (libqcow_file_initialize(&f, &e) != 1 || libqcow_file_open(f, path, LIBQCOW_OPEN_READ, &e) != 1 ||
        libqcow_file_get_media_size(f, &size, &e) != 1) {
        if (e) libqcow_error_sprint(e, why, sizeof(why));
        libqcow_error_free(&e);
        if (f) (void)libqcow_file_free(&f, NULL);
        ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, NULL, WH_NO_OFFSET, "QCOW image cannot be opened (libqcow: %s)", why);
        return NULL;
    }
    ximg *x = calloc(1, sizeof(*x));
    if (!x) {
        (void)libqcow_file_free(&f, NULL);
        return NULL;
    }
    x->rd = qcow_rd, x->fin = qcow_fin, x->h = f, x->size = size;
    return x_open(x);
}

static TSK_IMG_INFO *open_memory(const void *mem, size_t size)
{
    ximg *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    x->rd = mem_rd, x->mem = mem, x->size = size;
    return x_open(x);
}

/* ---- a volume as a libbfio handle, for libvshadow ---- */

typedef struct vrange {
    TSK_IMG_INFO *img;
    uint64_t base, size, pos;
} vrange;

static int b_free(intptr_t **h, libbfio_error_t **e) { (void)e, *h = NULL; return 1; }
static int b_clone(intptr_t **d, intptr_t *s, libbfio_error_t **e) { (void)d, (void)s, (void)e; return -1; }
static int b_open(intptr_t *h, int f, libbfio_error_t **e) { (void)h, (void)f, (void)e; return 1; }
static int b_close(intptr_t *h, libbfio_error_t **e) { (void)h, (void)e; return 0; }
static int b_one(intptr_t *h, libbfio_error_t **e) { (void)h, (void)e; return 1; }
static ssize_t b_write(intptr_t *h, const uint8_t *b, size_t n, libbfio_error_t **e) { (void)h, (void)b, (void)n, (void)e; return -1; }

static ssize_t b_read(intptr_t *h, uint8_t *buf, size_t n, libbfio_error_t **e)
{
    (void)e;
    vrange *r = (vrange *)h;
    if (r->pos >= r->size) return 0;
    if (n > r->size - r->pos) n = (size_t)(r->size - r->pos);
    ssize_t got = tsk_img_read(r->img, (TSK_OFF_T)(r->base + r->pos), (char *)buf, n);
    if (got > 0) r->pos += (uint64_t)got;
    return got < 0 ? -1 : got;
}

static off64_t b_seek(intptr_t *h, off64_t off, int whence, libbfio_error_t **e)
{
    (void)e;
    vrange *r = (vrange *)h;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)r->pos : (int64_t)r->size;
    if (off > INT64_MAX - base || base + off < 0) return -1;
    r->pos = (uint64_t)(base + off);
    return (off64_t)r->pos;
}

static int b_size(intptr_t *h, size64_t *size, libbfio_error_t **e)
{
    (void)e;
    *size = ((vrange *)h)->size;
    return 1;
}

static ssize_t vss_rd(ximg *x, uint64_t off, char *buf, size_t len)
{
    libvshadow_error_t *e = NULL;
    ssize_t n = libvshadow_store_read_buffer_at_offset(x->h, buf, len, (off64_t)off, &e);
    libvshadow_error_free(&e);
    return n;
}

static void vss_fin(ximg *x)
{
    libvshadow_store_t *st = x->h;
    if (st) (void)libvshadow_store_free(&st, NULL);
}

static void guid_text(const uint8_t g[16], char out[40])
{
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2], g[1], g[0],
             g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* Each shadow copy of the NTFS volume at base: copied into "volN@vssM". */
static void shadow_copies(wh_source *s, const wh_source_opts *o, TSK_IMG_INFO *img, const wh_source_volume *v)
{
    vrange r = {.img = img, .base = v->offset, .size = v->size};
    libbfio_handle_t *bh = NULL;
    libvshadow_volume_t *vol = NULL;
    libvshadow_error_t *e = NULL;
    libbfio_error_t *be = NULL;
    char why[300] = "";
    int nstores = 0;
    if (libbfio_handle_initialize(&bh, (intptr_t *)&r, b_free, b_clone, b_open, b_close, b_read, b_write, b_seek,
                                  b_one, b_one, b_size, 0, &be) != 1) {
        libbfio_error_free(&be);
        ws_say(s, WH_SEV_ERROR, WH_E_NOMEM, v->folder, v->offset, "shadow copies not read (no memory)");
        return;
    }
    int sig = libvshadow_check_volume_signature_file_io_handle(bh, &e);
    if (sig != 1) {
        if (sig < 0 && e) libvshadow_error_sprint(e, why, sizeof(why));
        libvshadow_error_free(&e);
        if (sig < 0)
            ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, v->folder, v->offset, "shadow copies not read (libvshadow: %s)", why);
        else
            ws_say(s, WH_SEV_INFO, WH_OK, v->folder, v->offset, "no volume shadow copies on this volume");
        libbfio_handle_free(&bh, NULL);
        return;
    }
    if (libvshadow_volume_initialize(&vol, &e) != 1 ||
        libvshadow_volume_open_file_io_handle(vol, bh, LIBVSHADOW_OPEN_READ, &e) != 1 ||
        libvshadow_volume_get_number_of_stores(vol, &nstores, &e) != 1) {
        if (e) libvshadow_error_sprint(e, why, sizeof(why));
        libvshadow_error_free(&e);
        ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, v->folder, v->offset,
               "the shadow copy catalog cannot be read (libvshadow: %s): only the volume as it is now is read", why);
        if (vol) libvshadow_volume_free(&vol, NULL);
        libbfio_handle_free(&bh, NULL);
        return;
    }
    ws_say(s, WH_SEV_INFO, WH_OK, v->folder, v->offset, "%d volume shadow cop%s found", nstores,
           nstores == 1 ? "y" : "ies");
    for (int i = 0; i < nstores; i++) {
        libvshadow_store_t *st = NULL;
        uint8_t g[16] = {0};
        uint64_t ft = 0;
        size64_t vsize = 0;
        char id[40], folder[64];
        snprintf(folder, sizeof(folder), "%s@vss%d", v->folder, i + 1);
        if (libvshadow_volume_get_store(vol, i, &st, &e) != 1 || libvshadow_store_get_identifier(st, g, 16, &e) != 1 ||
            libvshadow_store_get_creation_time(st, &ft, &e) != 1 ||
            libvshadow_store_get_volume_size(st, &vsize, &e) != 1) {
            if (e) libvshadow_error_sprint(e, why, sizeof(why));
            libvshadow_error_free(&e);
            ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, folder, v->offset, "shadow copy %d cannot be read (libvshadow: %s)",
                   i + 1, why);
            if (st) libvshadow_store_free(&st, NULL);
            continue;
        }
        guid_text(g, id);
        wh_source_volume sv = *v;
        sv.folder = folder, sv.snapshot = (unsigned)i + 1, sv.snapshot_id = id, sv.snapshot_time = ft;
        sv.size = vsize, sv.files = sv.bytes = 0, sv.read = false;
        ximg *x = calloc(1, sizeof(*x));
        if (!x) {
            libvshadow_store_free(&st, NULL);
            break;
        }
        x->rd = vss_rd, x->fin = vss_fin, x->h = st, x->size = vsize;
        TSK_IMG_INFO *simg = x_open(x); // owns the store now
        wh_source_volume *added = simg ? ws_add_volume(s, &sv) : NULL;
        if (added) ws_ntfs_copy(s, o, simg, 0, added);
        if (simg) tsk_img_close(simg);
        if (s->stop) break;
    }
    libvshadow_volume_close(vol, NULL);
    libvshadow_volume_free(&vol, NULL);
    libbfio_handle_free(&bh, NULL);
}

/* An E01 whose segment files lack their end (cut short in a copy, a
 * segment missing): said before anything is read, from libewf itself. */
static void ewf_check(wh_source *s, const char *path)
{
    char **names = NULL;
    int n = 0;
    libewf_handle_t *h = NULL;
    if (libewf_glob(path, strlen(path), LIBEWF_FORMAT_UNKNOWN, &names, &n, NULL) != 1) return;
    int corrupted = 0;
    if (libewf_handle_initialize(&h, NULL) == 1 && libewf_handle_open(h, names, n, LIBEWF_OPEN_READ, NULL) == 1)
        corrupted = libewf_handle_segment_files_corrupted(h, NULL);
    else
        corrupted = -1;
    if (corrupted)
        ws_say(s, WH_SEV_WARN, WH_E_TRUNCATED, NULL, WH_NO_OFFSET,
               "the E01 is damaged or cut short (%d segment file(s); libewf %s): what can be read is read, gaps read "
               "as zeros; ewfverify tells more, and the acquisition's other copy may be whole",
               n, corrupted < 0 ? "cannot open them" : "finds their end sections missing");
    if (h) {
        (void)libewf_handle_close(h, NULL);
        (void)libewf_handle_free(&h, NULL);
    }
    libewf_glob_free(names, n, NULL);
}

/* ---- volumes ---- */

/* What the volume at off holds, from its boot sector. */
static const char *volume_kind(TSK_IMG_INFO *img, uint64_t off)
{
    char b[512];
    if (tsk_img_read(img, (TSK_OFF_T)off, b, sizeof(b)) != (ssize_t)sizeof(b)) return "unreadable";
    if (!memcmp(b + 3, "-FVE-FS-", 8)) return "BitLocker";
    if (!memcmp(b + 3, "NTFS    ", 8)) return "NTFS";
    if (!memcmp(b + 3, "EXFAT   ", 8)) return "exFAT";
    if (!memcmp(b + 82, "FAT32   ", 8) || !memcmp(b + 54, "FAT1", 4)) return "FAT";
    if (!memcmp(b + 3, "ReFS", 4)) return "ReFS";
    return "other";
}

static void one_volume(wh_source *s, const wh_source_opts *o, TSK_IMG_INFO *img, wh_source_volume *v)
{
    v->kind = volume_kind(img, v->offset);
    wh_source_volume *added = ws_add_volume(s, v);
    if (!added) return;
    if (!strcmp(v->kind, "BitLocker")) {
        ws_say(s, WH_SEV_WARN, WH_E_NOTFOUND, v->folder, v->offset,
               "BitLocker-encrypted volume (%llu bytes): not read. Get its recovery password (AD, Entra ID, MBAM or "
               "the owner), decrypt it with libbde (an E01 through ewfmount first): bdemount -o %llu -r PASSWORD "
               "RAW_IMAGE /mnt/bde, and give wmihunt the decrypted volume /mnt/bde/bde1",
               (unsigned long long)v->size, (unsigned long long)v->offset);
        return;
    }
    if (strcmp(v->kind, "NTFS") != 0) {
        ws_say(s, WH_SEV_INFO, WH_OK, v->folder, v->offset, "%s volume (%llu bytes): not Windows' system volume, not read",
               v->kind, (unsigned long long)v->size);
        return;
    }
    ws_ntfs_copy(s, o, img, v->offset, added);
    if (o->vss && !s->stop) shadow_copies(s, o, img, added);
}

/* Volume number nth at bytes off..off+len: said when it lies past the
 * image's end, else read. */
static void table_entry(wh_source *s, const wh_source_opts *o, TSK_IMG_INFO *img, const char *table, unsigned nth,
                        const char *desc, uint64_t off, uint64_t len, unsigned *found)
{
    uint64_t isize = (uint64_t)img->size;
    char folder[32];
    snprintf(folder, sizeof(folder), "vol%u", nth);
    if (off >= isize || len > isize - off) {
        ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, folder, off,
               "the %s partition table puts volume %u (%s) at bytes %llu..%llu, past the image's end (%llu): %s",
               table, nth, desc, (unsigned long long)off, (unsigned long long)(off + len), (unsigned long long)isize,
               off >= isize ? "not read (a truncated image, or a damaged table)" : "read as far as the image goes");
        if (off >= isize) return;
        len = isize - off;
    }
    (*found)++;
    wh_source_volume v = {.folder = folder, .index = nth, .table = table, .offset = off, .size = len};
    one_volume(s, o, img, &v);
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* The table's entries read here, when TSK refuses the whole table (it does
 * when an early MBR entry lies past the image's end): true when there was
 * an MBR to read. GPT entries are bounded to 256. */
static bool table_fallback(wh_source *s, const wh_source_opts *o, TSK_IMG_INFO *img)
{
    unsigned char b[512], h[512];
    if (tsk_img_read(img, 0, (char *)b, 512) != 512 || b[510] != 0x55 || b[511] != 0xAA) return false;
    unsigned found = 0, nth = 0;
    bool gpt = false;
    for (int i = 0; i < 4; i++) gpt |= b[446 + 16 * i + 4] == 0xEE;
    if (gpt && tsk_img_read(img, 512, (char *)h, 512) == 512 && !memcmp(h, "EFI PART", 8)) {
        uint64_t lba = le(h + 72, 8);
        uint32_t count = (uint32_t)le(h + 80, 4), esize = (uint32_t)le(h + 84, 4);
        if (count > 256) {
            ws_say(s, WH_SEV_WARN, WH_E_LIMIT, NULL, 512, "the GPT says %u entries: the first 256 are read", count);
            count = 256;
        }
        for (uint32_t i = 0; esize >= 128 && esize <= 4096 && i < count && lba < UINT64_MAX / 512; i++) {
            unsigned char e[128];
            uint64_t at = lba * 512 + (uint64_t)i * esize;
            if (tsk_img_read(img, (TSK_OFF_T)at, (char *)e, 128) != 128) break;
            static const unsigned char zero[16];
            if (!memcmp(e, zero, 16)) continue;
            uint64_t first = le(e + 32, 8), last = le(e + 40, 8);
            nth++;
            if (last < first || first > UINT64_MAX / 512 || last - first >= UINT64_MAX / 512) {
                ws_say(s, WH_SEV_WARN, WH_E_CORRUPT, NULL, at, "GPT entry %u is impossible (LBA %llu..%llu): skipped",
                       i + 1, (unsigned long long)first, (unsigned long long)last);
                continue;
            }
            table_entry(s, o, img, "GPT", nth, "GPT entry", first * 512, (last - first + 1) * 512, &found);
        }
    } else {
        for (int i = 0; i < 4; i++) {
            const unsigned char *e = b + 446 + 16 * i;
            uint64_t start = le(e + 8, 4), len = le(e + 12, 4);
            if (!e[4] || !len) continue;
            nth++;
            char desc[32];
            snprintf(desc, sizeof(desc), "type 0x%02x", e[4]);
            table_entry(s, o, img, "MBR", nth, desc, start * 512, len * 512, &found);
        }
    }
    if (!found) ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, NULL, 0, "the partition table holds no volume inside the image");
    return true;
}

static void volumes(wh_source *s, const wh_source_opts *o, TSK_IMG_INFO *img)
{
    TSK_VS_INFO *vs = tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT);
    if (!vs) { // no partition table that TSK takes: the image may be one volume
        (void)ws_tsk_error();
        if (!memcmp(volume_kind(img, 0), "NTFS", 4) || !strcmp(volume_kind(img, 0), "BitLocker") ||
            !table_fallback(s, o, img)) {
            wh_source_volume v = {.folder = "vol0", .table = "", .offset = 0, .size = (uint64_t)img->size};
            one_volume(s, o, img, &v);
            const char *k = s->nvols ? s->vols[s->nvols - 1].kind : "other";
            if (!strcmp(k, "unreadable"))
                ws_say(s, WH_SEV_ERROR, WH_E_TRUNCATED, NULL, 0,
                       "the image cannot be read at its start (%s): truncated or damaged (an E01: a segment missing or "
                       "cut short? check it with ewfverify)", ws_tsk_error());
            else if (!strcmp(k, "other"))
                ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, NULL, 0,
                       "no partition table (MBR or GPT) and no NTFS volume at its start: nothing read (a truncated or "
                       "damaged image? ewfverify checks an E01)");
        }
        return;
    }
    const char *table = vs->vstype == TSK_VS_TYPE_GPT ? "GPT" : vs->vstype == TSK_VS_TYPE_DOS ? "MBR"
                                                                                               : tsk_vs_type_toname(vs->vstype);
    unsigned nth = 0, found = 0;
    for (TSK_PNUM_T i = 0; i < vs->part_count && !s->stop; i++) {
        const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
        if (!p || !(p->flags & TSK_VS_PART_FLAG_ALLOC)) continue;
        nth++;
        uint64_t off = (uint64_t)p->start * vs->block_size, len = (uint64_t)p->len * vs->block_size;
        table_entry(s, o, img, table, nth, p->desc ? p->desc : "?", off, len, &found);
    }
    if (!found) ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, NULL, 0, "the %s partition table holds no volume inside the image", table);
    tsk_vs_close(vs);
}

wh_status ws_image(wh_source *s, const wh_source_opts *o, const char *path, const void *mem, size_t size)
{
    TSK_IMG_INFO *img = NULL;
    if (mem) img = open_memory(mem, size);
    else {
        unsigned char b[8] = {0};
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool qcow = fd >= 0 && pread(fd, b, 8, 0) == 8 && !memcmp(b, "QFI\xfb", 4);
        if (!memcmp(b, "EVF", 3)) ewf_check(s, path);
        // The type from its magic (ws_image_magic): TSK's own detection tries
        // every library on every image, and a failed try leaks in libvhdi.
        TSK_IMG_TYPE_ENUM type = !memcmp(b, "EVF", 3)                                 ? TSK_IMG_TYPE_EWF_EWF
                                 : !memcmp(b, "vhdxfile", 8) || !memcmp(b, "conectix", 8) ? TSK_IMG_TYPE_VHD_VHD
                                 : !memcmp(b, "KDMV", 4) || !memcmp(b, "COWD", 4) || !memcmp(b, "# Disk D", 8)
                                     ? TSK_IMG_TYPE_VMDK_VMDK
                                     : TSK_IMG_TYPE_DETECT;
        if (type == TSK_IMG_TYPE_DETECT && fd >= 0) { // a fixed VHD's footer is at its end
            unsigned char t[8] = {0};
            off_t end = lseek(fd, 0, SEEK_END);
            if (end >= 512 && pread(fd, t, 8, end - 512) == 8 && !memcmp(t, "conectix", 8)) type = TSK_IMG_TYPE_VHD_VHD;
            else type = TSK_IMG_TYPE_RAW;
        }
        if (fd >= 0) close(fd);
        img = qcow ? open_qcow(s, path) : tsk_img_open_utf8_sing(path, type, 0);
        if (!img && !qcow)
            ws_say(s, WH_SEV_ERROR, WH_E_CORRUPT, NULL, WH_NO_OFFSET,
                   "the disk image cannot be opened (%s): a truncated or damaged image, or a segment missing "
                   "(E01: keep .E02... beside it)", ws_tsk_error());
    }
    if (!img) return WH_E_CORRUPT;
    volumes(s, o, img);
    bool any = false;
    for (size_t i = 0; i < s->nvols; i++) any |= s->vols[i].read;
    if (!any && s->nvols)
        ws_say(s, WH_SEV_ERROR, WH_E_NOTFOUND, NULL, WH_NO_OFFSET, "no NTFS volume in this image could be read (%zu "
               "volume(s), see above): nothing to look at", s->nvols);
    tsk_img_close(img);
    return WH_OK;
}

void ws_image_register(void) { ws_image_builtin = ws_image; }

#endif
