#!/bin/bash
# e2e_postfix4.sh: the real thing over IPv4: a real Postfix sender,
# nft/spamd.nft, spamd and a real MTA in two namespaces. Deferred with
# spamd's 451 first, whitelisted on the retry after passtime, delivered
# by the real MTA next (see pl_e2e_postfix in tests/pipeline.sh).
# timeout: 120
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_e2e_postfix 4
pass "a real message greylisted and delivered over IPv4"
