/*
 * t_fetch.c: unit tests for spamd-setup/fetch.c: files plain and gzip'd,
 * broken gzip data, commands that fail, hang or flood, and the curl
 * command line (checked with a stand-in script, no network).
 */
#include <sys/stat.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/clock.h"
#include "common/compat.h"
#include "spamd-setup/fetch.h"
#include "tests/unit/harness.h"

static void
put(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(t_path(name), "w");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		t_fail("writing %s", name);
}

static void
put_gz(const char *name, const char *data, size_t len, const char *mode)
{
	gzFile g = gzopen(t_path(name), mode);

	if (g == NULL || gzwrite(g, data, (unsigned int)len) != (int)len ||
	    gzclose(g) != Z_OK)
		t_fail("writing %s", name);
}

static char *
slurp(const char *name, size_t *len)
{
	FILE *f = fopen(t_path(name), "r");
	char *buf = malloc(1 << 20);

	if (f == NULL || buf == NULL)
		t_fail("reading %s", name);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void
files(void)
{
	struct fetch_opts o;
	char *buf, err[256], path[512];
	size_t len;

	fetch_defaults(&o);
	put("plain", "192.0.2.1\n", 10);
	T_EQ_INT(fetch_file(t_path("plain"), &o, &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_INT(len, 10);
	T_EQ_STR(buf, "192.0.2.1\n");
	free(buf);

	put_gz("list.gz", "192.0.2.0/24\n2001:db8::/32\n", 27, "wb");
	T_EQ_INT(fetch_file(t_path("list.gz"), &o, &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_INT(len, 27);
	T_EQ_STR(buf, "192.0.2.0/24\n2001:db8::/32\n");
	free(buf);

	/* two gzip members back to back, as `cat a.gz b.gz` makes */
	put_gz("two.gz", "one\n", 4, "wb");
	put_gz("two.gz", "two\n", 4, "ab");
	T_EQ_INT(fetch_file(t_path("two.gz"), &o, &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_STR(buf, "one\ntwo\n");
	free(buf);

	/* an empty file is not an error here (the caller decides) */
	put("empty", "", 0);
	T_EQ_INT(fetch_file(t_path("empty"), &o, &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_INT(len, 0);
	free(buf);

	strlcpy(path, t_path("missing"), sizeof(path));
	T_EQ_INT(fetch_file(path, &o, &buf, &len, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "missing: No such file or directory") != NULL);

	o.max = 5;
	T_EQ_INT(fetch_file(t_path("plain"), &o, &buf, &len, err,
	    sizeof(err)), -1);
	T_ASSERT(strstr(err, "plain: more than 5 bytes") != NULL);
}

static void
bad_gzip(void)
{
	struct fetch_opts o;
	char *gz, *buf, *zeros, err[256];
	size_t gzlen, len;

	fetch_defaults(&o);
	put_gz("ok.gz", "192.0.2.0/24\n198.51.100.0/24\n203.0.113.0/24\n",
	    42, "wb");
	gz = slurp("ok.gz", &gzlen);

	/* cut in half */
	put("cut.gz", gz, gzlen / 2);
	T_EQ_INT(fetch_file(t_path("cut.gz"), &o, &buf, &len, err,
	    sizeof(err)), -1);
	T_ASSERT(strstr(err, "truncated gzip data") != NULL);

	/* damaged in the middle */
	gz[gzlen / 2] ^= 0x55;
	gz[gzlen / 2 + 1] ^= 0xaa;
	put("bad.gz", gz, gzlen);
	T_EQ_INT(fetch_file(t_path("bad.gz"), &o, &buf, &len, err,
	    sizeof(err)), -1);
	T_ASSERT(strstr(err, "gzip data") != NULL);
	free(gz);

	/* just the magic */
	put("magic.gz", "\x1f\x8b", 2);
	T_EQ_INT(fetch_file(t_path("magic.gz"), &o, &buf, &len, err,
	    sizeof(err)), -1);
	T_ASSERT(strstr(err, "gzip data") != NULL);

	/* a small file that unpacks to a lot */
	zeros = calloc(1, 4 << 20);
	T_ASSERT(zeros != NULL);
	put_gz("bomb.gz", zeros, 4 << 20, "wb9");
	free(zeros);
	o.max = 1 << 20;
	T_EQ_INT(fetch_file(t_path("bomb.gz"), &o, &buf, &len, err,
	    sizeof(err)), -1);
	T_ASSERT(strstr(err, "gzip data unpacks to more than 1048576 bytes")
	    != NULL);
	o.max = 4 << 20;
	T_EQ_INT(fetch_file(t_path("bomb.gz"), &o, &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_INT(len, 4 << 20);
	free(buf);
}

static void
commands(void)
{
	struct fetch_opts o;
	char *buf, err[256];
	size_t len;
	char *const ok[] = { "printf", "a\\nb\\n", NULL };
	char *const fail3[] = { "sh", "-c", "echo x; exit 3", NULL };
	char *const sig[] = { "sh", "-c", "kill -9 $$", NULL };
	char *const missing[] = { "/nonexistent/cmd", NULL };
	char *const flood[] = { "yes", NULL };

	fetch_defaults(&o);
	T_EQ_INT(fetch_exec(ok, NULL, &o, &buf, &len, err, sizeof(err)), 0);
	T_EQ_STR(buf, "a\nb\n");
	free(buf);

	T_EQ_INT(fetch_exec(fail3, NULL, &o, &buf, &len, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "sh: exited with status 3");
	T_EQ_INT(fetch_exec(sig, NULL, &o, &buf, &len, err, sizeof(err)), -1);
	T_EQ_STR(err, "sh: killed by signal 9");
	T_EQ_INT(fetch_exec(missing, NULL, &o, &buf, &len, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "cannot run /nonexistent/cmd: No such file or "
	    "directory");
	o.max = 1000;
	T_EQ_INT(fetch_exec(flood, NULL, &o, &buf, &len, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "yes: output: more than 1000 bytes");
}

static void
hanging_commands(void)
{
	struct fetch_opts o;
	char *buf, err[256];
	size_t len;
	uint64_t t0;
	char *const hang[] = { "sleep", "30", NULL };
	/* closes its output at once, then lingers */
	char *const linger[] = { "sh", "-c", "exec >&-; sleep 30", NULL };

	fetch_defaults(&o);
	o.timeout = 1;
	t0 = clock_mono_ms();
	T_EQ_INT(fetch_exec(hang, NULL, &o, &buf, &len, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "sleep: no end after 1 s; killed");
	T_EQ_INT(fetch_exec(linger, NULL, &o, &buf, &len, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "sh: no end after 1 s; killed");
	T_ASSERT(clock_mono_ms() - t0 < 10000);
}

static const struct {
	const char	*cmd;
	const char	*words[5];
} split_cases[] = {
	{ "cat /etc/x", { "cat", "/etc/x", NULL } },
	{ "  \tcat  \t /etc/x  ", { "cat", "/etc/x", NULL } },
	{ "a b c d", { "a", "b", "c", "d", NULL } },
	{ "\"quoted words\"", { "\"quoted", "words\"", NULL } },
	{ "", { NULL } },
	{ "   ", { NULL } },
};

static void
split(void)
{
	char **argv;
	size_t i, j, n;

	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		n = fetch_split(split_cases[i].cmd, &argv);
		for (j = 0; split_cases[i].words[j] != NULL; j++)
			T_EQ_STR(argv[j], split_cases[i].words[j]);
		T_EQ_INT(n, j);
		T_ASSERT(argv[n] == NULL);
		free(argv);
	}
}

static void
list_methods(void)
{
	struct fetch_opts o;
	char *buf, err[256], cmd[600];
	size_t len;

	fetch_defaults(&o);
	put_gz("l.gz", "192.0.2.7\n", 10, "wb");
	snprintf(cmd, sizeof(cmd), "cat %s", t_path("l.gz"));
	/* command output is unpacked too */
	T_EQ_INT(fetch_list(CONF_EXEC, cmd, &o, &buf, &len, err, sizeof(err)),
	    0);
	T_EQ_STR(buf, "192.0.2.7\n");
	free(buf);
	T_EQ_INT(fetch_list(CONF_FILE, t_path("l.gz"), &o, &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_STR(buf, "192.0.2.7\n");
	free(buf);
	T_EQ_INT(fetch_list(CONF_EXEC, "  ", &o, &buf, &len, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "empty command");
}

/* A stand-in for curl prints its arguments and who it runs as. */
static void
curl_command_line(void)
{
	static const char script[] =
	    "#!/bin/sh\n"
	    "for a in \"$@\"; do echo \"$a\"; done\n"
	    "echo \"uid=$(id -u)\"\n";
	struct fetch_opts o;
	struct passwd *pw;
	char *buf, err[256], want[64], *found;
	size_t len;

	put("fakecurl", script, sizeof(script) - 1);
	T_EQ_INT(chmod(t_path("fakecurl"), 0755), 0);
	/* the unprivileged child must reach the script */
	T_EQ_INT(chmod(t_tmpdir(), 0755), 0);
	fetch_defaults(&o);
	o.curl = t_path("fakecurl");
	o.timeout = 20;
	T_EQ_INT(fetch_list(CONF_HTTPS, "lists.example.org/black.txt", &o,
	    &buf, &len, err, sizeof(err)), 0);
	T_ASSERT(strncmp(buf, "-q\n-sS\n-f\n-L\n", 13) == 0);
	T_ASSERT(strstr(buf, "\n--connect-timeout\n30\n") != NULL);
	T_ASSERT(strstr(buf, "\n--max-time\n20\n") != NULL);
	T_ASSERT(strstr(buf, "\n--proto\n=http,https\n") != NULL);
	T_ASSERT(strstr(buf, "\n--proto-redir\n=http,https\n") != NULL);
	T_ASSERT(strstr(buf, "\n--max-filesize\n536870912\n") != NULL);
	T_ASSERT(strstr(buf, "\n-o\n-\nhttps://lists.example.org/black.txt\n")
	    != NULL);
	/* as root, curl runs as nobody: never root, never the spamd user */
	if (geteuid() == 0) {
		pw = getpwnam("nobody");
		T_ASSERT(pw != NULL);
		snprintf(want, sizeof(want), "uid=%u\n",
		    (unsigned int)pw->pw_uid);
		found = strstr(buf, want);
		T_ASSERT(found != NULL);
	}
	free(buf);

	T_EQ_INT(fetch_list(CONF_HTTP, "h/x", &o, &buf, &len, err,
	    sizeof(err)), 0);
	T_ASSERT(strstr(buf, "\nhttp://h/x\n") != NULL);
	free(buf);

	o.curl = "/nonexistent/curl";
	T_EQ_INT(fetch_list(CONF_HTTP, "h/x", &o, &buf, &len, err,
	    sizeof(err)), -1);
	T_ASSERT(strstr(err, "cannot run /nonexistent/curl") != NULL);
}


/*
 * As root, curl runs as a user that can write nothing of spamd's: not
 * the spamd user, which owns the database (default nobody/nogroup).
 */
static void
curl_user(void)
{
	static const char script[] =
	    "#!/bin/sh\n"
	    "echo \"uid=$(id -u) gid=$(id -g)\"\n"
	    "if touch \"$T_STATEDIR/planted\" 2>/dev/null; then echo wrote; "
	    "else echo cannot-write; fi\n";
	struct fetch_opts o;
	struct passwd *pw;
	char *buf, err[256], want[64], state[512];
	size_t len;
	uid_t nuid;
	gid_t ngid;

	if (geteuid() != 0) {
		printf("skipped: needs root\n");
		return;
	}
	T_ASSERT((pw = getpwnam("nobody")) != NULL);
	nuid = pw->pw_uid;
	ngid = pw->pw_gid;
	put("fakecurl", script, sizeof(script) - 1);
	T_EQ_INT(chmod(t_path("fakecurl"), 0755), 0);
	T_EQ_INT(chmod(t_tmpdir(), 0755), 0);
	/* the state directory as installed: owned by _spamd, 0755 */
	snprintf(state, sizeof(state), "%s", t_path("state"));
	T_EQ_INT(mkdir(state, 0755), 0);
	if ((pw = getpwnam("_spamd")) != NULL)
		T_EQ_INT(chown(state, pw->pw_uid, pw->pw_gid), 0);
	T_EQ_INT(setenv("T_STATEDIR", state, 1), 0);
	fetch_defaults(&o);
	o.curl = t_path("fakecurl");
	if (fetch_list(CONF_HTTP, "h/x", &o, &buf, &len, err,
	    sizeof(err)) == -1)
		t_fail_at(__FILE__, __LINE__, "fetch_list: %s", err);
	printf("  fake curl said: %s", buf);
	snprintf(want, sizeof(want), "uid=%u gid=%u\n", (unsigned int)nuid,
	    (unsigned int)ngid);
	T_ASSERT(strstr(buf, want) != NULL);
	T_ASSERT(strstr(buf, "cannot-write\n") != NULL);
	free(buf);
	/* --fetch-user: another user; never the one owning the database */
	if (getpwnam("daemon") != NULL) {
		o.user = "daemon";
		T_EQ_INT(fetch_list(CONF_HTTP, "h/x", &o, &buf, &len, err,
		    sizeof(err)), 0);
		pw = getpwnam("daemon");
		snprintf(want, sizeof(want), "uid=%u ",
		    (unsigned int)pw->pw_uid);
		T_ASSERT(strncmp(buf, want, strlen(want)) == 0);
		free(buf);
	}
	if (getpwnam("_spamd") != NULL) {
		o.user = "_spamd";
		T_EQ_INT(fetch_list(CONF_HTTP, "h/x", &o, &buf, &len, err,
		    sizeof(err)), -1);
		T_ASSERT(strstr(err, "refusing to run curl as _spamd") != NULL);
	}
	o.user = "no-such-user-here";
	T_EQ_INT(fetch_list(CONF_HTTP, "h/x", &o, &buf, &len, err,
	    sizeof(err)), -1);
	T_ASSERT(strstr(err, "no user no-such-user-here") != NULL);
}

const struct t_case t_cases[] = {
	T_CASE(files),
	T_CASE(bad_gzip),
	T_CASE(commands),
	T_CASE(hanging_commands),
	T_CASE(split),
	T_CASE(list_methods),
	T_CASE(curl_command_line),
	T_CASE(curl_user),
	{ NULL, NULL },
};
