/*
 * fuzz_conf.c: libFuzzer harness for spamd-setup's reading of spamd.conf:
 * the getcap syntax layer (getcap_parse, getcap_find, getcap_get) and the
 * meaning layer (conf_from_db), including a message file.
 *
 * Input: byte 0 is the length M of a message file's contents, taken from
 * the end of the input; the bytes between are spamd.conf. Every unquoted,
 * non-empty :msg=: value is pointed at that message file (a memfd, opened
 * through /proc/self/fd), so conf.c's file reading and checks run on
 * fuzzed bytes and nothing outside this process is ever opened.
 *
 * Invariants:
 *	getcap_parse returns the number of warnings it logged;
 *	every entry has names, none empty or holding ':' '|' or LF; an entry
 *	not marked broken has names without blanks, quotes or backslashes
 *	and capabilities whose value agrees with their type (a string for
 *	STR, digits for NUM, none for BOOL and CANCEL); every line number
 *	is within the file; getcap_find finds each name's first entry;
 *	with no error at all, no entry is broken and no name repeats;
 *	every list conf_from_db returns is complete: a name, a file, a
 *	method; a black list has a usable tag and a message that survives
 *	cfg_encode, a white list none; black lists are not repeated; an
 *	error-free configuration has at least one list.
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "spamd/cfg.h"
#include "spamd-setup/conf.h"
#include "spamd-setup/getcap.h"
#include "tests/fuzz/fuzz.h"

static int	msgfd = -1;
static char	msgpath[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-conf");
	if ((msgfd = memfd_create("fuzz-conf-msg", MFD_CLOEXEC)) == -1) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(msgpath, sizeof(msgpath), "/proc/self/fd/%d", msgfd);
	return 0;
}

static void
set_msgfile(const uint8_t *p, size_t n)
{
	if (ftruncate(msgfd, 0) == -1 ||
	    (n > 0 && pwrite(msgfd, p, n, 0) != (ssize_t)n)) {
		perror("message memfd");
		exit(1);
	}
}

static void
check_db(const struct getcap_db *db, int errors, int nlines)
{
	const struct getcap_ent *e;
	const struct getcap_cap *c;
	size_t i, j, k;

	for (i = 0; i < db->nents; i++) {
		e = &db->ents[i];
		FUZZ_CHECK(e->nnames > 0, "entry %zu without names", i);
		FUZZ_CHECK(e->line >= 1 && e->line <= nlines, "entry line %d "
		    "of %d", e->line, nlines);
		if (errors == 0)
			FUZZ_CHECK(!e->broken, "broken entry without an error");
		for (j = 0; j < e->nnames; j++) {
			const char *n = e->names[j];

			FUZZ_CHECK(n[0] != '\0', "empty name");
			FUZZ_CHECK(strpbrk(n, ":|\n") == NULL, "name \"%s\"", n);
			if (!e->broken)
				FUZZ_CHECK(strpbrk(n, " \t\"\\") == NULL,
				    "name \"%s\" in a sound entry", n);
			/* the first entry with this name is the one found */
			for (k = 0; k < i; k++) {
				size_t m;

				for (m = 0; m < db->ents[k].nnames; m++)
					if (strcmp(db->ents[k].names[m], n) ==
					    0)
						break;
				if (m < db->ents[k].nnames)
					break;
			}
			if (errors == 0)
				FUZZ_CHECK(k == i, "name \"%s\" repeats "
				    "without an error", n);
			FUZZ_CHECK(getcap_find(db, n) == &db->ents[k],
			    "getcap_find(\"%s\") missed its first entry", n);
		}
		for (j = 0; j < e->ncaps; j++) {
			c = &e->caps[j];
			FUZZ_CHECK(c->name != NULL && c->name[0] != '\0',
			    "capability without a name");
			FUZZ_CHECK(strpbrk(c->name, ":=#@\n") == NULL,
			    "capability name \"%s\"", c->name);
			FUZZ_CHECK(c->line >= e->line && c->line <= nlines,
			    "capability line %d, entry at %d of %d", c->line,
			    e->line, nlines);
			if (e->broken)
				continue;
			switch (c->type) {
			case GETCAP_STR:
				FUZZ_CHECK(c->value != NULL, "string without "
				    "a value");
				break;
			case GETCAP_NUM:
				FUZZ_CHECK(c->value != NULL && c->value[0] !=
				    '\0' && strspn(c->value, "0123456789") ==
				    strlen(c->value), "number \"%s\"",
				    c->value ? c->value : "(null)");
				break;
			case GETCAP_BOOL:
			case GETCAP_CANCEL:
				FUZZ_CHECK(c->value == NULL, "value on a "
				    "boolean or cancel");
				break;
			default:
				FUZZ_CHECK(0, "capability type %d",
				    (int)c->type);
			}
			if (getcap_get(e, c->name) != NULL)
				FUZZ_CHECK(strcmp(getcap_get(e, c->name)->name,
				    c->name) == 0, "getcap_get");
		}
	}
}

/* Point unquoted message files at our memfd. */
static void
redirect_msgfiles(struct getcap_db *db)
{
	size_t i, j;

	for (i = 0; i < db->nents; i++) {
		for (j = 0; j < db->ents[i].ncaps; j++) {
			struct getcap_cap *c = &db->ents[i].caps[j];

			if (strcmp(c->name, "msg") != 0 ||
			    c->type != GETCAP_STR || c->quoted ||
			    c->value == NULL || c->value[0] == '\0')
				continue;
			free(c->value);
			c->value = xstrdup(msgpath);
		}
	}
}

static void
check_conf(const struct conf *c, int errors)
{
	const struct conf_list *l;
	const char *why;
	size_t i, j, len;
	char *line;

	FUZZ_CHECK(c->file != NULL, "conf without its file name");
	if (errors == 0)
		FUZZ_CHECK(c->nlists > 0, "no list and no error");
	for (i = 0; i < c->nlists; i++) {
		l = &c->lists[i];
		FUZZ_CHECK(l->name != NULL && l->name[0] != '\0', "nameless "
		    "list");
		FUZZ_CHECK(l->file != NULL && l->file[0] != '\0', "list %s "
		    "without a file", l->name);
		FUZZ_CHECK(l->method >= CONF_FILE && l->method <= CONF_HTTPS,
		    "list %s method %d", l->name, (int)l->method);
		FUZZ_CHECK(conf_method_name(l->method) != NULL, "method name");
		if (l->kind == CONF_WHITE) {
			FUZZ_CHECK(l->msg == NULL, "white list %s with a "
			    "message", l->name);
			continue;
		}
		FUZZ_CHECK(l->kind == CONF_BLACK, "list kind %d", (int)l->kind);
		FUZZ_CHECK(cfg_tag_check(l->name) == NULL, "black list %s: "
		    "bad tag", l->name);
		FUZZ_CHECK(l->msg != NULL, "black list %s without a message",
		    l->name);
		line = cfg_encode(l->name, l->msg, NULL, 0, &len, &why);
		FUZZ_CHECK(line != NULL, "black list %s: message does not "
		    "encode: %s", l->name, why);
		free(line);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(c->lists[j].kind != CONF_BLACK ||
			    strcmp(c->lists[j].name, l->name) != 0,
			    "black list %s twice", l->name);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct getcap_db db;
	struct conf c;
	size_t m, clen, i;
	int gerr, cerr, nlines;

	if (size < 1)
		return 0;
	m = data[0];
	if (m > size - 1)
		m = size - 1;
	clen = size - 1 - m;
	set_msgfile(data + 1 + clen, m);
	/* lines as getcap counts them: LF-separated, a last partial one */
	for (nlines = 0, i = 0; i < clen; i++)
		if (data[1 + i] == '\n')
			nlines++;
	if (clen > 0 && data[clen] != '\n')
		nlines++;

	fuzz_log_reset();
	gerr = getcap_parse("fuzz.conf", (const char *)data + 1, clen, &db);
	FUZZ_CHECK(gerr >= 0 && (unsigned long)gerr == fuzz_nwarn, "%d "
	    "errors, %lu warnings (last: %s)", gerr, fuzz_nwarn,
	    fuzz_last_log);
	FUZZ_CHECK(db.file != NULL && strcmp(db.file, "fuzz.conf") == 0,
	    "db file name");
	check_db(&db, gerr, nlines);
	redirect_msgfiles(&db);
	cerr = conf_from_db(&db, &c);
	FUZZ_CHECK(cerr >= 0, "conf_from_db %d", cerr);
	check_conf(&c, cerr);
	conf_free(&c);
	getcap_free(&db);
	return 0;
}
