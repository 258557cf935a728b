# a missing database is not created by reading
-f @T@/missing.db
! test ! -e @T@/missing.db.lock
-f @T@/no/such/dir/spamd.db
-f @T@/no/such/dir/spamd.db -a 192.0.2.1
# not a GDBM file
! printf 'this is not a database\n' > @T@/junk.db
-f @T@/junk.db
-f @T@/junk.db -a 192.0.2.1
# -a creates a missing database (OpenBSD: cannot open)
-f @T@/new.db -a 192.0.2.1
sort -f @T@/new.db 2001:db8::1
