/*
 * metrics.h: what spamd counts, for Prometheus and for people (spamd -m,
 * --metrics-textfile; spamd(8), METRICS). One block of counters in an
 * anonymous shared mapping made before the fork: each process writes its
 * own part only (smtp, grey, nft), with relaxed atomic operations, so a
 * reader in another process never sees a torn value and nobody waits.
 *
 *	metrics_init()		map the block (as root, before the fork); until
 *		then, and in programs that never call it (unit tests), the
 *		macros write to a private block, harmlessly
 *	METRIC_ADD(field, n), METRIC_INC(field), METRIC_SET(field, v),
 *	METRIC_GET(field)	field is a path in struct metrics, e.g.
 *		smtp.accepted
 *	metrics_list_hit(tag)	count a blacklist hit for list `tag' (the
 *		first METRICS_LISTS tags get a label; later ones "other")
 *	metrics_delay(secs)	a pass after secs: the delay histogram
 *	metrics_write_file(path, buf, quiet)	the exposition into path,
 *		atomically (path.tmp created afresh, then renamed:
 *		node_exporter's textfile collector never reads half a file);
 *		0, or -1, logged unless quiet
 *	metrics_format(buf)	the Prometheus text exposition (format 0.0.4)
 *		of the whole block into buf (grown as needed); its length,
 *		or 0 when out of memory
 *
 * Never labelled by client address, sender or recipient: label values
 * are bounded by the code (kinds, verdicts) or the configuration (list
 * tags).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#define SPAMD_VERSION		"1.0"	/* spamd_build_info */
#define METRICS_LISTS		32	/* blacklists with a label of their own */
#define METRICS_TAG_MAX		32
#define METRICS_DELAY_BUCKETS	8	/* 300 600 1500 1800 3600 7200 14400 86400 */
#define METRICS_POLICY		8	/* enum polreq_verdict + timeout, bad */

struct metrics {
	int64_t		start_time;		/* epoch seconds */
	int		greylisting;		/* 0 with -b */
	int		maxcon;
	struct {				/* the SMTP process */
		uint64_t accepted, accepted_black, refused_full, refused_source;
		uint64_t open_grey, open_black;	/* gauges */
		uint64_t tuples, tuple_drops, stutter_bytes;
		uint64_t tls_handshakes, tls_failures, open_tls;
		uint64_t policy[METRICS_POLICY], policy_open;
		uint64_t http_requests[3];	/* metrics, healthz, other */
		uint64_t list_other;
		struct {
			char		tag[METRICS_TAG_MAX];
			uint64_t	hits;
		} lists[METRICS_LISTS];
	} smtp;
	struct {				/* the greylister */
		uint64_t new_tuples, passes, traps, refused;
		uint64_t white_adds[2];		/* local (redirect), policy */
		uint64_t queued;		/* gauge */
		uint64_t commits, commit_failures, drops;
		uint64_t delay_bucket[METRICS_DELAY_BUCKETS];
		uint64_t delay_count, delay_sum;
		uint64_t db_grey, db_white, db_trapped, db_spamtrap;
		int64_t	 db_scan_time;		/* 0: never */
	} grey;
	struct {				/* the nft helper */
		uint64_t batches, elements, errors;
		uint64_t pending;		/* gauge */
	} nft;
};

extern struct metrics *metrics;

#define METRIC_ADD(f, n) \
	((void)__atomic_fetch_add(&metrics->f, (n), __ATOMIC_RELAXED))
#define METRIC_INC(f)	METRIC_ADD(f, 1)
#define METRIC_SET(f, v) \
	(__atomic_store_n(&metrics->f, (v), __ATOMIC_RELAXED))
#define METRIC_GET(f)	(__atomic_load_n(&metrics->f, __ATOMIC_RELAXED))

struct metrics_buf {
	char	*p;
	size_t	 len, cap;
};

int	metrics_init(void);
void	metrics_list_hit(const char *);
void	metrics_delay(int64_t);
size_t	metrics_format(struct metrics_buf *);
int	metrics_write_file(const char *, struct metrics_buf *, int);

#endif /* METRICS_H */
