build/obj/tests/unit/t_addr.o: tests/unit/t_addr.c common/addr.h \
 tests/unit/harness.h
common/addr.h:
tests/unit/harness.h:
