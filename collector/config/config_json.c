/*
 * config_json.c - the config file: read it, strip its comments, parse it
 * with cJSON and apply every member through the key table (config.h,
 * config_keys.h). Unknown keys, repeated keys and JSON syntax errors stop
 * the load with one line naming the file and the key or the line.
 *
 * Comments are blanked to spaces in a private copy of the text rather
 * than removed (cJSON_Minify would also remove the newlines), so a syntax
 * error still reports the line of the original file.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config.h"
#include "collector/config/config_json.h"
#include "collector/config/config_keys.h"

static int read_text(const char *path, struct vt_buf *text, char *err,
    size_t errlen);

/*
 * Blank out // and block comments outside strings with spaces, keeping
 * newlines so that line numbers in later errors stay right. Returns 0, or
 * -1 with *bad set to the offset of an unterminated block comment.
 */
static int strip_comments(char *s, size_t *bad)
{
	int in_string = 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (in_string) {
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
			else if (s[i] == '"')
				in_string = 0;
			continue;
		}
		if (s[i] == '"') {
			in_string = 1;
		} else if (s[i] == '/' && s[i + 1] == '/') {
			while (s[i] != '\0' && s[i] != '\n')
				s[i++] = ' ';
			if (s[i] == '\0')
				break;
		} else if (s[i] == '/' && s[i + 1] == '*') {
			size_t start = i;
			s[i++] = ' ';
			s[i++] = ' ';
			while (s[i] != '\0' &&
			    !(s[i] == '*' && s[i + 1] == '/')) {
				if (s[i] != '\n')
					s[i] = ' ';
				i++;
			}
			if (s[i] == '\0') {
				*bad = start;
				return -1;
			}
			s[i++] = ' ';
			s[i] = ' ';
		}
	}
	return 0;
}

static unsigned line_of(const char *text, size_t offset)
{
	unsigned line = 1;
	for (size_t i = 0; i < offset && text[i] != '\0'; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/*
 * Where to point at a syntax error that cJSON reported at `at`. cJSON
 * sometimes stops one past the culprit (a trailing comma before '}' is
 * reported after the '}'); from blank space after a closing bracket step
 * back to it. Otherwise skip blanks forward (to the NUL at end of file).
 */
static size_t error_offset(const char *doc, size_t at)
{
	static const char blank[] = " \t\r\n";
	if (doc[at] == '\0' || strchr(blank, doc[at]) != NULL) {
		size_t q = at;
		while (q > 0 && strchr(blank, doc[q - 1]) != NULL)
			q--;
		if (q > 0 && (doc[q - 1] == '}' || doc[q - 1] == ']'))
			return q - 1;
	}
	return at + strspn(doc + at, blank);
}

/* ---- the line of a key ------------------------------------------------ */

#define LOCATE_DEPTH 16

/* Where the scanner is: one frame per open object or array. */
struct frame {
	char type;               /* '{' or '[' */
	const char *key;         /* objects: the member being read */
	size_t key_len;
	size_t index;            /* arrays: the element being read */
};

/* Whether the frames spell path ("a.b[2].c"). */
static int path_is(const struct frame *f, int depth, const char *path)
{
	const char *p = path;
	for (int i = 0; i < depth; i++) {
		if (f[i].type == '{') {
			if (i > 0 && *p++ != '.')
				return 0;
			if (f[i].key == NULL ||
			    strncmp(p, f[i].key, f[i].key_len) != 0)
				return 0;
			p += f[i].key_len;
		} else {
			char idx[32];
			int n = snprintf(idx, sizeof idx, "[%zu]", f[i].index);
			if (strncmp(p, idx, (size_t)n) != 0)
				return 0;
			p += n;
		}
	}
	return *p == '\0';
}

/*
 * The line of the occurrence-th (1, 2, ...) member key or array item
 * whose path is path ("a.b[2].c", "a.b[2]") in doc (JSON, comments
 * blanked), 0 when there is none. A small scanner, not a parser: the
 * document was parsed before this runs.
 */
static unsigned key_line(const char *doc, const char *path, int occurrence)
{
	struct frame f[LOCATE_DEPTH];
	int depth = 0, expect_key = 0, expect_item = 0, seen = 0;
	unsigned line = 1;
	for (const char *p = doc; *p; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r')
			continue;
		/* An array item starts here: "a[1]" is its line. */
		if (expect_item && *p != ']' && path_is(f, depth, path) &&
		    ++seen == occurrence)
			return line;
		expect_item = 0;
		switch (*p) {
		case '{':
		case '[':
			if (depth == LOCATE_DEPTH)
				return 0;
			f[depth] = (struct frame){ .type = *p };
			depth++;
			expect_key = *p == '{';
			expect_item = *p == '[';
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			expect_key = 0;
			break;
		case ',':
			if (depth > 0 && f[depth - 1].type == '[') {
				f[depth - 1].index++;
				expect_item = 1;
			}
			expect_key = depth > 0 && f[depth - 1].type == '{';
			break;
		case '"': {
			const char *start = ++p;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p == '\0')
				return 0;
			if (!expect_key)
				break;
			expect_key = 0;
			f[depth - 1].key = start;
			f[depth - 1].key_len = (size_t)(p - start);
			if (path_is(f, depth, path) && ++seen == occurrence)
				return line;
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

void vt_config_json_add_line(char *err, size_t errlen)
{
	static const char lead[] = "vitalsd: ";
	if (strncmp(err, lead, sizeof lead - 1) != 0)
		return;
	const char *file = err + sizeof lead - 1;
	const char *colon = strstr(file, ": ");
	if (colon == NULL || strncmp(colon + 2, "line ", 5) == 0)
		return;
	char path[VT_PATH_LEN];
	size_t flen = (size_t)(colon - file);
	if (flen == 0 || flen >= sizeof path)
		return;
	memcpy(path, file, flen);
	path[flen] = '\0';
	/* PATH, and the token after it ("rrd.overrides[0]: bogus: ...") */
	const char *k = colon + 2, *k_end = strstr(k, ": ");
	if (k_end == NULL)
		return;
	const char *k2 = k_end + 2, *k2_end = strstr(k2, ": ");
	char key[256], longer[512];
	if ((size_t)(k_end - k) >= sizeof key)
		return;
	memcpy(key, k, (size_t)(k_end - k));
	key[k_end - k] = '\0';
	snprintf(longer, sizeof longer, "%s.%.*s", key,
	    k2_end ? (int)(k2_end - k2) : 0, k2);

	struct vt_buf text;
	vt_buf_init(&text);
	char ignore[8];
	size_t bad;
	unsigned line = 0;
	if (read_text(path, &text, ignore, sizeof ignore) == 0 &&
	    strip_comments(text.data, &bad) == 0) {
		int twice = strstr(k_end, ": given twice") == k_end;
		if (k2_end)
			line = key_line(text.data, longer, 1);
		/* A key that is missing ("required"): the nearest
		 * enclosing key or item. */
		while (line == 0 && key[0] != '\0') {
			line = key_line(text.data, key, twice ? 2 : 1);
			char *cut = strrchr(key, '.'), *br = strrchr(key, '[');
			if (br > cut)
				cut = br;
			if (cut == NULL)
				break;
			*cut = '\0';
		}
	}
	vt_buf_fini(&text);
	if (line == 0)
		return;
	char rest[VT_ERR_LEN * 2];
	snprintf(rest, sizeof rest, "%s", colon + 2);
	size_t at = (size_t)(colon - err);
	snprintf(err + at, errlen - at, ": line %u: %s", line, rest);
}

const char *vt_config_json_for_log(char *err, size_t errlen)
{
	vt_config_json_add_line(err, errlen);
	return strncmp(err, "vitalsd: ", 9) == 0 ? err + 9 : err;
}

/* Apply the members of one JSON object; prefix is NULL at the top. */
static int apply_object(struct vt_config *cfg, const char *file,
    const cJSON *obj, const char *prefix, char *err, size_t errlen)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, obj) {
		char path[160], show[VT_CFG_SHOWN_MAX + 8], why[VT_CFG_WHY_LEN];
		const char *name = item->string;
		snprintf(path, sizeof path, "%s%s%s", prefix ? prefix : "",
		    prefix ? "." : "", name);
		vt_config_keys_shown(path, show, sizeof show);
		for (const cJSON *prev = obj->child; prev != item;
		    prev = prev->next) {
			if (strcmp(prev->string, name) == 0) {
				vt_config_keys_error(err, errlen, file, show,
				    "given twice");
				return -1;
			}
		}
		const struct vt_cfg_key *k = strchr(name, '.') ? NULL :
		    vt_config_keys_find(path);
		if (k != NULL) {
			if (vt_config_keys_set_json(k, cfg, item, why,
			    sizeof why) < 0) {
				vt_config_keys_error(err, errlen, file, show,
				    "%s", why);
				return -1;
			}
			continue;
		}
		if (prefix == NULL && strcmp(name, "alerts") == 0)
			continue;   /* alert_config.c reads it (main.c checks it) */
		if (prefix == NULL && strcmp(name, "expectations") == 0)
			continue;   /* alerts/expect.c reads it (main.c too) */
		if (prefix == NULL && strcmp(name, "mappings") == 0)
			continue;   /* statsd/mapping_yaml.c reads it (main.c too) */
		if (prefix && strcmp(prefix, "rrd") == 0 &&
		    strcmp(name, "overrides") == 0)
			continue;   /* rrd_files.c reads it (main.c) */
		if (prefix == NULL && strchr(name, '.') == NULL &&
		    vt_config_keys_is_section(path)) {
			if (!cJSON_IsObject(item)) {
				vt_config_keys_error(err, errlen, file, show,
				    "expected an object of settings, got %s",
				    vt_config_keys_json_type(item));
				return -1;
			}
			if (apply_object(cfg, file, item, path, err,
			    errlen) < 0)
				return -1;
			continue;
		}
		vt_config_keys_error(err, errlen, file, show, "unknown key");
		return -1;
	}
	return 0;
}

/* Strip comments from text and parse it as a JSON object (caller
 * cJSON_Delete). NULL with err set. */
static cJSON *parse_doc(const char *file, const char *text, char *err,
    size_t errlen)
{
	char *doc = vt_xstrdup(text);
	cJSON *root = NULL;
	const char *end = NULL;
	size_t bad;

	if (strip_comments(doc, &bad) < 0) {
		vt_config_keys_error(err, errlen, file, NULL,
		    "line %u: unterminated /* comment", line_of(text, bad));
		goto out;
	}
	if (doc[strspn(doc, " \t\r\n")] == '\0') {
		vt_config_keys_error(err, errlen, file, NULL, "empty: expected "
		    "a JSON object such as {\"flush_interval\": \"10s\"}");
		goto out;
	}
	root = cJSON_ParseWithOpts(doc, &end, 1);
	if (root == NULL) {
		size_t at = end ? (size_t)(end - doc) : 0;
		at = error_offset(doc, at);
		char near[24];
		size_t n = strcspn(doc + at, "\r\n");
		if (n >= sizeof near)
			n = sizeof near - 1;
		memcpy(near, doc + at, n);
		near[n] = '\0';
		vt_config_keys_shown(near, near, sizeof near);
		if (near[0] == '\0')
			vt_config_keys_error(err, errlen, file, NULL,
			    "line %u: invalid JSON: unexpected end of file",
			    line_of(doc, at));
		else
			vt_config_keys_error(err, errlen, file, NULL,
			    "line %u: invalid JSON near \"%s\"",
			    line_of(doc, at), near);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		vt_config_keys_error(err, errlen, file, NULL, "expected a JSON "
		    "object at the top level, got %s",
		    vt_config_keys_json_type(root));
		cJSON_Delete(root);
		root = NULL;
	}
out:
	free(doc);
	return root;
}

int vt_config_json_apply(struct vt_config *cfg, const char *file,
    const char *text, char *err, size_t errlen)
{
	if (file == NULL)
		file = "(config)";
	cJSON *root = parse_doc(file, text, err, errlen);
	if (root == NULL)
		return -1;
	int rc = apply_object(cfg, file, root, NULL, err, errlen);
	cJSON_Delete(root);
	return rc;
}

/* The whole file into text. 0, or -1 with err set. */
static int read_text(const char *path, struct vt_buf *text, char *err,
    size_t errlen)
{
	char chunk[4096];
	int rc = -1;

	vt_buf_reserve(text, 0);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		vt_config_keys_error(err, errlen, path, NULL, "%s",
		    strerror(errno));
		return -1;
	}
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		vt_buf_append(text, chunk, n);
		if (text->len > VT_CONFIG_FILE_MAX) {
			vt_config_keys_error(err, errlen, path, NULL,
			    "larger than %u bytes", VT_CONFIG_FILE_MAX);
			goto out;
		}
	}
	if (ferror(f)) {
		vt_config_keys_error(err, errlen, path, NULL, "%s",
		    strerror(errno));
		goto out;
	}
	if (strlen(text->data) != text->len) {
		vt_config_keys_error(err, errlen, path, NULL,
		    "contains a NUL byte");
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

struct cJSON *vt_config_json_read(const char *path, char *err, size_t errlen)
{
	struct vt_buf text;
	cJSON *root = NULL;

	vt_buf_init(&text);
	if (read_text(path, &text, err, errlen) == 0)
		root = parse_doc(path, text.data, err, errlen);
	vt_buf_fini(&text);
	return root;
}

int vt_config_json_load_file(struct vt_config *cfg, const char *path, char *err,
    size_t errlen)
{
	struct vt_buf text;
	int rc = -1;

	vt_buf_init(&text);
	if (read_text(path, &text, err, errlen) < 0)
		goto out;
	if (strlen(path) >= sizeof cfg->config_file) {
		vt_config_keys_error(err, errlen, NULL, "-c",
		    "path longer than %zu bytes", sizeof cfg->config_file - 1);
		goto out;
	}
	snprintf(cfg->config_file, sizeof cfg->config_file, "%s", path);
	rc = vt_config_json_apply(cfg, path, text.data, err, errlen);
out:
	vt_buf_fini(&text);
	return rc;
}
