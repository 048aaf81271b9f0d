/*
 * fuzz_config.c - the config loader (config.h): the input is a config
 * file's text, applied in memory with vt_config_json_apply (comments,
 * cJSON, the key table), then validated.
 *
 * Invariants: 0 or -1; on error the message is one line naming the file
 * ("vitalsd: fuzz.json..."); on success every key is within its type and
 * range (vt_config_keys_check), and the effective configuration printed
 * as --check-config prints it is itself a config that loads, and printing
 * that again gives the same text (print is a fixed point, so what
 * --check-config shows is what would run). Durations and addresses in the
 * input are also fed to their parsers directly: a parsed duration is
 * finite and not negative and survives format-then-parse.
 */
#include <math.h>

#include "collector/base/buf.h"
#include "collector/base/parse.h"
#include "collector/config/config.h"
#include "collector/config/config_json.h"
#include "collector/config/config_keys.h"
#include "fuzz_common.h"

#define FILE_NAME "fuzz.json"

static char *print_config(const struct vt_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_ASSERT(f != NULL, "open_memstream");
	vt_config_print(cfg, f);
	fclose(f);
	return text;
}

static void check_error(const char *err, size_t cap)
{
	fuzz_message(err, cap, "config");
	FUZZ_ASSERT(strncmp(err, "vitalsd: " FILE_NAME, 17) == 0,
	    "error does not name the file: %s", err);
}

static void check_loaded(const struct vt_config *cfg)
{
	size_t nkeys;
	const struct vt_cfg_key *keys = vt_config_keys_table(&nkeys);
	char why[VT_CFG_WHY_LEN], err[VT_ERR_LEN * 2];

	for (size_t i = 0; i < nkeys; i++)
		FUZZ_ASSERT(vt_config_keys_check(&keys[i], cfg, why,
		    sizeof why) == 0, "%s accepted out of range: %s",
		    keys[i].path, why);

	char *p1 = print_config(cfg);
	struct vt_config again;
	vt_config_defaults(&again);
	FUZZ_ASSERT(vt_config_json_apply(&again, FILE_NAME, p1, err,
	    sizeof err) == 0, "printed config does not load: %s\n%s", err, p1);
	char *p2 = print_config(&again);
	char *p3;
	struct vt_config third;
	vt_config_defaults(&third);
	FUZZ_ASSERT(vt_config_json_apply(&third, FILE_NAME, p2, err,
	    sizeof err) == 0, "reprinted config does not load: %s", err);
	p3 = print_config(&third);
	FUZZ_ASSERT(strcmp(p2, p3) == 0, "print is not a fixed point:\n%s\n"
	    "---\n%s", p2, p3);
	free(p1);
	free(p2);
	free(p3);
}

static void check_scalars(const char *text)
{
	double s;
	char host[VT_ADDR_LEN];
	int port;

	if (vt_parse_duration(text, &s) == 0) {
		FUZZ_ASSERT(isfinite(s) && s >= 0, "duration %g", s);
		struct vt_buf b;
		vt_buf_init(&b);
		vt_parse_format_duration(s, &b);
		double back;
		FUZZ_ASSERT(vt_parse_duration(b.data, &back) == 0,
		    "formatted duration \"%s\" does not parse", b.data);
		FUZZ_ASSERT(fabs(back - s) <= 1e-6 * (s > 1 ? s : 1) + 5e-7,
		    "\"%s\" -> %.17g -> \"%s\" -> %.17g", text, s, b.data, back);
		vt_buf_fini(&b);
	}
	if (vt_parse_addr(text, host, sizeof host, &port) == 0)
		FUZZ_ASSERT(port >= 0 && port <= 65535 &&
		    strnlen(host, sizeof host) < sizeof host, "addr");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > VT_CONFIG_FILE_MAX)
		return 0;
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	struct vt_config cfg;
	char err[VT_ERR_LEN * 2];
	vt_config_defaults(&cfg);
	int rc = vt_config_json_apply(&cfg, FILE_NAME, text, err, sizeof err);
	FUZZ_ASSERT(rc == 0 || rc == -1, "rc %d", rc);
	if (rc < 0) {
		check_error(err, sizeof err);
	} else {
		check_loaded(&cfg);
		snprintf(cfg.config_file, sizeof cfg.config_file, FILE_NAME);
		if (vt_config_validate(&cfg, err, sizeof err) < 0)
			check_error(err, sizeof err);
	}
	if (size < 64)
		check_scalars(text);
	free(text);
	return 0;
}
