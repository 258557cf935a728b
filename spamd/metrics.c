/*
 * metrics.c: spamd's counters in shared memory and their Prometheus text
 * exposition (metrics.h). The writer follows the format 0.0.4: one HELP
 * and TYPE per family, samples together, label values escaped, buckets
 * cumulative and ending in +Inf, every line ending in LF.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd/metrics.h"

static struct metrics	 private_block;
struct metrics		*metrics = &private_block;

static const int64_t delay_le[METRICS_DELAY_BUCKETS] = {
	300, 600, 1500, 1800, 3600, 7200, 14400, 86400
};

int
metrics_init(void)
{
	struct metrics *m;

	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	memcpy(m, &private_block, sizeof(*m));
	m->start_time = clock_now();
	metrics = m;
	return 0;
}

void
metrics_list_hit(const char *tag)
{
	size_t i;

	for (i = 0; i < METRICS_LISTS; i++) {
		if (metrics->smtp.lists[i].tag[0] == '\0') {
			/* The SMTP process is the only writer: claim it. */
			snprintf(metrics->smtp.lists[i].tag,
			    sizeof(metrics->smtp.lists[i].tag), "%s", tag);
			break;
		}
		if (strncmp(metrics->smtp.lists[i].tag, tag,
		    METRICS_TAG_MAX - 1) == 0)
			break;
	}
	if (i == METRICS_LISTS)
		METRIC_INC(smtp.list_other);
	else
		METRIC_INC(smtp.lists[i].hits);
}

void
metrics_delay(int64_t secs)
{
	size_t i;

	if (secs < 0)
		secs = 0;
	for (i = 0; i < METRICS_DELAY_BUCKETS; i++)
		if (secs <= delay_le[i])
			METRIC_INC(grey.delay_bucket[i]);
	METRIC_INC(grey.delay_count);
	METRIC_ADD(grey.delay_sum, (uint64_t)secs);
}

/* Append printf output; -1 when out of memory. */
static int __attribute__((format(printf, 2, 3)))
put(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 8192;
			char *p;

			while (cap - b->len <= (size_t)n)
				cap *= 2;
			if ((p = realloc(b->p, cap)) == NULL)
				return -1;
			b->p = p;
			b->cap = cap;
		}
	}
}

static int
family(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	return put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
sample(struct metrics_buf *b, const char *name, const char *labels,
    uint64_t v)
{
	return put(b, "%s%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
	    labels[0] ? "}" : "", (unsigned long long)v);
}

static int
one(struct metrics_buf *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	return family(b, name, type, help) | sample(b, name, "", v);
}

/* A label value: \ " and newline escaped; other controls dropped. */
static void
escape(char *dst, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < size; s++) {
		if (*s == '\\' || *s == '"') {
			dst[o++] = '\\';
			dst[o++] = *s;
		} else if (*s == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else if ((unsigned char)*s >= 0x20)
			dst[o++] = *s;
	}
	dst[o] = '\0';
}

static int
fmt_smtp(struct metrics_buf *b)
{
	static const char *const pol[METRICS_POLICY - 2] = {
		"dunno", "defer", "pass", "trap", "listed", "busy"
	};
	char lab[2 * METRICS_TAG_MAX + 16], esc[2 * METRICS_TAG_MAX];
	int rc = 0;
	size_t i;

	rc |= family(b, "spamd_connections", "gauge",
	    "Connections open now, by kind (grey: not on a blacklist).");
	rc |= sample(b, "spamd_connections", "kind=\"grey\"",
	    METRIC_GET(smtp.open_grey));
	rc |= sample(b, "spamd_connections", "kind=\"black\"",
	    METRIC_GET(smtp.open_black));
	rc |= one(b, "spamd_connections_max", "gauge",
	    "Connections allowed at once (-c).", (uint64_t)metrics->maxcon);
	rc |= family(b, "spamd_connections_total", "counter",
	    "Connections accepted (black: from a listed or trapped "
	    "address), or refused at -c (full) or at --maxcon-per-address "
	    "(source).");
	rc |= sample(b, "spamd_connections_total", "result=\"accepted\"",
	    METRIC_GET(smtp.accepted));
	rc |= sample(b, "spamd_connections_total",
	    "result=\"accepted_black\"", METRIC_GET(smtp.accepted_black));
	rc |= sample(b, "spamd_connections_total", "result=\"refused_full\"",
	    METRIC_GET(smtp.refused_full));
	rc |= sample(b, "spamd_connections_total",
	    "result=\"refused_source\"", METRIC_GET(smtp.refused_source));
	rc |= one(b, "spamd_tuples_total", "counter",
	    "RCPT tuples sent to the greylister.", METRIC_GET(smtp.tuples));
	rc |= one(b, "spamd_tuple_queue_drops_total", "counter",
	    "Tuples dropped because the greylister was too far behind.",
	    METRIC_GET(smtp.tuple_drops));
	rc |= one(b, "spamd_stutter_bytes_total", "counter",
	    "Bytes sent one at a time to stuttered clients.",
	    METRIC_GET(smtp.stutter_bytes));
	rc |= family(b, "spamd_tls_handshakes_total", "counter",
	    "STARTTLS handshakes completed (ok), or failed, timed out or "
	    "abandoned (failed).");
	rc |= sample(b, "spamd_tls_handshakes_total", "result=\"ok\"",
	    METRIC_GET(smtp.tls_handshakes));
	rc |= sample(b, "spamd_tls_handshakes_total", "result=\"failed\"",
	    METRIC_GET(smtp.tls_failures));
	rc |= one(b, "spamd_tls_sessions", "gauge",
	    "Connections holding a TLS slot (--tls-max-sessions).",
	    METRIC_GET(smtp.open_tls));
	rc |= family(b, "spamd_blacklist_hits_total", "counter",
	    "Connections from an address on a blacklist, by list.");
	for (i = 0; i < METRICS_LISTS; i++) {
		char tag[METRICS_TAG_MAX];

		if (METRIC_GET(smtp.lists[i].hits) == 0)
			continue;
		memcpy(tag, metrics->smtp.lists[i].tag, sizeof(tag));
		tag[sizeof(tag) - 1] = '\0';
		escape(esc, sizeof(esc), tag);
		snprintf(lab, sizeof(lab), "list=\"%s\"", esc);
		rc |= sample(b, "spamd_blacklist_hits_total", lab,
		    METRIC_GET(smtp.lists[i].hits));
	}
	if (METRIC_GET(smtp.list_other) > 0)
		rc |= sample(b, "spamd_blacklist_hits_total",
		    "list=\"other\"", METRIC_GET(smtp.list_other));
	rc |= family(b, "spamd_policy_requests_total", "counter",
	    "Policy requests answered (spamd -P), by answer.");
	for (i = 0; i < METRICS_POLICY - 2; i++) {
		snprintf(lab, sizeof(lab), "action=\"%s\"", pol[i]);
		rc |= sample(b, "spamd_policy_requests_total", lab,
		    METRIC_GET(smtp.policy[i]));
	}
	rc |= one(b, "spamd_policy_timeouts_total", "counter",
	    "Policy requests answered DUNNO because the greylister did not "
	    "answer in time (also counted as dunno).",
	    METRIC_GET(smtp.policy[METRICS_POLICY - 2]));
	rc |= one(b, "spamd_policy_bad_requests_total", "counter",
	    "Policy connections closed for a malformed or slow request.",
	    METRIC_GET(smtp.policy[METRICS_POLICY - 1]));
	rc |= one(b, "spamd_policy_connections", "gauge",
	    "Policy connections open now.", METRIC_GET(smtp.policy_open));
	rc |= family(b, "spamd_metrics_requests_total", "counter",
	    "Requests to the metrics endpoint, by path.");
	rc |= sample(b, "spamd_metrics_requests_total", "path=\"/metrics\"",
	    METRIC_GET(smtp.http_requests[0]));
	rc |= sample(b, "spamd_metrics_requests_total", "path=\"/healthz\"",
	    METRIC_GET(smtp.http_requests[1]));
	rc |= sample(b, "spamd_metrics_requests_total", "path=\"other\"",
	    METRIC_GET(smtp.http_requests[2]));
	return rc;
}

static int
fmt_grey(struct metrics_buf *b)
{
	uint64_t cum;
	char lab[32];
	int rc = 0;
	size_t i;

	rc |= one(b, "spamd_greylist_new_tuples_total", "counter",
	    "Tuples recorded for the first time.",
	    METRIC_GET(grey.new_tuples));
	rc |= one(b, "spamd_greylist_passes_total", "counter",
	    "Tuples that passed greylisting (a retry after passtime).",
	    METRIC_GET(grey.passes));
	rc |= family(b, "spamd_whitelist_adds_total", "counter",
	    "Addresses whitelisted, by the front end that saw the pass.");
	rc |= sample(b, "spamd_whitelist_adds_total", "source=\"local\"",
	    METRIC_GET(grey.white_adds[0]));
	rc |= sample(b, "spamd_whitelist_adds_total", "source=\"policy\"",
	    METRIC_GET(grey.white_adds[1]));
	rc |= one(b, "spamd_traps_total", "counter",
	    "Addresses trapped (spamtrap, -A or the low-priority MX).",
	    METRIC_GET(grey.traps));
	rc |= one(b, "spamd_greylist_refused_total", "counter",
	    "New tuples refused by the flood bounds (--grey-max-tuples, "
	    "--grey-max-rate, --db-max-size, queue share).",
	    METRIC_GET(grey.refused));
	rc |= one(b, "spamd_greylist_queue", "gauge",
	    "Tuples waiting for the database.", METRIC_GET(grey.queued));
	rc |= one(b, "spamd_greylist_commits_total", "counter",
	    "Database transactions committed by the greylister.",
	    METRIC_GET(grey.commits));
	rc |= one(b, "spamd_greylist_commit_failures_total", "counter",
	    "Transactions that could not be written (kept and retried).",
	    METRIC_GET(grey.commit_failures));
	rc |= one(b, "spamd_greylist_drops_total", "counter",
	    "Tuples dropped because the greylister's queue was full.",
	    METRIC_GET(grey.drops));
	rc |= family(b, "spamd_greylist_delay_seconds", "histogram",
	    "Time from a tuple's first attempt to its pass.");
	for (i = 0, cum = 0; i < METRICS_DELAY_BUCKETS; i++) {
		cum = METRIC_GET(grey.delay_bucket[i]);
		snprintf(lab, sizeof(lab), "le=\"%lld\"",
		    (long long)delay_le[i]);
		rc |= sample(b, "spamd_greylist_delay_seconds_bucket", lab,
		    cum);
	}
	/* read once, so the +Inf bucket equals the count */
	cum = METRIC_GET(grey.delay_count);
	rc |= sample(b, "spamd_greylist_delay_seconds_bucket", "le=\"+Inf\"",
	    cum);
	rc |= sample(b, "spamd_greylist_delay_seconds_sum", "",
	    METRIC_GET(grey.delay_sum));
	rc |= sample(b, "spamd_greylist_delay_seconds_count", "", cum);
	rc |= family(b, "spamd_db_entries", "gauge",
	    "Database records by kind, at the greylister's last count.");
	rc |= sample(b, "spamd_db_entries", "kind=\"grey\"",
	    METRIC_GET(grey.db_grey));
	rc |= sample(b, "spamd_db_entries", "kind=\"white\"",
	    METRIC_GET(grey.db_white));
	rc |= sample(b, "spamd_db_entries", "kind=\"trapped\"",
	    METRIC_GET(grey.db_trapped));
	rc |= sample(b, "spamd_db_entries", "kind=\"spamtrap\"",
	    METRIC_GET(grey.db_spamtrap));
	rc |= one(b, "spamd_db_last_scan_timestamp_seconds", "gauge",
	    "When the database was last counted (0: not yet).",
	    (uint64_t)METRIC_GET(grey.db_scan_time));
	return rc;
}

static int
fmt_nft(struct metrics_buf *b)
{
	int rc = 0;

	rc |= one(b, "spamd_nft_batches_total", "counter",
	    "Netlink batches sent to the white sets.",
	    METRIC_GET(nft.batches));
	rc |= one(b, "spamd_nft_elements_total", "counter",
	    "Set elements sent in those batches.", METRIC_GET(nft.elements));
	rc |= one(b, "spamd_nft_errors_total", "counter",
	    "Batches the kernel refused (retried later).",
	    METRIC_GET(nft.errors));
	rc |= one(b, "spamd_nft_pending_elements", "gauge",
	    "Whitelisted addresses not yet in the sets.",
	    METRIC_GET(nft.pending));
	return rc;
}

size_t
metrics_format(struct metrics_buf *b)
{
	int rc = 0;

	b->len = 0;
	rc |= family(b, "spamd_build_info", "gauge",
	    "Always 1; the version is a label.");
	rc |= sample(b, "spamd_build_info", "version=\"" SPAMD_VERSION "\"",
	    1);
	rc |= one(b, "spamd_start_time_seconds", "gauge",
	    "When spamd started, in seconds since the epoch.",
	    (uint64_t)metrics->start_time);
	rc |= one(b, "spamd_greylisting_enabled", "gauge",
	    "1 when spamd greylists, 0 in blacklist-only mode (-b).",
	    (uint64_t)metrics->greylisting);
	rc |= fmt_smtp(b);
	if (metrics->greylisting)
		rc |= fmt_grey(b);
	rc |= fmt_nft(b);
	return rc == 0 ? b->len : 0;
}

int
metrics_write_file(const char *path, struct metrics_buf *b, int quiet)
{
	char tmp[4096], why[128];
	size_t n = metrics_format(b), off = 0;
	int fd;

	if (n == 0) {
		if (!quiet)
			log_warnx("%s: out of memory for the metrics", path);
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	/* Never through a name someone else planted: a fresh file. */
	if (unlink(tmp) == -1 && errno != ENOENT) {
		if (!quiet)
			log_warn("%s (will retry quietly)", tmp);
		return -1;
	}
	if ((fd = util_open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, why,
	    sizeof(why))) == -1) {
		if (!quiet)
			log_warnx("%s: %s (will retry quietly)", tmp, why);
		return -1;
	}
	while (off < n) {
		ssize_t w = write(fd, b->p + off, n - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			if (!quiet)
				log_warn("%s (will retry quietly)", tmp);
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		if (!quiet)
			log_warn("%s (will retry quietly)", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
