#!/bin/bash
# spf_e2e6.sh: a sender in an SPF-walked range is delivered at its first
# attempt over IPv6 (see tests/netns/_spf_e2e.sh).
# timeout: 90
. tests/netns/_spf_e2e.sh 6
