# tests/nftlib/module.mk: libnfttest.a, libnft's test backends (see
# tests/nftlib/nftlib.h): the record backend and the event watch. The
# GNUmakefile links it into the unit tests and test tools only, so the
# programs never contain them.
NFTTEST_SRCS := $(sort $(wildcard tests/nftlib/*.c))
