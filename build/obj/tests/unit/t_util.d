build/obj/tests/unit/t_util.o: tests/unit/t_util.c common/compat.h \
 common/util.h tests/unit/harness.h
common/compat.h:
common/util.h:
tests/unit/harness.h:
