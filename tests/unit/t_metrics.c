/*
 * t_metrics.c: unit tests for spamd/metrics.c: the exposition follows
 * the text format 0.0.4 (each family once, with HELP and TYPE before its
 * samples; cumulative histogram buckets ending in +Inf equal to the
 * count; escaped label values; LF at the end), counters land in their
 * samples, list labels are bounded, and the textfile is written whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spamd/metrics.h"
#include "tests/unit/harness.h"

static const char *
fmt(void)
{
	static struct metrics_buf b;

	T_ASSERT(metrics_format(&b) > 0);
	T_ASSERT(b.p[b.len - 1] == '\n');
	T_ASSERT(strlen(b.p) == b.len);
	return b.p;
}

/* The value of the sample line that starts with `line' ("name{...} "). */
static long long
value(const char *text, const char *line)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", line);
	if ((p = strstr(text, want)) == NULL)
		t_fail("no sample %s", line);
	return atoll(p + strlen(want));
}

static void
format_rules(void)
{
	const char *t, *p;
	char name[128];

	memset(metrics, 0, sizeof(*metrics));
	metrics->greylisting = 1;
	t = fmt();
	/* Every TYPE line: its family appears once, its HELP before it. */
	for (p = t; (p = strstr(p, "# TYPE ")) != NULL; p++) {
		char help[160], *q;

		T_EQ_INT(sscanf(p, "# TYPE %127s", name), 1);
		snprintf(help, sizeof(help), "# HELP %s ", name);
		T_ASSERT(strstr(t, help) != NULL && strstr(t, help) < p);
		q = strstr(p + 1, "# TYPE ");
		snprintf(help, sizeof(help), "# TYPE %s ", name);
		T_ASSERT(q == NULL || strstr(q, help) == NULL);
	}
	T_ASSERT(strstr(t, "spamd_build_info{version=\"") != NULL);
	T_ASSERT(strstr(t, "\r") == NULL);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_bucket{le=\"+Inf\"}"),
	    0);
}

static void
counters_and_histogram(void)
{
	const char *t;

	memset(metrics, 0, sizeof(*metrics));
	metrics->greylisting = 1;
	METRIC_INC(smtp.accepted);
	METRIC_ADD(smtp.accepted, 2);
	METRIC_SET(smtp.open_black, 7);
	metrics_delay(100);		/* every bucket */
	metrics_delay(1700);		/* from 1800 on */
	metrics_delay(100000);		/* +Inf only */
	t = fmt();
	T_EQ_INT(value(t, "spamd_connections_total{result=\"accepted\"}"), 3);
	T_EQ_INT(value(t, "spamd_connections{kind=\"black\"}"), 7);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_bucket{le=\"300\"}"),
	    1);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_bucket{le=\"1500\"}"),
	    1);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_bucket{le=\"1800\"}"),
	    2);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_bucket{le=\"86400\"}"),
	    2);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_bucket{le=\"+Inf\"}"),
	    3);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_count"), 3);
	T_EQ_INT(value(t, "spamd_greylist_delay_seconds_sum"), 101800);
	/* Blacklist-only: no greylisting families at all. */
	metrics->greylisting = 0;
	T_ASSERT(strstr(fmt(), "spamd_greylist_") == NULL);
}

/* List tags: escaped, the first METRICS_LISTS labelled, the rest "other". */
static void
list_labels(void)
{
	char tag[32];
	const char *t;
	int i;

	memset(metrics, 0, sizeof(*metrics));
	metrics_list_hit("spamhaus");
	metrics_list_hit("spamhaus");
	metrics_list_hit("we\"ird\\tag");
	for (i = 0; i < METRICS_LISTS; i++) {
		snprintf(tag, sizeof(tag), "l%d", i);
		metrics_list_hit(tag);
	}
	t = fmt();
	T_EQ_INT(value(t, "spamd_blacklist_hits_total{list=\"spamhaus\"}"), 2);
	T_EQ_INT(value(t,
	    "spamd_blacklist_hits_total{list=\"we\\\"ird\\\\tag\"}"), 1);
	/* 2 slots used before: l30 and l31 did not get one */
	T_EQ_INT(value(t, "spamd_blacklist_hits_total{list=\"other\"}"), 2);
	T_ASSERT(strstr(t, "list=\"l30\"") == NULL);
}

static void
textfile(void)
{
	struct metrics_buf b = { NULL, 0, 0 };
	char path[512], tmp[520], buf[256];
	FILE *f;

	memset(metrics, 0, sizeof(*metrics));
	snprintf(path, sizeof(path), "%s", t_path("spamd.prom"));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* A planted symlink at the temporary name is not followed. */
	T_EQ_INT(symlink("/etc/passwd", tmp), 0);
	T_EQ_INT(metrics_write_file(path, &b, 0), 0);
	T_ASSERT((f = fopen(path, "r")) != NULL);
	T_ASSERT(fgets(buf, sizeof(buf), f) != NULL);
	T_ASSERT(strncmp(buf, "# HELP spamd_build_info ", 24) == 0);
	fclose(f);
	T_EQ_INT(access(tmp, F_OK), -1);
	T_EQ_INT(metrics_write_file("/nonexistent/dir/spamd.prom", &b, 0), -1);
	t_expect_log("/nonexistent/dir/spamd.prom.tmp");
	free(b.p);
}

const struct t_case t_cases[] = {
	T_CASE(format_rules),
	T_CASE(counters_and_histogram),
	T_CASE(list_labels),
	T_CASE(textfile),
	{ NULL, NULL }
};
