/*
 * t_getcap.c: unit tests for spamd-setup/getcap.c, the spamd.conf syntax
 * reader: what a valid file yields, and a file:line message for every
 * kind of mistake, all of them in one run.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "spamd-setup/getcap.h"
#include "tests/unit/harness.h"

static int
parse(const char *text, struct getcap_db *db)
{
	return getcap_parse("test.conf", text, strlen(text), db);
}

static void
valid_file(void)
{
	static const char text[] =
	    "# spamd.conf\n"
	    "all:\\\n"
	    "\t:nixspam:mywhite:\n"
	    "\n"
	    "nixspam:\\\n"
	    "\t:black:\\\n"
	    "  # a comment inside the entry\n"
	    "\t:msg=\"Your address %A is in nixspam\\nSee \\\"http://x/\\\": "
	    "colon\":\\\n"
	    "\t:method = https :\\\n"
	    "\t:file=www.example.org/nixspam.gz:\n"
	    "a|alias | third:white:file=/etc/x\\:y\\\\z :n#42:c@:b:c:"
	    "e=:q=\"\" :\r\n";
	struct getcap_db db;
	const struct getcap_ent *e;
	const struct getcap_cap *c;

	T_EQ_INT(parse(text, &db), 0);
	T_EQ_INT(db.nents, 3);
	T_EQ_STR(db.file, "test.conf");

	e = getcap_find(&db, "all");
	T_ASSERT(e != NULL);
	T_EQ_INT(e->line, 2);
	T_EQ_INT(e->ncaps, 2);
	T_EQ_STR(e->caps[0].name, "nixspam");
	T_EQ_INT(e->caps[0].type, GETCAP_BOOL);
	T_EQ_INT(e->caps[0].line, 3);
	T_EQ_STR(e->caps[1].name, "mywhite");

	e = getcap_find(&db, "nixspam");
	T_ASSERT(e != NULL);
	T_EQ_INT(e->line, 5);
	T_ASSERT(getcap_get(e, "black") != NULL);
	c = getcap_get(e, "msg");
	T_ASSERT(c != NULL && c->type == GETCAP_STR && c->quoted);
	T_EQ_STR(c->value, "Your address %A is in nixspam\nSee \"http://x/\": "
	    "colon");
	T_EQ_INT(c->line, 8);
	c = getcap_get(e, "method");
	T_EQ_STR(c->value, "https");
	T_EQ_INT(c->line, 9);
	T_EQ_STR(getcap_get(e, "file")->value, "www.example.org/nixspam.gz");
	T_ASSERT(getcap_get(e, "white") == NULL);

	e = getcap_find(&db, "alias");
	T_ASSERT(e != NULL && e == getcap_find(&db, "third"));
	T_EQ_STR(e->names[0], "a");
	T_EQ_INT(e->nnames, 3);
	c = getcap_get(e, "file");
	T_EQ_STR(c->value, "/etc/x:y\\z");
	T_ASSERT(!c->quoted);
	c = getcap_get(e, "n");
	T_ASSERT(c != NULL && c->type == GETCAP_NUM);
	T_EQ_STR(c->value, "42");
	/* the first occurrence decides: a cancel hides the later c */
	T_ASSERT(getcap_get(e, "c") == NULL);
	T_ASSERT(getcap_get(e, "b") != NULL);
	T_EQ_STR(getcap_get(e, "e")->value, "");
	T_EQ_STR(getcap_get(e, "q")->value, "");
	T_ASSERT(getcap_get(e, "q")->quoted);
	T_ASSERT(getcap_find(&db, "nosuch") == NULL);
	t_no_log("test.conf");
	getcap_free(&db);
}

static const struct {
	const char	*text;
	const char	*log;		/* the whole message */
} bad[] = {
	{ "x:msg=\"abc:\n", "test.conf:1: quoted string without its closing "
	    "'\"'" },
	{ "x:\\\n  :msg=\"abc\"def:\n", "test.conf:2: text after the closing "
	    "quote where ':' belongs" },
	{ "x:file=a\\qb:\n", "test.conf:1: unknown escape \"\\q\"" },
	{ "x:msg=\"a\\qb\":\n", "test.conf:1: unknown escape \"\\q\"" },
	{ "x:tc=y:\n", "test.conf:1: tc= (including another entry) is not "
	    "supported" },
	{ "x:black:\n\nx:white:\n", "test.conf:3: entry \"x\" is already "
	    "defined at line 1" },
	{ "x:\\\n\ny:black:\n", "test.conf:1: '\\' at the end of the line "
	    "continues the entry into a blank line" },
	{ "x:black:\\\n", "test.conf:1: '\\' at the end of the file" },
	{ "x:\n\t:black:\n", "test.conf:2: entry without a name (is a '\\' "
	    "missing at the end of the line before?)" },
	{ "x:n#1a:\n", "test.conf:1: capability n: invalid number" },
	{ "x:n#:\n", "test.conf:1: capability n: invalid number" },
	{ "x:c@foo:\n", "test.conf:1: capability c: text after '@'" },
	{ "x:=foo:\n", "test.conf:1: capability without a name" },
	{ "my list:black:\n", "test.conf:1: entry name \"my list\" holds a "
	    "blank, '\"' or '\\'" },
	{ "a||b:black:\n", "test.conf:1: empty entry name" },
	{ "x:\\\n\t:black:\\\n\t:file=\\\n", "test.conf:3: '\\' at the end "
	    "of the file" },
};

static void
bad_files(void)
{
	struct getcap_db db;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_clear_log();
		if (parse(bad[i].text, &db) == 0)
			t_fail("no error for \"%s\"", bad[i].text);
		t_expect_log(bad[i].log);
		getcap_free(&db);
	}
}

/* Every error of a file in one run, each with its own line. */
static void
all_errors_at_once(void)
{
	static const char text[] =
	    "all:one:two:\n"			/* 1 */
	    "one:\\\n"				/* 2 */
	    "\t:black:\\\n"			/* 3 */
	    "\t:msg=\"unterminated:\\\n"	/* 4 */
	    "\t:file=/x:\n"			/* 5 */
	    "two:file=\\z:\n"			/* 6 */
	    "one:black:\n"			/* 7 */
	    "three:n#x:\n";			/* 8 */
	struct getcap_db db;

	T_EQ_INT(parse(text, &db), 4);
	t_expect_log("test.conf:4: quoted string without its closing '\"'");
	t_expect_log("test.conf:6: unknown escape \"\\z\"");
	t_expect_log("test.conf:7: entry \"one\" is already defined at line 2");
	t_expect_log("test.conf:8: capability n: invalid number");
	/* entries with a bad capability are kept, marked broken */
	T_ASSERT(getcap_find(&db, "one") != NULL);
	T_ASSERT(getcap_find(&db, "one")->broken);
	T_ASSERT(getcap_find(&db, "two")->broken);
	T_ASSERT(!getcap_find(&db, "all")->broken);
	getcap_free(&db);
}

static void
binary_junk(void)
{
	static const char text[] = "x:black:\n\0\x01\xff:\n"
	    "y:white:file=/z:\n";
	struct getcap_db db;

	T_EQ_INT(getcap_parse("test.conf", text, sizeof(text) - 1, &db), 1);
	t_expect_log("test.conf:2: NUL byte in the line");
	T_ASSERT(getcap_find(&db, "y") != NULL);
	getcap_free(&db);
}

static void
load_files(void)
{
	struct getcap_db db;
	FILE *f;

	T_EQ_INT(getcap_load(t_path("nosuch.conf"), &db), 1);
	t_expect_log("nosuch.conf: No such file or directory");
	T_EQ_INT(getcap_load(t_tmpdir(), &db), 1);
	t_expect_log("not a regular file");

	f = fopen(t_path("ok.conf"), "w");
	T_ASSERT(f != NULL);
	fputs("all:x:\nx:black:msg=\"m\":file=/f:\n", f);
	T_EQ_INT(fclose(f), 0);
	T_EQ_INT(getcap_load(t_path("ok.conf"), &db), 0);
	T_EQ_INT(db.nents, 2);
	T_EQ_STR(db.file, t_path("ok.conf"));
	getcap_free(&db);

	/* too big to be a configuration file */
	f = fopen(t_path("big.conf"), "w");
	T_ASSERT(f != NULL);
	T_EQ_INT(fseek(f, GETCAP_FILE_MAX + 1, SEEK_SET), 0);
	fputc('\n', f);
	T_EQ_INT(fclose(f), 0);
	T_EQ_INT(getcap_load(t_path("big.conf"), &db), 1);
	t_expect_log("larger than 1048576 bytes");
}

const struct t_case t_cases[] = {
	T_CASE(valid_file),
	T_CASE(bad_files),
	T_CASE(all_errors_at_once),
	T_CASE(binary_junk),
	T_CASE(load_files),
	{ NULL, NULL },
};
