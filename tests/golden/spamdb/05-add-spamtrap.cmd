# stored lower-cased, listed as SPAMTRAP|address
-f @DB@ -T -a Trap@Example.NET honeypot@example.org
sort -f @DB@
# adding it again changes nothing visible
-f @DB@ -T -a trap@example.net
sort -f @DB@
# one key that is not an e-mail address stops everything: exit 255,
# nothing is added
-f @DB@ -T -a new@example.org not-an-address
-f @DB@ -T -a $'two\nlines@example.org'
-f @DB@ -T -a $'bell\a@example.org'
sort -f @DB@
