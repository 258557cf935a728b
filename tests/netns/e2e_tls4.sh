#!/bin/bash
# e2e_tls4.sh: a sender that requires TLS (Postfix, smtp_tls_security_level
# = encrypt) over IPv4: spamd offers STARTTLS (-C/-K), greylists it inside
# TLS, whitelists it on the retry, and the real MX (Postfix with TLS)
# receives the message (see pl_e2e_tls in tests/pipeline.sh).
# timeout: 150
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_e2e_tls 4
pass "a sender that requires TLS greylisted and delivered over IPv4"
