build/obj/common/greydb.o: common/greydb.c common/clock.h common/compat.h \
 common/greydb.h common/gdata.h common/addr.h common/log.h
common/clock.h:
common/compat.h:
common/greydb.h:
common/gdata.h:
common/addr.h:
common/log.h:
