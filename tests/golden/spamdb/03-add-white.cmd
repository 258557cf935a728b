# new addresses: first = pass = now, 36 days, bcount 1
-f @DB@ -a 192.0.2.11 2001:DB8::11 ::ffff:192.0.2.12
rel -f @DB@ 192.0.2.11 2001:db8::11 192.0.2.12
# an existing WHITE record: pcount + 1, pass = now, expiry renewed
-f @DB@ -a 192.0.2.10
rel -f @DB@ 192.0.2.10
# -a on a TRAPPED address whitelists it (as OpenBSD)
-f @DB@ -a 198.51.100.66
rel -f @DB@ 198.51.100.66
# a GREY tuple of the address is left alone
-f @DB@ -a 192.0.2.20
rel -f @DB@
# invalid addresses fail one by one; the valid ones are still added
-f @DB@ -a 192.0.2.300 192.0.2.13 mail.example.com 10 $'192.0.2.1\n'
rel -f @DB@ 192.0.2.13
# empty keys are ignored
-f @DB@ -a '' 192.0.2.14 ''
