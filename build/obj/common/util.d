build/obj/common/util.o: common/util.c common/compat.h common/log.h \
 common/util.h
common/compat.h:
common/log.h:
common/util.h:
