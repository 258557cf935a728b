# etc/module.mk: make install, make uninstall and make demo.
#
#   make install   [DESTDIR=...] [PREFIX=/usr/local]: programs into SBINDIR,
#                  man pages into MANDIR/man5 and man8, systemd units into
#                  UNITDIR, the nft rulesets, nospamd.nft,
#                  spamd.conf.example and the list it loads (black.txt),
#                  bigmailers.example (domains for an :spfwalk: list)
#                  into SYSCONFDIR/spamd, the settings file read by every
#                  unit into SYSCONFDIR/default/spamd, the cron file
#                  into SYSCONFDIR/cron.d.
#                  Edited configuration files are never overwritten (the new
#                  version lands beside them as FILE.new). As root without
#                  DESTDIR it also creates the _spamd user and STATEDIR.
#   make uninstall removes what install recorded in its manifest; keeps the
#                  database, the user, edited configuration files and the
#                  nft rulesets nftables.conf may include (untouched ones
#                  become stubs that redirect nothing).
#   make demo [TLS=1]	installs missing packages (make deps), builds, and runs
#                  tests/demo.sh: a real message greylisted, whitelisted and
#                  delivered between two private network namespaces.
# The work is in etc/install.sh and tests/demo.sh; see their headers.
# STATEDIR and SYSCONFDIR are compiled into the programs: give make the same
# values when building and installing (install refuses a mismatch).

# systemd looks in /usr/local/lib/systemd/system as well as in Debian's
# /lib/systemd/system; a package (PREFIX=/usr) uses the latter. For any
# other PREFIX, pass UNITDIR=/etc/systemd/system.
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
CRONDIR ?= $(SYSCONFDIR)/cron.d

INSTALL_ENV = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SBINDIR='$(SBINDIR)' \
	MANDIR='$(MANDIR)' SYSCONFDIR='$(SYSCONFDIR)' STATEDIR='$(STATEDIR)' \
	UNITDIR='$(UNITDIR)' CRONDIR='$(CRONDIR)' BINDIR='$(O)/bin' \
	PROGS='$(sort $(PROGS))' \
	MANPAGES='$(sort $(wildcard man/*.5 man/*.8))' \
	UNITS='$(sort $(wildcard etc/*.service etc/*.timer))' \
	CONFFILES='$(foreach f,nft/spamd.nft nft/spamd-blacklist-only.nft etc/nospamd.nft etc/spamd.conf.example etc/black.txt etc/bigmailers.example,$(f):$(SYSCONFDIR)/spamd) etc/default/spamd:$(SYSCONFDIR)/default' \
	CRONFILE='etc/spamd-nftsync.cron'

install: all
	@$(INSTALL_ENV) sh etc/install.sh install

uninstall:
	@$(INSTALL_ENV) sh etc/install.sh uninstall

demo: deps
	@$(MAKE) --no-print-directory all
	@O='$(abspath $(O))' DEMO_TLS='$(TLS)' bash tests/demo.sh
