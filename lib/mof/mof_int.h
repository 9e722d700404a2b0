/* Internals of the MOF reader: decoded text, tokens, the parsed model. */
#ifndef WH_MOF_INT_H
#define WH_MOF_INT_H

#include "core/arena.h"
#include "core/file.h"
#include "core/limits.h"
#include "core/reader.h"
#include "core/strmap.h"
#include "wmihunt/mof.h"

/* ---- decoded text (mof_text.c) ---- */

typedef struct mof_text {
    const char *t;      /* UTF-8 text the lexer reads (never NUL-terminated) */
    size_t n;
    size_t bom;         /* bytes of BOM (UTF-8 only: the offset of t in the file) */
    const uint32_t *map; /* UTF-16: file offset of each byte of t; NULL for UTF-8 */
    size_t *lines;      /* start of each line in t, built on first use */
    size_t nlines;
} mof_text;

/* ---- tokens (mof_lex.c) ---- */

typedef enum tkind { T_EOF, T_IDENT, T_STRING, T_CHAR, T_NUM, T_ALIAS, T_PUNCT, T_BAD } tkind;

typedef struct tok {
    tkind k;
    size_t pos, end; /* [pos, end) in the text; strings/chars include their quotes */
    char c;          /* T_PUNCT: the character */
    bool repaired;   /* T_IDENT read from markdown damage "**Name" (means "__Name") */
} tok;

typedef struct lexer {
    wh_reader r;     /* over the decoded text */
    bool tolerant;
    bool comment_reported; /* the unterminated comment was reported once */
    struct wh_mof *m;
} lexer;

void mof_lex_init(lexer *L, struct wh_mof *m, bool tolerant);
tok mof_lex_next(lexer *L);

/* ---- model ---- */

typedef enum vkind { V_NULL, V_BOOL, V_INT, V_UINT, V_REAL, V_STR, V_CHAR, V_ARRAY, V_ALIAS, V_INST, V_IDENT } vkind;

struct mof_inst;

typedef struct mval {
    vkind k;
    size_t pos;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct { char *s; size_t len; bool lossy; } s; /* V_STR, V_CHAR, V_ALIAS (name), V_IDENT */
        struct { struct mval *v; size_t n; } arr;
        struct mof_inst *inst;
    } as;
} mval;

typedef struct mqual {
    const char *name;
    mval v; /* V_BOOL true when written without a value */
} mqual;

typedef struct mquals {
    mqual *q;
    size_t n;
} mquals;

typedef struct mprop {
    const char *name;
    mval v;
    size_t pos;
} mprop;

enum { OBJ_INST = 1, OBJ_CLASS = 2 };

typedef struct mof_inst {
    int kind;             /* OBJ_INST */
    size_t pos;           /* text position of the declaration */
    const char *cls;
    const char *alias;    /* without '$'; NULL if none */
    const char *ns;       /* normalised namespace in effect */
    const char *ns_raw;   /* as the pragma wrote it (after escapes); NULL: default */
    mquals quals;
    mprop *props;
    size_t nprops;
    bool degraded;        /* tolerant mode repaired or skipped something inside */
    bool embedded;
    const char *path;     /* object path, namespace left out: built once (mof_emit.c) */
    bool path_busy;       /* being built: an alias cycle */
} mof_inst;

typedef struct mfeat {
    const char *name, *type;
    bool is_ref, is_array, is_method;
    long array_size;      /* -1: unbounded */
    bool has_default;
    mval def;
    mquals quals;
} mfeat;

typedef struct mof_class {
    int kind;             /* OBJ_CLASS */
    size_t pos;
    const char *name, *super, *alias;
    const char *ns, *ns_raw;
    mquals quals;
    mfeat *feats;
    size_t nfeats;
    bool degraded;
} mof_class;

typedef struct mpragma {
    const char *name;     /* as written */
    char **args;          /* decoded arguments (strings joined), as text */
    size_t nargs;
    size_t pos;
} mpragma;

typedef struct mnote {    /* a skipped region or a repair */
    size_t pos, end;
    const char *what;
} mnote;

typedef struct minclude {
    const char *name;
    int found;            /* 1 found, 0 not found, -1 not looked up (memory input / refused path) */
} minclude;

struct wh_mof {
    wh_arena *a;          /* the model */
    wh_arena *ra;         /* one record at a time */
    wh_diag_sink *diags;
    wh_diag_sink none; /* where diagnostics go when the caller gave no sink */
    wh_mapped map;
    bool mapped;
    const uint8_t *data;
    size_t size;
    const char *name;
    char *dir;            /* directory of the file, for includes; NULL from memory */
    bool strict;
    wh_mof_info info;
    mof_text text;
    bool binary;
    uint64_t ts[3];       /* mtime, ctime, atime as FILETIME; 0 unknown */
    char sha256[65];
    wh_ptrvec objs;       /* mof_inst / mof_class in file order */
    wh_ptrvec pragmas;    /* mpragma */
    wh_ptrvec skipped;    /* mnote */
    wh_ptrvec repairs;    /* mnote */
    wh_ptrvec includes;   /* minclude */
    wh_ptrvec nss;        /* distinct namespaces (const char *) */
    size_t qualifier_decls;
    size_t skipped_total, repairs_total;
    bool has_error;
    size_t err_pos;
    const char *err_msg;
    bool deletes_persistence;
    bool remote_target;
    wh_strmap aliases;    /* lower-cased alias -> mof_inst */
    wh_strmap classes;    /* lower-cased class name -> mof_class */
};

/* mof_text.c */
wh_status mof_decode(struct wh_mof *m);
uint64_t mof_file_off(const struct wh_mof *m, size_t pos);
void mof_line_col(struct wh_mof *m, size_t pos, size_t *line, size_t *col);
/* A diagnostic naming the file offset, line and column of pos. */
void mof_diag(struct wh_mof *m, wh_severity sev, wh_status code, size_t pos, const char *fmt, ...) WH_PRINTF(5, 6);
void mof_note(struct wh_mof *m, bool skip, size_t pos, size_t end, const char *what);
char *mof_lower(wh_arena *a, const char *s);

/* mof_parse.c */
void mof_parse(struct wh_mof *m);
/* "root\\x" from a pragma argument; cur is the namespace in effect. */
const char *mof_ns_normalize(wh_arena *a, const char *s, const char *cur, bool *remote);

/* mof_emit.c */
bool mof_class_is_consumer(struct wh_mof *m, const char *cls, unsigned depth);

#endif
