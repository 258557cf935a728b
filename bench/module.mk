# bench/: benchmark tools and `make bench` (see bench/run.sh and
# bench/RESULTS.md). Each bench/*.c is one program, built into $(O)/bench
# and linked against every library; sdlbench.c belongs to the blacklist
# engineer and is built and run here as it is.
#
#	make bench		build what it needs, run everything (< 10 min),
#				print the table, rewrite bench/RESULTS.md
#	make bench BENCH='fc hold'	only some sections (see bench/run.sh)
#
# Benchmarks are not tests: nothing here fails on a number. Needs root
# (namespaces, nftables) and the Debian packages postfix, postgrey and
# endlessh (`make deps`).
# benchsmtp.c (the SMTP client code the load tools share) and benchutil.c
# (clock, fatal error, stop flag) are not programs.
BENCH_SHARED := bench/benchsmtp.c bench/benchutil.c
BENCH_SRCS := $(filter-out $(BENCH_SHARED),$(sort $(wildcard bench/*.c)))
BENCH_BINS := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRCS))
BENCH_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(BENCH_SRCS) $(BENCH_SHARED))
BENCH_LIBS := $(O)/lib/libspamd.a $(O)/lib/libnft.a $(O)/lib/libcommon.a
BENCH ?=

BENCH_SHARED_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(BENCH_SHARED))

$(O)/bench/%: $(O)/obj/bench/%.o $(BENCH_SHARED_OBJS) $(BENCH_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BENCH_SHARED_OBJS) \
		$(BENCH_LIBS) $(LDLIBS_ALL)

.SECONDARY: $(BENCH_OBJS)
-include $(BENCH_OBJS:.o=.d)

bench: all $(BENCH_BINS) $(O)/tests/nftset
	@O=$(abspath $(O)) BENCH_ONLY='$(BENCH)' bench/run.sh
