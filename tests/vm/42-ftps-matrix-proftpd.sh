#!/usr/bin/env bash
# The FTPS matrix of 41-ftps-matrix.sh with ProFTPD mod_tls: explicit TLS with
# and without MasqueradeAddress, and TLSRequired auth+data (CCC allowed, no
# MasqueradeAddress: after CCC the 227 is rewritten in cleartext) for
# curl --ftp-ssl-ccc, lftp ftp:ssl-use-ccc and ftplib FTP_TLS.ccc(): after CCC
# the 227/229 is cleartext and handled as plain FTP (expectation, rewrite).
# ftpx-case-timeout: 540
exec "$(dirname "$0")/41-ftps-matrix.sh" proftpd
