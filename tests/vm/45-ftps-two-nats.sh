#!/usr/bin/env bash
# The FTPS matrix of 41-ftps-matrix.sh in placement d, both sides behind NAT
# (the seed article's "??"): client 10.0.1.2 behind r1's masquerade, server
# 192.168.1.2 behind r2's DNAT, nf_ftpx on both routers, each with the
# server's passive range for the server's address as it sees it (r1:
# 203.0.113.2, r2: 192.168.1.2). vsftpd explicit TLS with pasv_address and
# implicit TLS without; curl, ftplib and lftp; checks on both routers.
# ftpx-case-timeout: 480
exec "$(dirname "$0")/41-ftps-matrix.sh" vsftpd-d
