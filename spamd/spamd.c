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

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "common/priv.h"
#include "common/util.h"
#include "spamd/grey.h"
#include "spamd/spamd.h"

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
	.maxcon_addr = -1,	/* MAXCON_ADDR, at most -c */
	.prefix4 = 32,
	.prefix6 = 64,
	.log_per_con = 100,
	.log_per_addr = 300,
};

#define MAXCON_ADDR	20	/* default --maxcon-per-address */

static __dead void
usage(void)
{
	fprintf(stderr,
	    "usage: spamd [-45bdv] [-A file] [-B maxblack] [-c maxcon] "
	    "[-f dbfile]\n"
	    "             [-G passtime:greyexp:whiteexp] [-h hostname] "
	    "[-l address]\n"
	    "             [-M address] [-n name] [-p port] [-S secs] "
	    "[-s secs]\n"
	    "             [-T timeout] [-t secs] [-u user] [-w window]\n"
	    "             [--address-prefix v4len:v6len] "
	    "[--log-lines-per-address n]\n"
	    "             [--log-lines-per-connection n] "
	    "[--maxcon-per-address n]\n");
	exit(1);
}

/*
 * Options beyond OpenBSD's letters are long options (--name value or
 * --name=value); each has a code above the byte range.
 */
enum {
	OPT_LONG_FIRST = 256,
	/* Per-address limits of the SMTP process (issue 15). */
	OPT_MAXCON_ADDR,
	OPT_ADDR_PREFIX,
	OPT_LOG_PER_CON,
	OPT_LOG_PER_ADDR,
};

static const struct option long_opts[] = {
	{ "maxcon-per-address", required_argument, NULL, OPT_MAXCON_ADDR },
	{ "address-prefix", required_argument, NULL, OPT_ADDR_PREFIX },
	{ "log-lines-per-connection", required_argument, NULL,
	    OPT_LOG_PER_CON },
	{ "log-lines-per-address", required_argument, NULL, OPT_LOG_PER_ADDR },
	{ NULL, 0, NULL, 0 }
};

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
parse_prefix(const char *arg)
{
	char buf[16], *colon;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf) ||
	    (colon = strchr(buf, ':')) == NULL)
		bad_opt(OPT_ADDR_PREFIX, arg, "not v4len:v6len");
	*colon++ = '\0';
	conf.prefix4 = (unsigned int)parse_num_opt(OPT_ADDR_PREFIX, buf, 1, 32);
	conf.prefix6 = (unsigned int)parse_num_opt(OPT_ADDR_PREFIX, colon, 1,
	    128);
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

/*
 * Create the database (and its directory, if missing) as root, owned by
 * the service user, so the unprivileged greylister can write it.
 */
static void
prepare_db(uid_t uid, gid_t gid)
{
	struct greydb *db;
	char *copy, *dir, *lock;
	struct stat st;

	if ((copy = strdup(conf.dbpath)) == NULL)
		fatal("strdup");
	dir = dirname(copy);
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0755) == -1)
			fatal("database directory %s", dir);
		if (geteuid() == 0 && chown(dir, uid, gid) == -1)
			fatal("chown %s", dir);
		log_info("created %s", dir);
	} else if (geteuid() == 0 && st.st_uid != uid)
		log_warnx("%s is not owned by %s: database recovery, which "
		    "rewrites the file, may fail", dir, conf.user);
	free(copy);
	if ((db = greydb_open(conf.dbpath, GREYDB_WRITE, GREYDB_WAIT)) == NULL)
		fatalx("%s", greydb_errstr());
	if (greydb_close(db) == -1)
		fatalx("%s", greydb_errstr());
	if (geteuid() != 0)
		return;
	if (asprintf(&lock, "%s.lock", conf.dbpath) == -1)
		fatal("asprintf");
	if (chown(conf.dbpath, uid, gid) == -1)
		fatal("chown %s", conf.dbpath);
	if (chown(lock, uid, gid) == -1)
		fatal("chown %s", lock);
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

int
main(int argc, char *argv[])
{
	int ch, lfds[2], nl, cfgfd, sp_sg[2], sp_gn[2];
	int maxblack_set = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	pid_t parent, smtp_pid, grey_pid;

	log_init("spamd", 1, 0);
	if (gethostname(conf.hostname, sizeof(conf.hostname)) == -1)
		fatal("gethostname");
	conf.hostname[sizeof(conf.hostname) - 1] = '\0';

	while ((ch = getopt_long(argc, argv,
	    "45A:B:bC:c:df:G:h:K:l:M:n:p:S:s:T:t:u:vw:Y:y:", long_opts,
	    NULL)) != -1) {
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
		case OPT_MAXCON_ADDR:
			conf.maxcon_addr = (int)parse_num_opt(ch, optarg, 1,
			    INT_MAX);
			break;
		case OPT_ADDR_PREFIX:
			parse_prefix(optarg);
			break;
		case OPT_LOG_PER_CON:
			conf.log_per_con = (unsigned int)parse_num_opt(ch,
			    optarg, 0, 65000);
			break;
		case OPT_LOG_PER_ADDR:
			conf.log_per_addr = (unsigned int)parse_num_opt(ch,
			    optarg, 0, INT_MAX);
			break;
		case 'C':
		case 'K':
			fatalx("-%c: STARTTLS is not supported yet", ch);
		case 'Y':
		case 'y':
			fatalx("-%c: synchronisation is not supported yet", ch);
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
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

	if (priv_lookup(conf.user, &uid, &gid) == -1)
		fatalx("cannot run as %s", conf.user);
	if (geteuid() != 0 && uid != geteuid())
		fatalx("need root privileges");
	/* Errors go to stderr until we detach, then to syslog. */
	log_init("spamd", 1, conf.debug ? 2 * conf.verbose : conf.verbose);
	tzset();			/* the banner's local time, before the drop */
	raise_nofile();
	nl = open_listeners(lfds);
	cfgfd = open_cfg_listener();
	if (!conf.blackonly)
		prepare_db(uid, gid);
	if (!conf.debug) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("spamd", 0, conf.verbose);
	}

	if (conf.blackonly) {
		priv_drop(conf.user, PRIV_KEEP_NONE);
		smtpproc_main(lfds, nl, cfgfd, -1);
	}

	socketpair_or_die(sp_sg);
	socketpair_or_die(sp_gn);
	parent = getpid();
	if ((smtp_pid = fork()) == -1)
		fatal("fork");
	if (smtp_pid == 0) {
		close(sp_sg[1]);
		close(sp_gn[0]);
		close(sp_gn[1]);
		priv_drop(conf.user, PRIV_KEEP_NONE);
		die_with_parent(parent);
		smtpproc_main(lfds, nl, cfgfd, sp_sg[0]);
	}
	if ((grey_pid = fork()) == -1)
		fatal("fork");
	if (grey_pid == 0) {
		int i;

		close(sp_sg[0]);
		close(sp_gn[0]);
		for (i = 0; i < nl; i++)
			close(lfds[i]);
		close(cfgfd);
		grey_load_alloweddomains(conf.alloweddomains);
		priv_drop(conf.user, PRIV_KEEP_NONE);
		die_with_parent(parent);
		grey_main(sp_sg[1], sp_gn[1]);
	}
	close(sp_sg[0]);
	close(sp_sg[1]);
	close(sp_gn[1]);
	for (ch = 0; ch < nl; ch++)
		close(lfds[ch]);
	close(cfgfd);
	priv_drop(conf.user, PRIV_KEEP_NET_ADMIN);
	nfthelper_main(sp_gn[0], smtp_pid, grey_pid);
}
