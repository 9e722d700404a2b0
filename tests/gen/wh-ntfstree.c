/* wh-ntfstree: copies a folder tree into an NTFS volume image made by
 * mkntfs, with libntfs-3g (Debian's ntfs-3g-dev), so the disk-image tests
 * need neither root nor FUSE. Test-only.
 *
 *   wh-ntfstree VOLUME SRC_DIR [--ads PATH:STREAM=FILE]... [--loop DIR]
 *
 * --ads writes FILE's bytes as the named stream STREAM of the file PATH
 * (below the volume root, '/'-separated; PATH must exist). --loop adds to
 * the folder DIR an entry "loop" that points back at DIR's parent: a loop
 * in the directory tree, as a forged or damaged MFT has it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/index.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "wh-ntfstree: %s %s: %s\n", what, path, strerror(errno));
    return 1;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = NULL;
    size_t cap = 0;
    *n = 0;
    for (;;) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(b, cap);
            if (!nb) break;
            b = nb;
        }
        size_t r = fread(b + *n, 1, cap - *n, f);
        if (!r) break;
        *n += r;
    }
    fclose(f);
    return b ? b : malloc(1);
}

static int write_data(ntfs_inode *ni, const char *stream, const char *buf, size_t n)
{
    ntfschar *uname = NULL;
    int ulen = 0;
    if (stream && (ulen = ntfs_mbstoucs(stream, &uname)) < 0) return -1;
    if (stream && ntfs_attr_add(ni, AT_DATA, uname, (u8)ulen, NULL, 0) != 0 && errno != EEXIST) {
        free(uname);
        return -1;
    }
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, stream ? uname : AT_UNNAMED, (u32)ulen);
    free(uname);
    if (!na) return -1;
    s64 w = n ? ntfs_attr_pwrite(na, 0, (s64)n, buf) : 0;
    ntfs_attr_close(na);
    return w == (s64)n ? 0 : -1;
}

static int copy_tree(ntfs_volume *vol, ntfs_inode *dir, const char *src)
{
    DIR *d = opendir(src);
    if (!d) return fail("cannot open", src);
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", src, e->d_name) < 0) return 1;
        struct stat st;
        if (lstat(p, &st) != 0) rc = fail("cannot stat", p);
        ntfschar *uname = NULL;
        int ulen = rc ? -1 : ntfs_mbstoucs(e->d_name, &uname);
        if (!rc && ulen < 0) rc = fail("bad name", p);
        if (!rc && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
            ntfs_inode *ni = ntfs_create(dir, const_cpu_to_le32(0), uname, (u8)ulen, S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG);
            if (!ni) rc = fail("cannot create", p);
            else if (S_ISDIR(st.st_mode)) rc = copy_tree(vol, ni, p);
            else {
                size_t n = 0;
                char *buf = slurp(p, &n);
                if (!buf || write_data(ni, NULL, buf, n) != 0) rc = fail("cannot write", p);
                free(buf);
            }
            // closed with its folder open: the folder's index entry is updated through it
            if (ni && ntfs_inode_close_in_dir(ni, dir) != 0 && !rc) rc = fail("cannot close", p);
        }
        free(uname);
        free(p);
    }
    closedir(d);
    return rc;
}

/* DIR/loop -> DIR's parent: an index entry naming a folder above. */
static int make_loop(ntfs_volume *vol, const char *path)
{
    ntfs_inode *dir = ntfs_pathname_to_inode(vol, NULL, path);
    if (!dir) return fail("no folder", path);
    char *parent = strdup(path), *slash = strrchr(parent, '/');
    if (slash) *slash = 0;
    ntfs_inode *up = ntfs_pathname_to_inode(vol, NULL, slash && *parent ? parent : "/");
    free(parent);
    if (!up) return fail("no parent of", path);
    ntfschar *uname = NULL;
    int ulen = ntfs_mbstoucs("loop", &uname);
    size_t fnlen = sizeof(FILE_NAME_ATTR) + (size_t)ulen * sizeof(ntfschar);
    FILE_NAME_ATTR *fn = calloc(1, fnlen);
    fn->parent_directory = MK_LE_MREF(dir->mft_no, le16_to_cpu(dir->mrec->sequence_number));
    fn->file_attributes = FILE_ATTR_I30_INDEX_PRESENT;
    fn->file_name_length = (u8)ulen;
    fn->file_name_type = FILE_NAME_POSIX;
    memcpy(fn->file_name, uname, (size_t)ulen * sizeof(ntfschar));
    int rc = ntfs_index_add_filename(dir, fn, MK_MREF(up->mft_no, le16_to_cpu(up->mrec->sequence_number)));
    if (rc) fail("cannot add the loop entry in", path);
    free(fn);
    free(uname);
    ntfs_inode_close(up);
    ntfs_inode_close(dir);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: wh-ntfstree VOLUME SRC_DIR [--ads PATH:STREAM=FILE]... [--loop DIR]\n");
        return 2;
    }
    ntfs_volume *vol = ntfs_mount(argv[1], 0);
    if (!vol) return fail("cannot open the volume", argv[1]);
    ntfs_inode *root = ntfs_pathname_to_inode(vol, NULL, "/");
    int rc = root ? copy_tree(vol, root, argv[2]) : fail("no root in", argv[1]);
    if (root) ntfs_inode_close(root);
    for (int i = 3; !rc && i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--loop")) {
            rc = make_loop(vol, argv[i + 1]);
            continue;
        }
        char *spec = strdup(argv[i + 1]), *eq = strchr(spec, '='), *colon = strrchr(spec, ':');
        if (strcmp(argv[i], "--ads") || !eq || !colon || colon > eq) {
            fprintf(stderr, "wh-ntfstree: bad option %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
        *eq = *colon = 0;
        size_t n = 0;
        char *buf = slurp(eq + 1, &n);
        ntfs_inode *ni = ntfs_pathname_to_inode(vol, NULL, spec);
        if (!ni || !buf || write_data(ni, colon + 1, buf, n) != 0) rc = fail("cannot write the stream of", spec);
        if (ni) ntfs_inode_close(ni);
        free(buf);
        free(spec);
    }
    if (ntfs_umount(vol, FALSE) != 0 && !rc) rc = fail("cannot close", argv[1]);
    return rc;
}
