# every line keeps exactly its fields: '|' is \174, '\' is \134, and
# control bytes (0x00-0x1f, 0x7f, 0x80-0x9f) are \ooo
sort -f @DB@
# keys are given as spamdb prints them: a \ooo escape is decoded
-f @DB@ $'192.0.2.20\na\\174b\n<c\\174d@example.com>\n<e\\134f@example.net>'
-f @DB@ $'192.0.2.21\nx\\134015y\n<\\2332Jfoo@example.com>\n<\\205@example.net>'
-f @DB@ 'x\174y@example.net'
-f @DB@ -T -d 'back\134slash@example.net'
-f @DB@ -d $'192.0.2.20\na\\174b\n<c\\174d@example.com>\n<e\\134f@example.net>'
-f @DB@ -T -a 'new\174trap@example.net'
# a backslash that starts no escape is taken as is (and printed escaped)
-f @DB@ -T -a 'odd\q@example.net'
sort -f @DB@
# a listing fed back to dbseed gives the same records (the escaping is
# reversible)
! "$SPAMDB" -f @DB@ >@T@/list && "$DBSEED" @T@/db2 <@T@/list
sort -f @T@/db2
