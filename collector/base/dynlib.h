/*
 * dynlib.h - optional libraries opened at run time (dlopen), so a daemon
 * pays for a library only when it uses it.
 *
 * librrd brings about 40 shared libraries with it (cairo, pango, glib,
 * fontconfig, ICU, X11) and libcurl a dozen (Kerberos, LDAP, SSH): about
 * 8 MB of resident pages that a vitalsd that stores no files and calls no
 * webhooks never needs. Their users (rrd_lib.c, hook_webhook.c,
 * amqp_lib.c) name the symbols they call in a table and load the library
 * on first use; the build gets each library's soname from its -dev
 * package (sonames.h).
 *
 * A library stays open until the process exits (never dlclose'd: its
 * code may still be on a thread's stack).
 */
#ifndef VT_DYNLIB_H
#define VT_DYNLIB_H

#include <stddef.h>

#include <pthread.h>

/* One symbol: its name and where to store its address. */
struct vt_dynsym {
	const char *name;
	void **slot;
};

/* One optional library: what to open and resolve, and how that went.
 * Define it static with VT_DYNLIB_INIT. */
struct vt_dynlib {
	const char *soname;
	const struct vt_dynsym *syms;
	size_t nsyms;
	pthread_mutex_t lock;
	int state;                  /* 0 not tried, 1 open, -1 failed */
	char err[256];
};

#define VT_DYNLIB_INIT(so, table) \
	{ (so), (table), sizeof(table) / sizeof((table)[0]), \
	  PTHREAD_MUTEX_INITIALIZER, 0, "" }

/* Open the library and resolve every symbol, the first time; later calls
 * say how that went. 0, or -1 with err naming the library or the first
 * missing symbol (every slot is then NULL). Thread-safe. */
int vt_dynlib_load(struct vt_dynlib *l, char *err, size_t errlen);

#endif
