/*
 * dynlib.h - optional libraries opened at run time (dlopen), so a daemon
 * pays for a library only when it uses it.
 *
 * librrd brings about 40 shared libraries with it (cairo, pango, glib,
 * fontconfig, ICU, X11) and libcurl a dozen (Kerberos, LDAP, SSH): about
 * 8 MB of resident pages that a vitalsd that stores no files and calls no
 * webhooks never needs. Their users (rrdlib.c, hook_webhook.c) name the
 * symbols they call in a table and open the library on first use; the
 * build gets each library's soname from its -dev package (sonames.h).
 *
 * A library stays open until the process exits (never dlclose'd: its
 * code may still be on a thread's stack).
 */
#ifndef VT_DYNLIB_H
#define VT_DYNLIB_H

#include <stddef.h>

/* One symbol: its name and where to store its address. */
struct vt_dynsym {
	const char *name;
	void **slot;
};

/* Open the library soname and resolve every symbol of syms. 0, or -1
 * with err naming the library or the first missing symbol (every slot is
 * then NULL). Not thread-safe by itself: call under pthread_once. */
int vt_dynlib_open(const char *soname, const struct vt_dynsym *syms,
    size_t nsyms, char *err, size_t errlen);

#endif
