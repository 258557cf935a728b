build/obj/tests/unit/harness.o: tests/unit/harness.c common/log.h \
 common/compat.h tests/unit/harness.h
common/log.h:
common/compat.h:
tests/unit/harness.h:
