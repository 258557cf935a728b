# -G, -T and -t need -a or -d
-f @DB@ -G
-f @DB@ -T 192.0.2.1
-f @DB@ -t
-f @DB@ -x
-f
-f ''
# OpenBSD's getopt stops at the first key
-f @DB@ 192.0.2.1 -a
-G -a 192.0.2.1
-f @DB@ -a
-f @DB@ -d '' ''
-f @DB@ -T -a
-G -d
# the lock wait comes from the environment
SPAMDB_LOCKWAIT=forever -f @DB@
SPAMDB_LOCKWAIT=2h -f @DB@
