/*
 * state_file.h - the daemon's own state files in the data directory
 * (health.json, catalogue.json, alerts.json): written atomically, read
 * whole, and set aside when they cannot be used.
 *
 * Writing: a temporary file "<path>.tmp", fsync, rename over the old
 * file, fsync of the directory. A crash at any point leaves either the
 * old file or the new one, never a mix.
 */
#ifndef VT_STATE_FILE_H
#define VT_STATE_FILE_H

#include <stddef.h>

/* Write len bytes of text to <dir>/<name> atomically. 0, or -errno with
 * err saying which step failed. */
int vt_state_file_write(const char *dir, const char *name, const char *text,
    size_t len, char *err, size_t errlen);

/* Read <dir>/<name> whole into *out (NUL-terminated, caller frees) and
 * *len. 0; -ENOENT when there is no file; -EFBIG past max bytes; another
 * -errno. */
int vt_state_file_read(const char *dir, const char *name, size_t max,
    char **out, size_t *len);

/* Rename an unusable <dir>/<name> aside to <name>.corrupt-<unix time>
 * and write into err why and where it went (`what` names what the daemon
 * starts without, e.g. "check state"). Returns -EINVAL. */
int vt_state_file_set_aside(const char *dir, const char *name,
    const char *why, const char *what, double now, char *err,
    size_t errlen);

/*
 * The usual state file: a JSON document {"format": format, "version":
 * version, "<list>": [...]} read from <dir>/<name> (at most max bytes).
 * 1 with *root (the caller's, cJSON_Delete) and *items (its list); 0
 * without a file; -EINVAL when it is not such a document, after setting
 * it aside (vt_state_file_set_aside, `what` the daemon starts without);
 * another -errno when it cannot be read. err says what happened.
 */
struct cJSON;
int vt_state_file_load_json(const char *dir, const char *name, size_t max,
    const char *format, int version, const char *list, const char *what,
    double now, struct cJSON **root, const struct cJSON **items, char *err,
    size_t errlen);

#endif
