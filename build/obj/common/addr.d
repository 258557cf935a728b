build/obj/common/addr.o: common/addr.c common/addr.h common/compat.h
common/addr.h:
common/compat.h:
