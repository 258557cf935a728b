build/obj/common/clock.o: common/clock.c common/clock.h common/log.h \
 common/compat.h
common/clock.h:
common/log.h:
common/compat.h:
