/*
 * spamd.c: main() of spamd: options, sockets, the database file, the
 * privilege split and the fork into three processes (DESIGN.md §5):
 *
 *	smtp (smtpproc.c)	no privileges; the tarpit and the lists
 *	grey (grey.c)		no privileges; the database writer
 *	nft  (nfthelper.c)	CAP_NET_ADMIN only; nftables, supervision
 *
 * In blacklist-only mode (-b) there is just the SMTP process.
 *
 * Everything that needs root happens here, before the fork: binding,
 * raising RLIMIT_NOFILE, creating the database with the right owner,
 * reading the allowed-domains file, and large socket buffers. Errors up
 * to that point are fatal with a clear message, as with OpenBSD's spamd.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/compat.h"
#include "common/greydb.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/pidfile.h"
#include "common/priv.h"
#include "common/statedir.h"
#include "common/util.h"
#include "spamd/cfgsock.h"
#include "spamd/cfg.h"
#include "spamd/grey.h"
#include "spamd/metrics.h"
#include "spamd/policy.h"
#include "spamd/spamd.h"
#include "spamd/sync.h"
#include "spamd/tls.h"
#include "spamd/tlsload.h"
#include "spamd/usock.h"

#define LISTEN_BACKLOG	4096	/* bursts of new clients must not stall */
#define FD_RESERVE	64	/* descriptors beyond -c for our own use */
#define CHAN_SOCKBUF	(4 * 1024 * 1024)
#define CLIENT_SNDBUF	16384	/* replies are small; deaf clients pin less */

struct spamd_conf conf = {
	.maxcon = 800,
	.maxblack = -1,
	.dbpath = PATH_SPAMD_DB,
	.gl = {
		.passtime = GREYLIST_PASSTIME,
		.greyexp = GREYLIST_GREYEXP,
		.whiteexp = GREYLIST_WHITEEXP,
		.trapexp = GREYLIST_TRAPEXP,
	},
	.name = "spamd IP-based SPAM blocker",
	.port = SPAMD_PORT,
	.grey_stutter = 10,
	.stutter_ms = 1000,
	.idle_timeout = 400,
	.trapscan = 60,
	.user = SPAMD_USER,
	.alloweddomains = PATH_ALLOWEDDOMAINS,
	.cfgsock = PATH_SPAMD_SOCK,
	.list_max_blocks = CFG_MAX_BLOCKS_DEF,
	.list_max_blocks6 = CFG_MAX_BLOCKS6_DEF,
	.list_max_bytes = CFG_MAX_BYTES_DEF,
	/*
	 * Far above any real MTA: a list server's first delivery to a few
	 * hundred local users records a few hundred tuples; one whose
	 * tuples are refused still passes with those already recorded.
	 */
	.grey_max_tuples = 2000,	/* live GREY tuples per address */
	.grey_rate_n = 500,		/* new tuples per address ... */
	.grey_rate_period = 60,		/* ... per minute (bursts of 500) */
	.db_max_size = 512LL * 1024 * 1024,	/* db + checkpoint + journal */
	.maxcon_addr = -1,	/* MAXCON_ADDR, at most -c */
	.prefix4 = 32,
	.prefix6 = 64,
	.log_per_con = 100,
	.log_per_addr = 300,
	.metrics_interval = 15,		/* s between textfile writes */
	.metrics_scan = 300,		/* s between database counts */
	.tls_max = -1,			/* maxcon / 4 */
	.group4 = 32,			/* -g: exact addresses, as OpenBSD */
	.group6 = 128,
	.tls_timeout = 30,		/* s for a whole TLS handshake */
};

#define MAXCON_ADDR	20	/* default --maxcon-per-address */

static __dead void
usage(void)
{
	fprintf(stderr,
	    "usage: spamd [-45bdv] [-A file] [-B maxblack] [-C certfile] "
	    "[-c maxcon]\n"
	    "             [-f dbfile] [-G passtime:greyexp:whiteexp] "
	    "[-g v4len:v6len]\n"
	    "             [-h hostname] [-K keyfile] [-l address]\n"
	    "             [-M address] [-n name] [-p port] [-S secs] "
	    "[-s secs]\n"
	    "             [-T timeout] [-t secs] [-u user] [-w window]\n"
	    "             [--config-group group] [--config-socket path]\n"
	    "             [--log syslog|stderr|file] [--pidfile file]\n"
	    "             [--list-max-blocks n] [--list-max-blocks6 n]\n"
	    "             [--list-max-bytes size] [--db-max-size size]\n"
	    "             [--grey-max-rate count/time] [--grey-max-tuples count]\n"
	    "             [--address-prefix v4len:v6len] "
	    "[--log-lines-per-address n]\n"
	    "             [--log-lines-per-connection n] "
	    "[--maxcon-per-address n]\n"
	    "             [-P socket] [--policy-only] "
	    "[--policy-action action]\n"
	    "             [--policy-text text] [--policy-no-header]\n"
	    "             [--policy-timeout secs] [--policy-idle secs]\n"
	    "             [-m [address:]port] [--metrics-textfile path]\n"
	    "             [--metrics-interval secs] [--metrics-scan secs]\n"
	    "             [--tls-max-sessions n] [--tls-handshake-timeout secs]\n"
	    "             [-Y synctarget] [-y synclisten] [--sync-peer host]\n"
	    "             [--sync-key file]\n");
	exit(1);
}

/*
 * Options beyond OpenBSD's letters are long options (--name value or
 * --name=value); each has a code above the byte range.
 */
enum {
	OPT_LONG_FIRST = 256,
	OPT_CONFIG_GROUP,
	OPT_CONFIG_SOCKET,
	OPT_LOG,		/* --log syslog|stderr|/path */
	OPT_PIDFILE,		/* --pidfile /path */
	OPT_LIST_MAX_BLOCKS,
	OPT_LIST_MAX_BLOCKS6,
	OPT_LIST_MAX_BYTES,
	OPT_DB_MAX_SIZE,
	OPT_GREY_MAX_RATE,
	OPT_GREY_MAX_TUPLES,
	/* Per-address limits of the SMTP process (issue 15). */
	OPT_MAXCON_ADDR,
	OPT_ADDR_PREFIX,
	OPT_LOG_PER_CON,
	OPT_LOG_PER_ADDR,
	/* Policy mode (issue 22). */
	OPT_POLICY_ONLY,
	OPT_POLICY_ACTION,
	OPT_POLICY_TEXT,
	OPT_POLICY_NO_HEADER,
	OPT_POLICY_TIMEOUT,
	OPT_POLICY_IDLE,
	/* Metrics (issue 21). */
	OPT_METRICS_TEXTFILE,
	OPT_METRICS_INTERVAL,
	OPT_METRICS_SCAN,
	/* STARTTLS (issue 17). */
	OPT_TLS_MAX,
	OPT_TLS_TIMEOUT,
	/* Synchronisation (issue 19). */
	OPT_SYNC_PEER,
	OPT_SYNC_KEY,
};

static const struct option long_opts[] = {
	{ "config-group", required_argument, NULL, OPT_CONFIG_GROUP },
	{ "config-socket", required_argument, NULL, OPT_CONFIG_SOCKET },
	{ "log",	required_argument,	NULL,	OPT_LOG },
	{ "pidfile",	required_argument,	NULL,	OPT_PIDFILE },
	{ "list-max-blocks", required_argument, NULL, OPT_LIST_MAX_BLOCKS },
	{ "list-max-blocks6", required_argument, NULL, OPT_LIST_MAX_BLOCKS6 },
	{ "list-max-bytes", required_argument, NULL, OPT_LIST_MAX_BYTES },
	{ "db-max-size", required_argument, NULL, OPT_DB_MAX_SIZE },
	{ "grey-max-rate", required_argument, NULL, OPT_GREY_MAX_RATE },
	{ "grey-max-tuples", required_argument, NULL, OPT_GREY_MAX_TUPLES },
	{ "maxcon-per-address", required_argument, NULL, OPT_MAXCON_ADDR },
	{ "address-prefix", required_argument, NULL, OPT_ADDR_PREFIX },
	{ "log-lines-per-connection", required_argument, NULL,
	    OPT_LOG_PER_CON },
	{ "log-lines-per-address", required_argument, NULL, OPT_LOG_PER_ADDR },
	{ "policy-only", no_argument,	NULL,	OPT_POLICY_ONLY },
	{ "policy-action", required_argument, NULL, OPT_POLICY_ACTION },
	{ "policy-text", required_argument, NULL, OPT_POLICY_TEXT },
	{ "policy-no-header", no_argument, NULL, OPT_POLICY_NO_HEADER },
	{ "policy-timeout", required_argument, NULL, OPT_POLICY_TIMEOUT },
	{ "policy-idle", required_argument, NULL, OPT_POLICY_IDLE },
	{ "metrics-textfile", required_argument, NULL, OPT_METRICS_TEXTFILE },
	{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
	{ "metrics-scan", required_argument, NULL, OPT_METRICS_SCAN },
	{ "tls-max-sessions", required_argument, NULL, OPT_TLS_MAX },
	{ "tls-handshake-timeout", required_argument, NULL, OPT_TLS_TIMEOUT },
	{ "sync-peer", required_argument, NULL, OPT_SYNC_PEER },
	{ "sync-key", required_argument, NULL, OPT_SYNC_KEY },
	{ NULL, 0, NULL, 0 }
};

/* Policy mode: -P sockets and the answers' settings. */
_Static_assert(SPAMD_POLICY_MAX == POLICY_LISTEN_MAX, "-P socket bound");
static const char	*policy_socks[SPAMD_POLICY_MAX];
static int		 npolicy, policy_only;
static struct policy_conf policy = {
	.reply = { .action = POLREQ_ACTION, .text = POLREQ_TEXT, .header = 1 },
	.timeout_ms = POLICY_TIMEOUT * 1000, .idle_ms = POLICY_IDLE * 1000
};

/* -Y, --sync-peer, -y, --sync-key: set up in start_up (open_sync). */
static struct {
	const char	*spec;
	int		 ext;
} sync_specs[SYNC_TARGETS_MAX];
static int		 nsync;
static const char	*sync_listen_spec;
static const char	*sync_key_path = PATH_SPAMD_KEY;

/* --log and --pidfile: for running without systemd (README.md). */
static const char *log_dest;
static const char *pid_path;

/* The option as the user typed it, for messages: "-c" or "--name". */
static const char *
opt_name(int opt)
{
	static char buf[64];
	const struct option *o;

	if (opt < OPT_LONG_FIRST) {
		(void)snprintf(buf, sizeof(buf), "-%c", opt);
		return buf;
	}
	for (o = long_opts; o->name != NULL; o++)
		if (o->val == opt) {
			(void)snprintf(buf, sizeof(buf), "--%s", o->name);
			return buf;
		}
	return "option";
}

/* A bad option value: say why, then the usage, as OpenBSD does. */
static __dead void
bad_opt(int opt, const char *arg, const char *why)
{
	fprintf(stderr, "spamd: %s %s: %s\n", opt_name(opt), arg, why);
	usage();
}

static int64_t
parse_time_opt(int opt, const char *arg, int64_t unit, int64_t min,
    int64_t max)
{
	int64_t v;
	const char *errstr;

	if (util_parse_time(arg, unit, min, max, &v, &errstr) == -1)
		bad_opt(opt, arg, errstr);
	return v;
}

static long long
parse_num_opt(int opt, const char *arg, long long min, long long max)
{
	const char *errstr;
	long long v = strtonum(arg, min, max, &errstr);

	if (errstr != NULL)
		bad_opt(opt, arg, errstr);
	return v;
}

/* -s: seconds like OpenBSD (0..10), or milliseconds with "ms". */
static uint64_t
parse_stutter(const char *arg)
{
	size_t n = strlen(arg);

	if (n > 2 && strcmp(arg + n - 2, "ms") == 0) {
		char num[16];

		if (n - 2 >= sizeof(num))
			bad_opt('s', arg, "invalid");
		memcpy(num, arg, n - 2);
		num[n - 2] = '\0';
		return (uint64_t)parse_num_opt('s', num, 0, 10000);
	}
	return (uint64_t)parse_time_opt('s', arg, 1, 0, 10) * 1000;
}

/* --grey-max-rate count/time: new tuples per address; 0 = no bound. */
static void
parse_rate(int opt, const char *arg)
{
	char buf[64], *slash;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf) ||
	    (slash = strchr(buf, '/')) == NULL)
		bad_opt(opt, arg, "not count/time (e.g. 500/1m)");
	*slash++ = '\0';
	conf.grey_rate_n = (uint32_t)parse_num_opt(opt, buf, 0, 1000000);
	conf.grey_rate_period = parse_time_opt(opt, slash, 1, 1, 86400);
}

/* A size in bytes with an optional k, M or G (binary) suffix. */
static int64_t
parse_size_opt(int opt, const char *arg, int64_t min, int64_t max)
{
	int64_t v;
	const char *errstr;

	if (util_parse_size(arg, min, max, &v, &errstr) == -1)
		bad_opt(opt, arg, errstr);
	return v;
}

/* -G passtime:greyexp:whiteexp, bare numbers in minutes:hours:hours. */
static void
parse_G(const char *arg)
{
	char buf[128], *p, *g, *w;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		usage();
	p = buf;
	if ((g = strchr(p, ':')) == NULL)
		usage();
	*g++ = '\0';
	if ((w = strchr(g, ':')) == NULL)
		usage();
	*w++ = '\0';
	if (strchr(w, ':') != NULL)
		usage();
	conf.gl.passtime = parse_time_opt('G', p, 60, 0, 365LL * 86400);
	conf.gl.greyexp = parse_time_opt('G', g, 3600, 1, 365LL * 86400);
	conf.gl.whiteexp = parse_time_opt('G', w, 3600, 1, 3650LL * 86400);
	if (conf.gl.passtime >= conf.gl.greyexp)
		log_warnx("-G: passtime %s is not shorter than greyexp %s: no "
		    "tuple can ever pass", p, g);
}

/* --address-prefix v4len:v6len */
static void
parse_prefix(int opt, const char *arg, unsigned int *p4, unsigned int *p6,
    long long min4, long long min6)
{
	char buf[16], *colon;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf) ||
	    (colon = strchr(buf, ':')) == NULL)
		bad_opt(opt, arg, "not v4len:v6len");
	*colon++ = '\0';
	*p4 = (unsigned int)parse_num_opt(opt, buf, min4, 32);
	*p6 = (unsigned int)parse_num_opt(opt, colon, min6, 128);
}

static int
bind_listener(const struct addr *a, uint16_t port, int dualstack, int sndbuf)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0;

	if (addr_to_sockaddr(a, port, &ss, &len) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	/*
	 * Accepted sockets inherit this. A client that never reads would
	 * otherwise let the kernel queue megabytes of replies for it
	 * before the write timeout even starts.
	 */
	if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		goto fail;
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dualstack ? &zero : &one,
	    sizeof(int)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

/* The SMTP listener(s): -l address, or every address of both families. */
static int
open_listeners(int *fds)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	if (conf.listen != NULL) {
		if (addr_parse(conf.listen, &a) == -1)
			fatalx("-l %s: not a numeric IPv4 or IPv6 address",
			    conf.listen);
		if ((fds[0] = bind_listener(&a, conf.port, 0, CLIENT_SNDBUF)) == -1)
			fatal("bind %s port %u", conf.listen, conf.port);
		return 1;
	}
	addr_parse("::", &a);
	if ((fds[0] = bind_listener(&a, conf.port, 1, CLIENT_SNDBUF)) != -1)
		return 1;
	if (errno != EAFNOSUPPORT)
		fatal("bind [::] port %u", conf.port);
	/* No IPv6 in this kernel: IPv4 only. */
	addr_parse("0.0.0.0", &a);
	if ((fds[0] = bind_listener(&a, conf.port, 0, CLIENT_SNDBUF)) == -1)
		fatal("bind %s port %u", addr_ntop(&a, buf, sizeof(buf)),
		    conf.port);
	return 1;
}

/*
 * "[address]:port", "address:port" or "port" (on 127.0.0.1): a bound
 * TCP listener, or exit with a message naming the option.
 */
static int
listen_hostport(const char *opt, const char *arg)
{
	char buf[ADDR_STRLEN + 16], *host = buf, *port;
	const char *errstr;
	struct addr a;
	long long pn;
	int fd;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		fatalx("%s %s: not [address:]port", opt, arg);
	if ((port = strrchr(buf, ':')) == NULL) {
		port = buf;
		host = "127.0.0.1";
	} else {
		*port++ = '\0';
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			host[strlen(host) - 1] = '\0';
			host++;
		}
	}
	pn = strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL || addr_parse(host, &a) == -1)
		fatalx("%s %s: not [address:]port ([address]:port for IPv6)",
		    opt, arg);
	if ((fd = bind_listener(&a, (uint16_t)pn, 0, 0)) == -1)
		fatal("%s %s: bind", opt, arg);
	return fd;
}

/* -P: a unix socket (an absolute path), or a TCP one (inet:host:port). */
static int
open_policy_one(const char *arg)
{
	if (arg[0] == '/')
		return usock_open(arg, "-P", 0);
	return listen_hostport("-P", arg);
}

/* -m [address:]port: the metrics endpoint, 127.0.0.1 by default. */
static int
open_metrics(void)
{
	if (conf.metrics_listen == NULL)
		return -1;
	return listen_hostport("-m", conf.metrics_listen);
}

static void
open_policy(struct smtpproc_fds *fd)
{
	int i;

	for (i = 0; i < npolicy; i++) {
		fd->pfds[i] = open_policy_one(policy_socks[i]);
		fd->pnames[i] = policy_socks[i];
	}
	fd->np = npolicy;
	conf.policy = npolicy > 0;
	policy.reply.code550 = conf.code550;
	policy.reply.hostname = conf.hostname;
	fd->policy = &policy;
}

static int
open_cfg_listener(void)
{
	struct addr a;
	int fd;

	addr_parse("127.0.0.1", &a);
	if ((fd = bind_listener(&a, SPAMD_CFG_PORT, 0, 0)) == -1)
		fatal("bind 127.0.0.1 port %d (configuration socket)",
		    SPAMD_CFG_PORT);
	return fd;
}

static void
raise_nofile(void)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)conf.maxcon + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		fatalx("-c %d too large: the open files limit is %llu; raise "
		    "it (LimitNOFILE=) or lower -c below %llu", conf.maxcon,
		    (unsigned long long)rl.rlim_max,
		    (unsigned long long)(rl.rlim_max > FD_RESERVE ?
		    rl.rlim_max - FD_RESERVE : 0));
	if (rl.rlim_cur < need) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)need);
	}
}

/* Give a file in root's own state directory to the service user. */
static void
give_file(const char *path, uid_t uid, gid_t gid)
{
	char why[256];
	int fd;

	if ((fd = util_open_file(path, O_RDONLY, 0, why, sizeof(why))) == -1)
		fatalx("%s: %s", path, why);
	if (fchown(fd, uid, gid) == -1)
		fatal("chown %s", path);
	close(fd);
}

/*
 * Create the database (and its directory, if missing) before the fork,
 * so the unprivileged greylister can write it. The directory is made by
 * root and given to the service user; the database work runs as the
 * owner of the directory (statedir.c), so nothing that user planted
 * there makes root write or chown a file (DESIGN.md §4.3). Only in a
 * directory of root's own does root create the files, and it hands the
 * database and its lock over through their descriptors.
 */
static void
prepare_db(uid_t uid, gid_t gid)
{
	struct greydb *db;
	char *copy, *dir, *lock;
	struct stat st;
	uid_t ouid;
	gid_t ogid;
	int fd, acting;

	if ((copy = strdup(conf.dbpath)) == NULL)
		fatal("strdup");
	dir = dirname(copy);
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0755) == -1)
			fatal("database directory %s", dir);
		if (geteuid() == 0) {
			if ((fd = open(dir, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC)) == -1)
				fatal("open %s", dir);
			if (fchown(fd, uid, gid) == -1)
				fatal("chown %s", dir);
			close(fd);
		}
		log_info("created %s", dir);
	} else if (geteuid() == 0 && st.st_uid != uid)
		log_warnx("%s is not owned by %s: the greylister may not be "
		    "able to write the database, its checkpoint or journal",
		    dir, conf.user);
	free(copy);
	if (statedir_enter(conf.dbpath, STATEDIR_FOR_NOW) == -1)
		fatalx("cannot prepare the database %s", conf.dbpath);
	acting = statedir_owner(&ouid, &ogid) == 0;
	/* Back to root before exiting too: the exit handlers run as root. */
	if ((db = greydb_open(conf.dbpath, GREYDB_WRITE, GREYDB_WAIT)) == NULL ||
	    greydb_close(db) == -1) {
		(void)statedir_leave();
		fatalx("%s", greydb_errstr());
	}
	if (statedir_leave() == -1)
		fatalx("cannot return to root after preparing %s",
		    conf.dbpath);
	if (geteuid() != 0 || acting)
		return;
	if (asprintf(&lock, "%s.lock", conf.dbpath) == -1)
		fatal("asprintf");
	give_file(conf.dbpath, uid, gid);
	give_file(lock, uid, gid);
	free(lock);
}

static void
socketpair_or_die(int sv[2])
{
	int sz = CHAN_SOCKBUF, i;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	/* Room for bursts; the force variant works while we are root. */
	for (i = 0; i < 2; i++) {
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz,
		    sizeof(sz)) == -1)
			(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz,
			    sizeof(sz));
		if (setsockopt(sv[i], SOL_SOCKET, SO_RCVBUFFORCE, &sz,
		    sizeof(sz)) == -1)
			(void)setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz,
			    sizeof(sz));
	}
}

/* A child dies with its parent (set after the uid change, which clears it). */
static void
die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		exit(1);
}

static int maxblack_set;	/* -B given */

/* One of OpenBSD's option letters; 0 if ch is not one of them. */
static int
opt_letter(int ch)
{
	switch (ch) {
	case '4':
		conf.code550 = 0;
		break;
	case '5':
		conf.code550 = 1;
		break;
	case 'A':
		conf.alloweddomains = optarg;
		break;
	case 'B':
		conf.maxblack = (int)parse_num_opt(ch, optarg, 0,
		    INT_MAX);
		maxblack_set = 1;
		break;
	case 'b':
		conf.blackonly = 1;
		break;
	case 'c':
		conf.maxcon = (int)parse_num_opt(ch, optarg, 1,
		    INT_MAX - FD_RESERVE);
		break;
	case 'd':
		conf.debug = 1;
		break;
	case 'f':
		conf.dbpath = optarg;
		break;
	case 'G':
		parse_G(optarg);
		break;
	case 'g':
		/* Pools, not providers: nothing wider than a /16 or a /32. */
		parse_prefix(ch, optarg, &conf.group4, &conf.group6, 16, 32);
		break;
	case 'h':
		if (strlen(optarg) > HOST_NAME_MAX)
			bad_opt(ch, optarg, "too long");
		strlcpy(conf.hostname, optarg, sizeof(conf.hostname));
		break;
	case 'l':
		conf.listen = optarg;
		break;
	case 'M':
		if (addr_parse(optarg, &conf.lowmx) == -1)
			bad_opt(ch, optarg, "not a numeric IPv4 or "
			    "IPv6 address");
		conf.lowmx_set = 1;
		break;
	case 'n':
		conf.name = optarg;
		break;
	case 'p':
		conf.port = (uint16_t)parse_num_opt(ch, optarg, 1,
		    65535);
		break;
	case 'S':
		conf.grey_stutter = parse_time_opt(ch, optarg, 1, 0, 90);
		break;
	case 's':
		conf.stutter_ms = parse_stutter(optarg);
		break;
	case 'T':
		conf.idle_timeout = parse_time_opt(ch, optarg, 1, 1,
		    86400);
		break;
	case 't':
		conf.trapscan = parse_time_opt(ch, optarg, 1, 1,
		    86400);
		break;
	case 'u':
		conf.user = optarg;
		break;
	case 'v':
		conf.verbose = 1;
		break;
	case 'w':
		conf.window = (int)parse_num_opt(ch, optarg, 1,
		    INT_MAX);
		break;
	case 'C':
		conf.tls_cert = optarg;
		break;
	case 'K':
		conf.tls_key = optarg;
		break;
	case 'Y':
		if (nsync == SYNC_TARGETS_MAX)
			bad_opt(ch, optarg, "too many sync targets");
		sync_specs[nsync].spec = optarg;
		sync_specs[nsync++].ext = 0;
		break;
	case 'y':
		sync_listen_spec = optarg;
		break;
	default:
		return 0;
	}
	return 1;
}

/* One of the long options beyond OpenBSD's; 0 if ch is not one. */
static int
opt_long(int ch)
{
	switch (ch) {
	case OPT_CONFIG_GROUP:
		conf.cfggroup = optarg;
		break;
	case OPT_CONFIG_SOCKET:
		if (optarg[0] != '/')
			bad_opt(ch, optarg, "not an absolute path");
		conf.cfgsock = optarg;
		break;
	case OPT_LOG:
		if (strcmp(optarg, "syslog") != 0 &&
		    strcmp(optarg, "stderr") != 0 && optarg[0] != '/')
			bad_opt(ch, optarg, "not syslog, stderr or an "
			    "absolute path");
		log_dest = optarg;
		break;
	case OPT_PIDFILE:
		if (optarg[0] != '/')
			bad_opt(ch, optarg, "not an absolute path");
		pid_path = optarg;
		break;
	case OPT_DB_MAX_SIZE:
		conf.db_max_size = parse_size_opt(ch, optarg, 0,
		    INT64_MAX / 2);
		if (conf.db_max_size > 0 &&
		    conf.db_max_size < 64 * 1024)
			bad_opt(ch, optarg, "too small (64k at least, "
			    "or 0 for no bound)");
		break;
	case OPT_GREY_MAX_RATE:
		parse_rate(ch, optarg);
		break;
	case OPT_GREY_MAX_TUPLES:
		conf.grey_max_tuples = (uint32_t)parse_num_opt(ch,
		    optarg, 0, UINT32_MAX);
		break;
	case OPT_MAXCON_ADDR:
		conf.maxcon_addr = (int)parse_num_opt(ch, optarg, 1,
		    INT_MAX);
		break;
	case OPT_ADDR_PREFIX:
		parse_prefix(ch, optarg, &conf.prefix4, &conf.prefix6, 1, 1);
		break;
	case OPT_LOG_PER_CON:
		conf.log_per_con = (unsigned int)parse_num_opt(ch,
		    optarg, 0, 65000);
		break;
	case OPT_LOG_PER_ADDR:
		conf.log_per_addr = (unsigned int)parse_num_opt(ch,
		    optarg, 0, INT_MAX);
		break;
	case OPT_LIST_MAX_BLOCKS:
		conf.list_max_blocks = (size_t)parse_num_opt(ch, optarg,
		    1, (long long)CFG_LINE_MAX);
		break;
	case OPT_LIST_MAX_BLOCKS6:
		conf.list_max_blocks6 = (size_t)parse_num_opt(ch, optarg,
		    0, (long long)CFG_LINE_MAX);
		break;
	case OPT_LIST_MAX_BYTES:
		conf.list_max_bytes = (size_t)parse_size_opt(ch, optarg,
		    1024, (int64_t)CFG_LINE_MAX);
		break;
	default:
		return 0;
	}
	return 1;
}

/* -P and the --policy- options; 0 if ch is not one. */
static int
opt_policy(int ch)
{
	const char *p;

	switch (ch) {
	case 'P':
		if (npolicy == SPAMD_POLICY_MAX)
			bad_opt(ch, optarg, "too many policy sockets");
		policy_socks[npolicy++] = optarg;
		break;
	case OPT_POLICY_ONLY:
		policy_only = 1;
		break;
	case OPT_POLICY_ACTION:
		for (p = optarg; *p != '\0'; p++)
			if (!isprint((unsigned char)*p))
				bad_opt(ch, optarg, "not printable text");
		if (optarg[0] == '\0' || strlen(optarg) > 64)
			bad_opt(ch, optarg, "empty or too long");
		policy.reply.action = optarg;
		break;
	case OPT_POLICY_TEXT:
		if (polreq_text_check(optarg) == -1)
			bad_opt(ch, optarg, polreq_error());
		policy.reply.text = optarg;
		break;
	case OPT_POLICY_NO_HEADER:
		policy.reply.header = 0;
		break;
	case OPT_POLICY_TIMEOUT:
		policy.timeout_ms = (uint64_t)parse_time_opt(ch, optarg, 1, 1,
		    3600) * 1000;
		break;
	case 'm':
		conf.metrics_listen = optarg;
		break;
	case OPT_METRICS_TEXTFILE:
		if (optarg[0] != '/')
			bad_opt(ch, optarg, "not an absolute path");
		conf.metrics_file = optarg;
		break;
	case OPT_METRICS_INTERVAL:
		conf.metrics_interval = parse_time_opt(ch, optarg, 1, 1,
		    86400);
		break;
	case OPT_METRICS_SCAN:
		conf.metrics_scan = parse_time_opt(ch, optarg, 1, 1, 86400);
		break;
	case OPT_TLS_MAX:
		conf.tls_max = (int)parse_num_opt(ch, optarg, 1, INT_MAX);
		break;
	case OPT_TLS_TIMEOUT:
		conf.tls_timeout = parse_time_opt(ch, optarg, 1, 1, 3600);
		break;
	case OPT_SYNC_PEER:
		if (nsync == SYNC_TARGETS_MAX)
			bad_opt(ch, optarg, "too many sync targets");
		sync_specs[nsync].spec = optarg;
		sync_specs[nsync++].ext = 1;
		break;
	case OPT_SYNC_KEY:
		sync_key_path = optarg;
		break;
	case OPT_POLICY_IDLE:
		policy.idle_ms = (uint64_t)parse_time_opt(ch, optarg, 1, 1,
		    86400) * 1000;
		break;
	default:
		return 0;
	}
	return 1;
}

/* The command line into conf, with the rules between options. */
static void
parse_options(int argc, char *argv[])
{
	int ch;

	while ((ch = getopt_long(argc, argv,
	    "45A:B:bC:c:df:G:g:h:K:l:M:m:n:P:p:S:s:T:t:u:vw:Y:y:", long_opts,
	    NULL)) != -1)
		if (!opt_letter(ch) && !opt_long(ch) && !opt_policy(ch))
			usage();
	if (argc != optind)
		usage();
	if (policy_only && npolicy == 0) {
		fprintf(stderr, "spamd: --policy-only needs -P socket\n");
		usage();
	}
	if (conf.blackonly)
		conf.maxblack = conf.maxcon;
	else if (!maxblack_set)
		conf.maxblack = conf.maxcon > 100 ? conf.maxcon - 100 : 0;
	else if (conf.maxblack > conf.maxcon)
		usage();
	else if (conf.maxblack == conf.maxcon)	/* OpenBSD's rule */
		conf.maxblack = conf.maxcon > 100 ? conf.maxcon - 100 : 0;
	if (conf.maxcon_addr == -1)
		conf.maxcon_addr = MAXCON_ADDR;
	if (conf.maxcon_addr > conf.maxcon)
		conf.maxcon_addr = conf.maxcon;
	if ((conf.tls_cert == NULL) != (conf.tls_key == NULL)) {
		fprintf(stderr, "spamd: need key and certificate for TLS\n");
		exit(1);
	}
	if (conf.tls_max == -1)
		conf.tls_max = conf.maxcon >= 4 ? conf.maxcon / 4 : 1;
	if (conf.tls_max > conf.maxcon)
		conf.tls_max = conf.maxcon;
}

/*
 * Synchronisation: names resolved, the -y socket bound (and the group
 * joined), the key read, as root before the fork; errors are fatal with
 * a message naming the option. The greylister keeps the sockets.
 */
static struct sync *
open_sync(void)
{
	struct sync *s;
	char err[256];
	int i;

	if (nsync == 0 && sync_listen_spec == NULL)
		return NULL;
	if (conf.blackonly) {
		log_warnx("-Y, -y, --sync-peer: blacklist-only mode has no "
		    "greylisting to share; ignoring them");
		return NULL;
	}
	if ((s = sync_new(SYNC_ROLE_GREY, conf.hostname)) == NULL)
		fatal("sync");
	for (i = 0; i < nsync; i++)
		if (sync_target(s, sync_specs[i].spec, sync_specs[i].ext, err,
		    sizeof(err)) == -1)
			fatalx("%s %s: %s", sync_specs[i].ext ? "--sync-peer" :
			    "-Y", sync_specs[i].spec, err);
	if (sync_listen_spec != NULL &&
	    sync_listen(s, sync_listen_spec, err, sizeof(err)) == -1)
		fatalx("-y %s: %s", sync_listen_spec, err);
	if (sync_key(s, sync_key_path, err, sizeof(err)) == -1)
		fatalx("--sync-key %s", err);
	if (sync_open(s, err, sizeof(err)) == -1)
		fatalx("sync: %s", err);
	if (nsync > 0 && sync_listen_spec == NULL)
		log_info("sync: sending only (no -y: nothing is received)");
	return s;
}

/*
 * -C and -K: checked and loaded as root, before the fork, so that a bad
 * file stops spamd now with a clear message. The SMTP process inherits
 * the context; OpenSSL reads its configuration here, before the sandbox.
 */
static struct tls_ctx *
load_tls(void)
{
	struct tls_ctx *ctx;
	char err[768];

	if (conf.tls_cert == NULL)
		return NULL;
	if (conf.blackonly) {
		log_warnx("-C, -K: blacklist-only mode treats every client "
		    "as listed, and listed clients are never offered "
		    "STARTTLS; not loading them");
		conf.tls_cert = conf.tls_key = NULL;
		return NULL;
	}
	if (tls_init() == -1)
		fatalx("cannot initialise OpenSSL for STARTTLS");
	if ((ctx = tlsload_files(conf.tls_cert, conf.tls_key, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	tlsload_describe(ctx, conf.tls_cert);
	return ctx;
}

/* What the processes inherit: listeners and the configuration sockets. */
struct inherit {
	struct smtpproc_fds	fd;
	int			unixfd, portfd;
};

static void
close_inherited(const struct inherit *in)
{
	int i;

	for (i = 0; i < in->fd.nl; i++)
		close(in->fd.lfds[i]);
	for (i = 0; i < in->fd.np; i++)
		close(in->fd.pfds[i]);
	if (in->fd.mfd != -1)
		close(in->fd.mfd);
	close(in->fd.cfgfd);
	close(in->unixfd);
	if (in->portfd != -1)
		close(in->portfd);
	/* The key stays in the SMTP process only. */
	if (in->fd.tls != NULL)
		tls_ctx_free(in->fd.tls);
}

/*
 * As root: the user, logging, pid file, sockets and the database; then
 * detach (without -d).
 */
static void
start_up(struct inherit *in)
{
	uid_t uid = 0;
	gid_t gid = 0;

	if (priv_lookup(conf.user, &uid, &gid) == -1)
		fatalx("cannot run as %s", conf.user);
	if (geteuid() != 0 && uid != geteuid())
		fatalx("need root privileges");
	conf.uid = uid;
	if (conf.cfggroup != NULL) {
		struct group *gr;

		errno = 0;
		if ((gr = getgrnam(conf.cfggroup)) == NULL)
			fatalx("--config-group %s: %s", conf.cfggroup,
			    errno ? strerror(errno) : "no such group");
		conf.cfggid = gr->gr_gid;
	}
	/* Errors go to stderr until we detach, then to syslog. */
	log_init("spamd", 1, conf.debug ? 2 * conf.verbose : conf.verbose);
	if (log_dest != NULL && log_open(log_dest) == -1)
		fatal("--log %s", log_dest);
	if (pid_path != NULL && pidfile_open(pid_path) == -1)
		fatal("--pidfile %s", pid_path);
	tzset();			/* the banner's local time, before the drop */
	in->fd.tls = load_tls();
	conf.sync = open_sync();
	raise_nofile();
	in->fd.nl = policy_only ? 0 : open_listeners(in->fd.lfds);
	open_policy(&in->fd);
	in->fd.mfd = open_metrics();
	if (metrics_init() == -1)
		fatal("metrics: mmap");
	metrics->greylisting = !conf.blackonly;
	metrics->maxcon = conf.maxcon;
	in->fd.cfgfd = open_cfg_listener();
	cfgsock_prepare(in->unixfd = cfgsock_unix_open(conf.cfgsock),
	    in->portfd = cfgsock_portstart_open());
	if (!conf.blackonly)
		prepare_db(uid, gid);
	if (!conf.debug && daemon(0, 0) == -1)
		fatal("daemon");
	/* -d logs to stderr, unless --log says where. */
	if (!conf.debug || log_dest != NULL)
		log_init("spamd", 0, conf.debug ? 2 * conf.verbose :
		    conf.verbose);
	/*
	 * The pid file names the process that stays the parent (the nft
	 * helper, or with -b the only process). Only an unsandboxed
	 * process may remove it at exit: with -b it is left behind.
	 */
	if (pid_path != NULL && pidfile_write(!conf.blackonly) == -1)
		fatal("--pidfile %s", pid_path);
}

int
main(int argc, char *argv[])
{
	struct inherit in;
	int sp_sg[2], sp_gn[2], sp_tn[2] = { -1, -1 };
	pid_t parent, smtp_pid, grey_pid;

	log_init("spamd", 1, 0);
	if (gethostname(conf.hostname, sizeof(conf.hostname)) == -1)
		fatal("gethostname");
	conf.hostname[sizeof(conf.hostname) - 1] = '\0';
	parse_options(argc, argv);
	start_up(&in);

	if (conf.blackonly) {
		priv_drop(conf.user, PRIV_KEEP_NONE);
		in.fd.greyfd = -1;
		in.fd.tlsfd = -1;
		smtpproc_main(&in.fd);
	}

	socketpair_or_die(sp_sg);
	socketpair_or_die(sp_gn);
	if (in.fd.tls != NULL)
		socketpair_or_die(sp_tn);	/* certificates at SIGHUP */
	parent = getpid();
	if ((smtp_pid = fork()) == -1)
		fatal("fork");
	if (smtp_pid == 0) {
		close(sp_sg[1]);
		close(sp_gn[0]);
		close(sp_gn[1]);
		if (sp_tn[1] != -1)
			close(sp_tn[1]);
		sync_close(conf.sync);		/* the greylister's */
		priv_drop(conf.user, PRIV_KEEP_NONE);
		die_with_parent(parent);
		in.fd.greyfd = sp_sg[0];
		in.fd.tlsfd = sp_tn[0];
		smtpproc_main(&in.fd);
	}
	if ((grey_pid = fork()) == -1)
		fatal("fork");
	if (grey_pid == 0) {
		close(sp_sg[0]);
		close(sp_gn[0]);
		if (sp_tn[0] != -1) {
			close(sp_tn[0]);
			close(sp_tn[1]);
		}
		close_inherited(&in);
		grey_load_alloweddomains(conf.alloweddomains);
		priv_drop(conf.user, PRIV_KEEP_NONE);
		die_with_parent(parent);
		grey_main(sp_sg[1], sp_gn[1]);
	}
	close(sp_sg[0]);
	close(sp_sg[1]);
	close(sp_gn[1]);
	if (sp_tn[0] != -1)
		close(sp_tn[0]);
	close_inherited(&in);
	sync_close(conf.sync);
	/* Its supplementary groups (ssl-cert): it reads -K at SIGHUP. */
	priv_drop(conf.user, PRIV_KEEP_NET_ADMIN |
	    (conf.tls_cert != NULL ? PRIV_KEEP_GROUPS : 0));
	nfthelper_main(sp_gn[0], sp_tn[1], smtp_pid, grey_pid);
}
