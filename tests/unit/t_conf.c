/*
 * t_conf.c: unit tests for spamd-setup/conf.c: what spamd.conf means,
 * and a file:line message for every configuration mistake.
 */
#include <stdio.h>
#include <string.h>

#include "common/compat.h"
#include "spamd-setup/conf.h"
#include "tests/unit/harness.h"

static void
put(const char *name, const char *text)
{
	FILE *f = fopen(t_path(name), "w");

	if (f == NULL)
		t_fail("fopen %s", name);
	fputs(text, f);
	if (fclose(f) != 0)
		t_fail("fclose %s", name);
}

/* conf_load on text written to t_path("spamd.conf") */
static int
load(const char *text, struct conf *c)
{
	char path[512];

	put("spamd.conf", text);
	strlcpy(path, t_path("spamd.conf"), sizeof(path));
	return conf_load(path, c);
}

static void
valid(void)
{
	struct conf c;
	char text[2048];

	put("msg.txt", "Your address %A\r\nis\tlisted\n\n\n");
	snprintf(text, sizeof(text),
	    "all:\\\n"
	    "\t:early:black1:white1:white2:black2:white1:\n"
	    "early:white:file=/lists/early:\n"
	    "black1:black:msg=\"one\\ntwo: \\\"three\\\"\":file=/lists/b1:\n"
	    "white1:white:method=exec:file=/bin/cat /lists/w1:\n"
	    "white2:white:method=http:file=\"http://example.org/w2\":\n"
	    "black2:\\\n"
	    "\t:black:\\\n"
	    "\t:msg=%s:\\\n"
	    "\t:method=https:\\\n"
	    "\t:file=example.org/b2.gz:\n"
	    "unused:black:file=/x:\n", t_path("msg.txt"));
	T_EQ_INT(load(text, &c), 0);
	T_EQ_INT(c.nlists, 6);
	T_EQ_STR(c.lists[0].name, "early");
	T_EQ_INT(c.lists[0].kind, CONF_WHITE);
	T_ASSERT(c.lists[0].msg == NULL);
	T_EQ_STR(c.lists[1].name, "black1");
	T_EQ_INT(c.lists[1].kind, CONF_BLACK);
	T_EQ_INT(c.lists[1].method, CONF_FILE);
	T_EQ_STR(c.lists[1].msg, "one\ntwo: \"three\"");
	T_EQ_STR(c.lists[1].file, "/lists/b1");
	T_EQ_INT(c.lists[1].line, 4);
	T_EQ_INT(c.lists[2].method, CONF_EXEC);
	T_EQ_STR(c.lists[2].file, "/bin/cat /lists/w1");
	/* a scheme matching the method is dropped */
	T_EQ_INT(c.lists[3].method, CONF_HTTP);
	T_EQ_STR(c.lists[3].file, "example.org/w2");
	T_EQ_STR(c.lists[4].name, "black2");
	T_EQ_INT(c.lists[4].method, CONF_HTTPS);
	/* message file: CRLF -> LF, tab -> blank, trailing newlines gone */
	T_EQ_STR(c.lists[4].msg, "Your address %A\nis listed");
	/* a white list may follow several black lists */
	T_EQ_STR(c.lists[5].name, "white1");
	t_expect_log("spamd.conf:2: warning: all: white list early has no "
	    "black list before it and has no effect");
	T_EQ_STR(conf_method_name(CONF_HTTPS), "https");
	conf_free(&c);
}

static const struct {
	const char	*text;
	const char	*log;
} bad[] = {
	{ "x:black:msg=\"m\":file=/f:\n",
	    "spamd.conf: no \"all\" entry naming the lists to load" },
	{ "all:x:y:\nx:black:msg=\"m\":file=/f:\n",
	    "spamd.conf:1: all: no entry \"y\"" },
	{ "all:x:\nx:msg=\"m\":file=/f:\n",
	    "spamd.conf:2: entry x: neither :black: nor :white:" },
	{ "all:x:\nx:black:white:msg=\"m\":file=/f:\n",
	    "spamd.conf:2: entry x: both :black: and :white:" },
	{ "all:x:\nx:black:file=/f:\n",
	    "spamd.conf:2: entry x: black list without :msg=:" },
	{ "all:x:\nx:black:msg=\"m\":\n",
	    "spamd.conf:2: entry x: no :file=: (a path, a command or a URL)" },
	{ "all:x:\nx:black:msg=\"m\":file=:\n",
	    "spamd.conf:2: entry x: no :file=: (a path, a command or a URL)" },
	{ "all:x:\nx:\\\n\t:black:msg=\"m\":file=/f:\\\n\t:method=gopher:\n",
	    "spamd.conf:4: entry x: unknown method \"gopher\" (use file, exec, "
	    "http or https)" },
	{ "all:x:\nx:black:msg=\"m\":file=h/f:method=ftp:\n",
	    "spamd.conf:2: entry x: method ftp is not supported; use http or "
	    "https" },
	{ "all:x:\nx:black:msg=\"m\":file=/f:method:\n",
	    "spamd.conf:2: entry x: method needs a value (file, exec, http or "
	    "https)" },
	{ "all:x:\nx:black:msg=\"m\":file=http\\://h/f:method=https:\n",
	    "spamd.conf:2: entry x: file=http://h/f does not match method "
	    "https" },
	{ "all:x:\nx:black:msg=\"m\":file=http://h/f:method=http:\n",
	    "spamd.conf:2: entry x: \"//h/f\" looks like the rest of a URL, "
	    "but ':' ends a value: give :file=: without \"http://\"" },
	{ "all:x;y:\nx;y:black:msg=\"m\":file=/f:\n",
	    "spamd.conf:2: entry x;y: unusable as a list name: tag holds a "
	    "blank, control, non-ASCII, ';' or '\"' character" },
	{ "all:spamd-greytrap:\nspamd-greytrap:black:msg=\"m\":file=/f:\n",
	    "spamd.conf:2: entry spamd-greytrap: unusable as a list name: tag "
	    "spamd-greytrap is reserved for spamd's greytrap list" },
	{ "all:x:\nx:black:msg=/nonexistent/msg:file=/f:\n",
	    "spamd.conf:2: entry x: message file /nonexistent/msg: No such "
	    "file or directory" },
	{ "all:x:\nx:black:msg=\"a\\tb\":file=/f:\n",
	    "spamd.conf:2: entry x: msg: the message holds a control "
	    "character" },
	{ "all:x:y:x:\nx:black:msg=\"m\":file=/f:\ny:white:file=/g:\n",
	    "spamd.conf:1: all: black list x named twice" },
	{ "all:all:\n", "spamd.conf:1: all: names itself" },
	{ "all:x=1:\nx:black:msg=\"m\":file=/f:\n",
	    "spamd.conf:1: all: \"x\" must be a plain list name" },
	{ "all:\n", "spamd.conf:1: all: names no list" },
	/* a syntax error is reported once, by the parser */
	{ "all:x:\nx:black:msg=\"m:file=/f:\n",
	    "spamd.conf:2: quoted string without its closing '\"'" },
};

static void
bad_configs(void)
{
	struct conf c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_clear_log();
		if (load(bad[i].text, &c) == 0)
			t_fail("no error for \"%s\"", bad[i].text);
		t_expect_log(bad[i].log);
		conf_free(&c);
	}
	/* no cascade: the broken entry is not also "missing" */
	t_no_log("no entry");
}

static void
msg_files(void)
{
	struct conf c;
	char text[1024], big[CONF_MSGFILE_MAX + 2];

	put("nul.txt", "a");
	{
		FILE *f = fopen(t_path("nul.txt"), "w");

		T_ASSERT(f != NULL);
		fwrite("a\0b", 1, 3, f);
		T_EQ_INT(fclose(f), 0);
	}
	snprintf(text, sizeof(text), "all:x:\nx:black:msg=%s:file=/f:\n",
	    t_path("nul.txt"));
	T_ASSERT(load(text, &c) > 0);
	t_expect_log("holds a NUL byte");
	conf_free(&c);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("big.txt", big);
	snprintf(text, sizeof(text), "all:x:\nx:black:msg=%s:file=/f:\n",
	    t_path("big.txt"));
	T_ASSERT(load(text, &c) > 0);
	t_expect_log("is larger than 4096 bytes");
	conf_free(&c);

	/* fits the file limit but not the wire: 2049 bytes escaped */
	memset(big, '"', 1025);
	big[1025] = '\0';
	put("quotes.txt", big);
	snprintf(text, sizeof(text), "all:x:\nx:black:msg=%s:file=/f:\n",
	    t_path("quotes.txt"));
	T_ASSERT(load(text, &c) > 0);
	t_expect_log("entry x: msg: the message is longer than 2048 bytes "
	    "once escaped");
	conf_free(&c);

	put("ctl.txt", "bell\a\n");
	snprintf(text, sizeof(text), "all:x:\nx:black:msg=%s:file=/f:\n",
	    t_path("ctl.txt"));
	T_ASSERT(load(text, &c) > 0);
	t_expect_log("entry x: msg: the message holds a control character");
	conf_free(&c);
}

static void
warnings(void)
{
	struct conf c;

	T_EQ_INT(load("all:x:w:\n"
	    "x:black:msg=\"m\":file=/f:mehtod=http:\n"
	    "w:white:msg=\"ignored\":file=/g:\n", &c), 0);
	t_expect_log("spamd.conf:2: warning: entry x: unknown capability "
	    "\"mehtod\" ignored");
	t_expect_log("spamd.conf:3: warning: entry w: a white list has no "
	    "message; :msg=: ignored");
	T_EQ_INT(c.nlists, 2);
	T_EQ_INT(c.lists[0].method, CONF_FILE);
	conf_free(&c);
}

/* Every problem of a file in one run. */
static void
all_errors_at_once(void)
{
	struct conf c;

	T_EQ_INT(load("all:a:b:c:d:\n"
	    "a:black:file=/f:\n"
	    "b:white:\n"
	    "c:black:white:msg=\"m\":file=/f:\n", &c), 4);
	t_expect_log("spamd.conf:2: entry a: black list without :msg=:");
	t_expect_log("spamd.conf:3: entry b: no :file=:");
	t_expect_log("spamd.conf:4: entry c: both :black: and :white:");
	t_expect_log("spamd.conf:1: all: no entry \"d\"");
	conf_free(&c);

	T_EQ_INT(conf_load(t_path("missing.conf"), &c), 1);
	t_expect_log("missing.conf: No such file or directory");
	conf_free(&c);
}

const struct t_case t_cases[] = {
	T_CASE(valid),
	T_CASE(bad_configs),
	T_CASE(msg_files),
	T_CASE(warnings),
	T_CASE(all_errors_at_once),
	{ NULL, NULL },
};
