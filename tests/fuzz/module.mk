# tests/fuzz/module.mk: the libFuzzer harnesses, built two ways.
#
# Each tests/fuzz/fuzz_NAME.c is one harness (LLVMFuzzerTestOneInput), with
# its seed corpus in tests/fuzz/corpus/NAME/ and, optionally, a libFuzzer
# dictionary tests/fuzz/NAME.dict.
#
#  * Replay build, part of `make tests' (so of `make check'): $(CC), the
#    normal flags (and SANITIZE=1's), the harness, tests/fuzz/fuzzutil.c
#    and tests/fuzz/replay.c's main(), into $(O)/tests/fuzz-NAME.
#    tests/fuzz/replay.sh runs each over its corpus.
#  * Fuzzing build, `make fuzz': clang with -fsanitize=fuzzer,address,
#    undefined, every library source compiled again into $(FUZZ_O)
#    (default $(O)/fuzz), and each harness run for FUZZ_SECONDS (default
#    60). New inputs go to $(FUZZ_O)/corpus/NAME/ (the tree's corpus is only
#    read) and crashes to $(FUZZ_O)/findings/NAME/; copy a finding into
#    tests/fuzz/corpus/NAME/ and commit it once fixed. `make -j2 fuzz' runs
#    two harnesses at a time; FUZZ='smtp cfg' picks some; FUZZ_FLAGS adds
#    libFuzzer options. A harness stops at its first crash; `make fuzz'
#    then fails.
#  * `make fuzz-merge' copies into tests/fuzz/corpus/NAME/ the inputs of
#    $(FUZZ_O)/corpus/NAME/ that reach code the tree's corpus does not
#    (libFuzzer -merge=1), so that the replay covers what fuzzing found.
#    It writes into the tree on purpose: review and commit the result.
#
# The GNUmakefile includes module fragments in sorted order, so this file
# comes after every program's module.mk: the library lists below are
# complete when it is read.

FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_REPLAY_BINS := $(patsubst %,$(O)/tests/fuzz-%,$(FUZZ_NAMES))
FUZZ_LIBNAMES := $(LIBDIRS) $(foreach p,$(PROGS),$(if $($(p)_SRCS),$(p)))
FUZZ_REPLAY_LIBS := $(patsubst %,$(O)/lib/lib%.a,$(FUZZ_LIBNAMES))

ifeq ($(filter common,$(FUZZ_LIBNAMES)),)
$(error tests/fuzz/module.mk was read before common/module.mk)
endif

$(FUZZ_REPLAY_BINS): $(O)/tests/fuzz-%: $(O)/obj/tests/fuzz/fuzz_%.o \
		$(O)/obj/tests/fuzz/fuzzutil.o $(O)/obj/tests/fuzz/replay.o \
		$(FUZZ_REPLAY_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_LIBS) $(LINK_LIBS) \
		$(LDLIBS_ALL)

EXTRA_TEST_BINS += $(FUZZ_REPLAY_BINS)
-include $(patsubst %,$(O)/obj/tests/fuzz/%.d,$(addprefix fuzz_,$(FUZZ_NAMES)) fuzzutil replay)

# ---------------------------------------------------------------------------
# make fuzz

FUZZ_CC ?= clang
FUZZ_O ?= $(O)/fuzz
FUZZ_SECONDS ?= 60
FUZZ ?= $(FUZZ_NAMES)
FUZZ_FLAGS ?=
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	$(CPPFLAGS_ALL)
# Only what the harnesses reach is compiled with clang: the rest (nft/,
# spamd/sandbox.c) trips clang-only warnings inside libmnl's and
# libseccomp's macros, and is never called here.
FUZZ_LIB_SRCS := $(common_SRCS) $(addprefix spamd/,smtp.c proto.c cfg.c \
	sdl.c syncmsg.c) $(addprefix spamd-setup/,getcap.c conf.c iprange.c) \
	spamlogd/nflog.c
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_O)/obj/%.o,$(FUZZ_LIB_SRCS))

# Longest input libFuzzer makes up, per harness (default 4096): the SMTP
# harness must reach over-long lines (SMTP_LINE_MAX is 8192).
FUZZ_MAXLEN_smtp := 20000
FUZZ_MAXLEN_cfg := 8192

$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_O)/lib/libfuzzall.a: $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_O)/bin/fuzz-%: $(FUZZ_O)/obj/tests/fuzz/fuzz_%.o \
		$(FUZZ_O)/obj/tests/fuzz/fuzzutil.o $(FUZZ_O)/lib/libfuzzall.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

.PRECIOUS: $(FUZZ_O)/bin/fuzz-% $(FUZZ_O)/obj/%.o
-include $(FUZZ_LIB_OBJS:.o=.d)

.PHONY: fuzz-build $(addprefix fuzz-run-,$(FUZZ_NAMES))
fuzz-build: $(patsubst %,$(FUZZ_O)/bin/fuzz-%,$(FUZZ))

$(addprefix fuzz-run-,$(FUZZ_NAMES)): fuzz-run-%: $(FUZZ_O)/bin/fuzz-%
	@mkdir -p $(FUZZ_O)/corpus/$* $(FUZZ_O)/findings/$*
	@echo "fuzz: $* for $(FUZZ_SECONDS) s, log in $(FUZZ_O)/fuzz-$*.log"
	@$< -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_O)/findings/$*/ \
		$(if $(FUZZ_MAXLEN_$*),-max_len=$(FUZZ_MAXLEN_$*)) \
		$(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) \
		$(FUZZ_FLAGS) $(FUZZ_O)/corpus/$* tests/fuzz/corpus/$* \
		>$(FUZZ_O)/fuzz-$*.log 2>&1 </dev/null; \
	rc=$$?; \
	grep -E '^#[0-9]+.*(DONE|cov:)' $(FUZZ_O)/fuzz-$*.log | tail -n 1 | \
		sed 's/^/fuzz: $*: /'; \
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)' \
		$(FUZZ_O)/fuzz-$*.log | sed 's/^/fuzz: $*: /'; \
	if [ $$rc != 0 ]; then tail -n 40 $(FUZZ_O)/fuzz-$*.log; \
		echo "fuzz: $* FAILED (exit $$rc), finding in $(FUZZ_O)/findings/$*/"; \
	fi; exit $$rc

fuzz: $(addprefix fuzz-run-,$(FUZZ))

.PHONY: fuzz-merge $(addprefix fuzz-merge-,$(FUZZ_NAMES))
$(addprefix fuzz-merge-,$(FUZZ_NAMES)): fuzz-merge-%: $(FUZZ_O)/bin/fuzz-%
	@mkdir -p $(FUZZ_O)/corpus/$*
	@before=$$(ls tests/fuzz/corpus/$* | wc -l); \
	$< -merge=1 $(if $(FUZZ_MAXLEN_$*),-max_len=$(FUZZ_MAXLEN_$*)) \
		tests/fuzz/corpus/$* $(FUZZ_O)/corpus/$* \
		>$(FUZZ_O)/merge-$*.log 2>&1 </dev/null || \
		{ tail -n 20 $(FUZZ_O)/merge-$*.log; exit 1; }; \
	echo "fuzz-merge: $*: $$before -> $$(ls tests/fuzz/corpus/$* | wc -l) inputs"

fuzz-merge: $(addprefix fuzz-merge-,$(FUZZ))
