build/obj/tests/unit/t_gdata.o: tests/unit/t_gdata.c common/gdata.h \
 common/addr.h tests/unit/harness.h
common/gdata.h:
common/addr.h:
tests/unit/harness.h:
