# keys print in the order given; the exit status counts the missing ones
-f @DB@ 192.0.2.10
-f @DB@ 198.51.100.66 trap@example.net 192.0.2.10
-f @DB@ 192.0.2.99 198.51.100.66 nobody@example.net
# addresses are normalised, e-mail addresses lower-cased
-f @DB@ 2001:DB8:0:0::10 ::ffff:192.0.2.10 TRAP@Example.NET
# a tuple key, typed with newlines; and a legacy one
-f @DB@ $'192.0.2.1\nmx.example.org\n<alice@example.org>\n<bob@example.net>'
-f @DB@ $'192.0.2.2\n<legacy@example.org>\n<erin@example.net>'
# an empty key is never found
-f @DB@ ''
# the count of missing keys saturates at 255
-f @DB@ 203.0.113.{0..255} 198.51.100.{0..9}
