# shellcheck shell=bash disable=SC2034
# (SC2034: variables set here are the API read by the test cases)
# FTP servers (in $NS_S) and clients (in $NS_C) for the nf_ftpx tests.
#
# Servers: vsftpd (installed), proftpd and pure-ftpd (unpacked by
# scripts/deps.sh under .cache/servers). Each runs as root in the server
# namespace with a generated config under the per-test temp dir, serving
# $FTP_ROOT (1k.bin, 64k.bin, 1m.bin of random data, and upload/).
# Clients: curl, lftp, Python ftplib (tools/ftpc.py). Every client call is
# bounded in time and honours the address in a 227 reply (unless told
# --pasv-addr ignore), so a missing NAT rewrite makes the transfer fail
# instead of being papered over.

[ -n "${_FTPX_FTP_SH:-}" ] && return 0
_FTPX_FTP_SH=1

. "$(dirname "${BASH_SOURCE[0]}")/net.sh"
. "$(dirname "${BASH_SOURCE[0]}")/dump.sh"

: "${FTPX_SERVERS:=$FTPX_TOP/.cache/servers}"
: "${FTPX_CERT_DIR:=${TMPDIR:-/tmp}/ftpx-cert}"
# seconds a client may take for one transfer before it counts as failed
: "${FTPX_XFER_TIMEOUT:=15}"
# how long a server may take to listen (TCG guests are slow), for the
# default case limit; scaled like the case limits (FTPX_CASE_TIMEOUT / 300 s:
# e.g. six times on the debug kernel, where proftpd and pure-ftpd took over
# 30 s to listen)
: "${FTPX_START_TIMEOUT_MS:=10000}"

SERVER_PIDS=()
SERVER_TYPE='' SERVER_PORT='' SERVER_TLS='' SERVER_PID='' SERVER_LOG='' SERVER_DIR=''
FTP_ROOT='' FTP_USER='' FTP_PASS=''
XFER_N=0

# ---------------------------------------------------------------- files

# ftp_root_setup: the served tree, once per test
ftp_root_setup() {
	[ -n "$FTP_ROOT" ] && return 0
	FTP_ROOT=$(ftpx_tmpdir)/root
	mkdir -p "$FTP_ROOT/upload"
	head -c 1024 /dev/urandom >"$FTP_ROOT/1k.bin"
	head -c 65536 /dev/urandom >"$FTP_ROOT/64k.bin"
	head -c 1048576 /dev/urandom >"$FTP_ROOT/1m.bin"
	# vsftpd refuses a chroot root writable by the session user; only
	# upload/ belongs to it
	chmod 755 "$FTP_ROOT"
	chown ftp:ftp "$FTP_ROOT/upload" 2>/dev/null || chmod 1777 "$FTP_ROOT/upload"
	chmod 755 "$FTP_ROOT/upload"
}

# ftpx_rng_ready: make sure getrandom() does not block. The qemu guest has
# no entropy source (no virtio-rng, no RDRAND on TCG's default CPU): until
# the kernel's jitter collector initialises the CRNG, 25-80 s after boot,
# every TLS program (openssl, vsftpd, curl, ...) waits in getrandom(), and
# so does any read of /dev/urandom (it runs the jitter collector) and the
# start of Python (its hash seed). A throwaway test guest may credit its
# pool itself: RNDADDENTROPY with bytes that need no RNG (clock, interrupt
# counts), from a Python with a fixed hash seed. Needs root; a ready CRNG
# is left alone.
ftpx_rng_ready() {
	PYTHONHASHSEED=0 "$FTPX_PYTHON" - <<'EOF' 2>/dev/null
import fcntl, os, struct, time
try:
    os.getrandom(1, os.GRND_NONBLOCK)
except BlockingIOError:
    with open("/proc/interrupts", "rb") as f:
        data = f.read()[-480:] + b"%d" % time.time_ns()
    with open("/dev/random", "wb") as r:
        fcntl.ioctl(r, 0x40085203,  # RNDADDENTROPY
                    struct.pack("ii", 256, len(data)) + data)
EOF
	return 0
}

# ftpx_cert: self-signed EC certificate, generated once per run and shared
# by the cases of the run (FTPX_CERT_DIR). Sets FTPX_CERT and FTPX_KEY.
ftpx_cert() {
	FTPX_CERT=$FTPX_CERT_DIR/cert.pem
	FTPX_KEY=$FTPX_CERT_DIR/key.pem
	ftpx_rng_ready
	[ -s "$FTPX_CERT" ] && [ -s "$FTPX_KEY" ] && return 0
	local t
	t=$(mktemp -d "$FTPX_CERT_DIR.XXXXXX") || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 30 -subj "/CN=ftpx-test" \
		-keyout "$t/key.pem" -out "$t/cert.pem" 2>"$t/openssl.log" || {
		cat "$t/openssl.log" >&2
		rm -rf "$t"
		return 1
	}
	chmod 600 "$t/key.pem"
	# a parallel case may have won the race: keep whichever landed first
	mv -T "$t" "$FTPX_CERT_DIR" 2>/dev/null || rm -rf "$t"
	[ -s "$FTPX_CERT" ]
}

# ---------------------------------------------------------------- servers

# _listening NS PORT [PID]: a TCP listener on PORT (owned by PID if given)
_listening() {
	local l
	l=$(ip netns exec "$1" ss -Hltnp "sport = :$2") || return 1
	[ -n "$l" ] || return 1
	[ -z "${3:-}" ] || [[ $l == *"pid=$3,"* ]]
}

_server_bin() {
	case $1 in
	vsftpd) echo /usr/sbin/vsftpd ;;
	proftpd) echo "$FTPX_SERVERS/usr/sbin/proftpd" ;;
	pureftpd | pure-ftpd) echo "$FTPX_SERVERS/usr/sbin/pure-ftpd" ;;
	esac
}

# server_available TYPE: the binary is there and runs (for skip probes)
server_available() {
	local b
	b=$(_server_bin "$1")
	[ -n "$b" ] && [ -x "$b" ] || return 1
	case $1 in
	vsftpd) getent passwd ftp >/dev/null ;;
	proftpd) "$b" -v >/dev/null 2>&1 && [ -e "$FTPX_SERVERS/usr/lib/proftpd/mod_tls.so" ] ;;
	*) "$b" --help >/dev/null 2>&1 || [ $? -le 1 ] ;;
	esac
}

# server_start TYPE [options]
#   TYPE          vsftpd | proftpd | pureftpd
#   --family F    4 | 6 | dual (default dual: one server, both families)
#   --tls M       none | explicit | implicit (default none). explicit makes
#                 TLS required for login and data; implicit listens on 990
#   --port N      control port (default 21, implicit 990)
#   --pasv A-B    passive port range
#   --masq ADDR   address to announce in 227 (pasv_address,
#                 MasqueradeAddress, pure-ftpd -P)
#   --reuse yes|no  require TLS session reuse on data connections
#                 (default yes: vsftpd's and proftpd's own default)
#   --ccc         allow CCC (proftpd: TLSRequired auth+data instead of on;
#                 pure-ftpd answers CCC anyway; vsftpd has no CCC: 77)
#   --conf LINE   extra config line (vsftpd/proftpd) or argument (pure-ftpd);
#                 repeatable
# Sets SERVER_TYPE SERVER_PORT SERVER_TLS SERVER_PID SERVER_LOG SERVER_DIR
# FTP_ROOT FTP_USER FTP_PASS. Returns 0 once the port listens, 77 if the
# server or the combination is unsupported, 1 on failure.
server_start() {
	local type=${1:?usage: server_start vsftpd|proftpd|pureftpd [options]}
	shift
	local fam=dual tls=none port='' pasv='' masq='' reuse=yes ccc=no
	local -a extra=()
	while [ $# -gt 0 ]; do
		case $1 in
		--family) fam=$2; shift 2 ;;
		--tls) tls=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--pasv) pasv=$2; shift 2 ;;
		--masq) masq=$2; shift 2 ;;
		--reuse) reuse=$2; shift 2 ;;
		--ccc) ccc=yes; shift ;;
		--conf) extra+=("$2"); shift 2 ;;
		*) ftpx_die "server_start: unknown option $1" ;;
		esac
	done
	[ "$type" = pure-ftpd ] && type=pureftpd
	case $fam in 4 | 6 | dual) ;; *) ftpx_die "server_start: --family 4|6|dual" ;; esac
	case $tls in none | explicit | implicit) ;; *) ftpx_die "server_start: --tls none|explicit|implicit" ;; esac
	[ -z "$port" ] && { [ "$tls" = implicit ] && port=990 || port=21; }
	if ! server_available "$type"; then
		echo "server $type not available" >&2
		return 77
	fi
	ftp_root_setup
	if [ "$tls" != none ]; then
		ftpx_cert || return 1
	fi
	local dir
	dir=$(ftpx_tmpdir)/srv-$type-$port
	mkdir -p "$dir"
	SERVER_TYPE=$type SERVER_PORT=$port SERVER_TLS=$tls SERVER_DIR=$dir
	SERVER_CCC=$ccc
	if _listening "$NS_S" "$port"; then
		echo "server_start: port $port already taken in [s]:" >&2
		ip netns exec "$NS_S" ss -Hltnp "sport = :$port" >&2
		return 1
	fi
	local rc=0
	"_start_$type" "$fam" "$tls" "$port" "$pasv" "$masq" "$reuse" "$ccc" "${extra[@]}" || rc=$?
	[ $rc -ne 0 ] && return $rc
	SERVER_PIDS+=("$SERVER_PID")
	if ! busywait $((FTPX_START_TIMEOUT_MS * ${FTPX_CASE_TIMEOUT:-300} / 300)) \
		_listening "$NS_S" "$port" "$SERVER_PID"; then
		echo "server $type (pid $SERVER_PID) did not listen on port $port" >&2
		server_log_tail 30 >&2
		return 1
	fi
	ftpx_log 1 "server $type up in [s] on port $port (family $fam, tls $tls${pasv:+, pasv $pasv}${masq:+, masq $masq})"
	return 0
}

# run "$@" in the server namespace in the background, output to
# SERVER_DIR/out. Not through a shell function: $! must be the process that
# `ip netns exec` turns into the server, or stopping it would miss the server.
_spawn() {
	ftpx_log 1 "+ [s] $*"
	ip netns exec "$NS_S" "$@" >"$SERVER_DIR/out" 2>&1 </dev/null &
	SERVER_PID=$!
}

_start_vsftpd() {
	local fam=$1 tls=$2 port=$3 pasv=$4 masq=$5 reuse=$6 ccc=$7
	shift 7
	local c=$SERVER_DIR/vsftpd.conf
	if [ "$ccc" = yes ]; then
		echo "vsftpd has no CCC" >&2
		return 77
	fi
	mkdir -p "$SERVER_DIR/empty"
	chmod 755 "$SERVER_DIR/empty"
	SERVER_LOG=$SERVER_DIR/vsftpd.log
	FTP_USER=anonymous FTP_PASS=ftpx@example.org
	{
		echo "# generated by tests/lib/ftp.sh"
		if [ "$fam" = 4 ]; then
			echo "listen=YES"
			echo "listen_ipv6=NO"
		else
			# [::] takes v4-mapped connections as well
			echo "listen=NO"
			echo "listen_ipv6=YES"
		fi
		echo "listen_port=$port"
		echo "background=NO"
		echo "anonymous_enable=YES"
		echo "local_enable=NO"
		echo "write_enable=YES"
		echo "anon_upload_enable=YES"
		echo "anon_mkdir_write_enable=YES"
		echo "anon_other_write_enable=YES"
		echo "anon_umask=022"
		echo "anon_root=$FTP_ROOT"
		echo "no_anon_password=YES"
		echo "secure_chroot_dir=$SERVER_DIR/empty"
		echo "seccomp_sandbox=NO"
		echo "port_enable=YES"
		echo "pasv_enable=YES"
		echo "connect_from_port_20=NO"
		echo "idle_session_timeout=60"
		echo "data_connection_timeout=20"
		# a blocked data connection gets a 425 soon instead of after 60 s
		echo "connect_timeout=5"
		echo "accept_timeout=10"
		echo "xferlog_enable=YES"
		echo "xferlog_std_format=NO"
		echo "log_ftp_protocol=YES"
		echo "syslog_enable=NO"
		echo "vsftpd_log_file=$SERVER_LOG"
		if [ -n "$pasv" ]; then
			echo "pasv_min_port=${pasv%-*}"
			echo "pasv_max_port=${pasv#*-}"
		fi
		[ -n "$masq" ] && echo "pasv_address=$masq"
		if [ "$tls" != none ]; then
			echo "ssl_enable=YES"
			echo "rsa_cert_file=$FTPX_CERT"
			echo "rsa_private_key_file=$FTPX_KEY"
			echo "allow_anon_ssl=YES"
			echo "force_anon_logins_ssl=YES"
			echo "force_anon_data_ssl=YES"
			echo "ssl_sslv2=NO"
			echo "ssl_sslv3=NO"
			echo "ssl_tlsv1=YES"
			echo "ssl_ciphers=HIGH"
			echo "debug_ssl=YES"
			[ "$reuse" = yes ] && echo "require_ssl_reuse=YES" || echo "require_ssl_reuse=NO"
			[ "$tls" = implicit ] && echo "implicit_ssl=YES"
		fi
		local l
		for l in "$@"; do echo "$l"; done
	} >"$c"
	: >"$SERVER_LOG"
	_spawn /usr/sbin/vsftpd "$c"
}

_start_proftpd() {
	local fam=$1 tls=$2 port=$3 pasv=$4 masq=$5 reuse=$6 ccc=$7
	shift 7
	local c=$SERVER_DIR/proftpd.conf d=$SERVER_DIR
	SERVER_LOG=$d/proftpd.log
	FTP_USER=anonymous FTP_PASS=ftpx@example.org
	{
		echo "# generated by tests/lib/ftp.sh"
		echo "ServerName \"ftpx\""
		echo "ServerType standalone"
		echo "DefaultServer on"
		echo "Port $port"
		[ "$fam" = 4 ] && echo "UseIPv6 off" || echo "UseIPv6 on"
		[ "$fam" = 6 ] && echo "DefaultAddress ::"
		echo "User nobody"
		echo "Group nogroup"
		echo "MaxInstances 30"
		echo "PidFile $d/proftpd.pid"
		echo "ScoreboardFile $d/proftpd.scoreboard"
		echo "DelayTable $d/proftpd.delay"
		echo "ControlsEngine off"
		echo "WtmpLog off"
		echo "UseReverseDNS off"
		echo "TimeoutIdle 60"
		echo "TimeoutNoTransfer 60"
		echo "SystemLog $SERVER_LOG"
		echo "TransferLog $d/xferlog"
		# one line per command with the reply: the server's side of the
		# dialogue (what PORT it got, what 227 it sent)
		echo "LogFormat ftpx \"%{iso8601} %a \\\"%r\\\" %s \\\"%S\\\"\""
		echo "ExtendedLog $SERVER_LOG ALL ftpx"
		echo "AuthOrder mod_auth_unix.c"
		echo "RequireValidShell off"
		echo "Umask 022"
		echo "AllowOverwrite on"
		echo "<IfModule mod_delay.c>"
		echo "  DelayEngine off"
		echo "</IfModule>"
		[ -n "$pasv" ] && echo "PassivePorts ${pasv%-*} ${pasv#*-}"
		[ -n "$masq" ] && echo "MasqueradeAddress $masq"
		if [ "$tls" != none ]; then
			echo "ModulePath $FTPX_SERVERS/usr/lib/proftpd"
			echo "LoadModule mod_tls.c"
			echo "TLSEngine on"
			echo "TLSLog $d/tls.log"
			echo "TLSProtocol TLSv1.2 TLSv1.3"
			echo "TLSECCertificateFile $FTPX_CERT"
			echo "TLSECCertificateKeyFile $FTPX_KEY"
			echo "TLSVerifyClient off"
			echo "TLSRenegotiate none"
			# auth+data: login and data must be protected but the control
			# channel may be cleared with CCC afterwards ("on" forbids CCC)
			[ "$ccc" = yes ] && echo "TLSRequired auth+data" || echo "TLSRequired on"
			local o="EnableDiags"
			[ "$reuse" = yes ] || o+=" NoSessionReuseRequired"
			[ "$tls" = implicit ] && o+=" UseImplicitSSL"
			echo "TLSOptions $o"
		fi
		echo "<Anonymous $FTP_ROOT>"
		echo "  User ftp"
		echo "  Group ftp"
		echo "  UserAlias anonymous ftp"
		echo "  RequireValidShell off"
		echo "  AnonRequirePassword off"
		echo "</Anonymous>"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$c"
	: >"$SERVER_LOG"
	if ! "$FTPX_SERVERS/usr/sbin/proftpd" -t -c "$c" >"$d/configtest" 2>&1; then
		echo "proftpd rejects $c:" >&2
		cat "$d/configtest" >&2
		return 1
	fi
	_spawn "$FTPX_SERVERS/usr/sbin/proftpd" -n -q -c "$c"
}

# pure-ftpd: a PureDB virtual user (anonymous would serve ~ftp, fixed in
# /etc/passwd). The hash is SHA-512 crypt: pure-pw's default argon2id costs
# seconds per login, far more under TCG. pure-ftpd logs only to syslog:
# it gets a private /dev with a /dev/log socket read by socat into the log
# file, inside the mount namespace `ip netns exec` already made for it.
_start_pureftpd() {
	local fam=$1 tls=$2 port=$3 pasv=$4 masq=$5 reuse=$6 ccc=$7
	shift 7
	local d=$SERVER_DIR hash
	if [ "$tls" = implicit ]; then
		echo "pure-ftpd (Debian build) has no implicit TLS" >&2
		return 77
	fi
	FTP_USER=ftpx FTP_PASS=ftpxpass
	SERVER_LOG=$d/pure-ftpd.log
	hash=$(openssl passwd -6 -salt ftpxsalt "$FTP_PASS") || return 1
	# home with /./: chroot there
	printf '%s:%s:%s:%s::%s/./::::::::::::\n' "$FTP_USER" "$hash" \
		"$(id -u ftp)" "$(id -g ftp)" "$FTP_ROOT" >"$d/pureftpd.passwd"
	"$FTPX_SERVERS/usr/bin/pure-pw" mkdb "$d/pureftpd.pdb" -f "$d/pureftpd.passwd" ||
		return 1
	local -a args=(-S ",$port" -l "puredb:$d/pureftpd.pdb" -E -H -d -A
		-O "clf:$d/xferlog" -g "$d/pure-ftpd.pid" -I 60)
	[ "$fam" = 4 ] && args+=(-4)
	[ "$fam" = 6 ] && args+=(-6)
	[ -n "$pasv" ] && args+=(-p "${pasv%-*}:${pasv#*-}")
	[ -n "$masq" ] && args+=(-P "$masq")
	if [ "$tls" = explicit ]; then
		# 3: TLS required for login and data. pure-ftpd answers CCC at any
		# level (and sends no close_notify: curl needs --ccc-mode active)
		args+=(-Y 3)
		args+=(-2 "$FTPX_CERT,$FTPX_KEY")
	fi
	args+=("$@")
	: >"$SERVER_LOG"
	_spawn sh -c '
		d=$1; shift
		mkdir -p "$d/realdev" "$d/dev"
		mount --rbind /dev "$d/realdev" || exit 1
		# one ln for all entries: a process each took 20-30 s under TCG
		l=
		for f in "$d"/realdev/* "$d"/realdev/.[!.]*; do
			{ [ -e "$f" ] || [ -L "$f" ]; } && l="$l $f"
		done
		ln -s -t "$d/dev" $l || exit 1
		mount --bind "$d/dev" /dev || exit 1
		socat -u UNIX-RECV:/dev/log,mode=666 OPEN:"$d/pure-ftpd.log",append &
		i=0
		while [ ! -S /dev/log ] && [ $i -lt 250 ]; do i=$((i + 1)); sleep 0.02; done # poll for the log socket, bounded
		exec "$@"' sh "$d" "$FTPX_SERVERS/usr/sbin/pure-ftpd" "${args[@]}"
}

# server_stop [PID]: stop the last started server (or PID) and its children
# (session processes, pure-ftpd's syslog reader); waits until its port is free
server_stop() {
	local pid=${1:-$SERVER_PID} p kids
	[ -n "$pid" ] || return 0
	kids=$(pgrep -P "$pid" 2>/dev/null)
	kill "$pid" $kids 2>/dev/null
	_gone() { ! kill -0 "$pid" 2>/dev/null; }
	busywait 3000 _gone || kill -9 "$pid" $kids 2>/dev/null
	wait "$pid" 2>/dev/null
	local -a keep=()
	for p in "${SERVER_PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
	SERVER_PIDS=("${keep[@]}")
	if [ "$pid" = "$SERVER_PID" ] && [ -n "$SERVER_PORT" ]; then
		_port_free() { ! _listening "$NS_S" "$SERVER_PORT"; }
		busywait 3000 _port_free || {
			echo "server_stop: port $SERVER_PORT still taken" >&2
			return 1
		}
	fi
	return 0
}

server_stop_all() {
	local p
	for p in "${SERVER_PIDS[@]}"; do server_stop "$p"; done
	SERVER_PIDS=()
}

# server_log_tail [N]: last N lines of the current server's log (and its
# stdout/stderr); pure-ftpd's syslog records are split one per line
server_log_tail() {
	local n=${1:-20}
	[ -n "$SERVER_LOG" ] || return 0
	echo "--- $SERVER_TYPE log ($SERVER_LOG)"
	if [ "$SERVER_TYPE" = pureftpd ]; then
		sed 's/<[0-9]\{1,3\}>/\n/g' "$SERVER_LOG" 2>/dev/null | sed '/^$/d' | tail -n "$n"
	else
		tail -n "$n" "$SERVER_LOG" 2>/dev/null
	fi
	[ -s "$SERVER_DIR/out" ] && { echo "--- $SERVER_TYPE stdout/stderr"; tail -n "$n" "$SERVER_DIR/out"; }
	[ -s "$SERVER_DIR/tls.log" ] && { echo "--- proftpd tls.log"; tail -n "$n" "$SERVER_DIR/tls.log"; }
	return 0
}

# server_got: the last PORT/EPRT the server received, as "PORT|EPRT ADDR PORT"
# (after any NAT rewrite on the way). Empty if none or not logged.
server_got() {
	server_log_tail 100000 | _ftp_parse_cmds
}

# server_sent: the last 227/229 the server sent (before any NAT rewrite),
# as "227 ADDR PORT" / "229 - PORT". vsftpd and proftpd log replies.
server_sent() {
	server_log_tail 100000 | _ftp_parse_replies
}

# ---------------------------------------------------------------- parsing

_ftp_h2port() { echo $(($1 * 256 + $2)); }

# stdin: any log with PORT/EPRT commands; prints the last as "CMD ADDR PORT".
# Reads "> PORT h,h,h,h,p,p" (clients), "PORT h,..." in quotes (vsftpd,
# proftpd) and "[port] [h,...]" (pure-ftpd).
_ftp_parse_cmds() {
	local line out=''
	local re_port='[Pp][Oo][Rr][Tt][] "[]+([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+)'
	local re_eprt='[Ee][Pp][Rr][Tt][] "[]+\|[12]\|([^|]+)\|([0-9]+)\|'
	while IFS='' read -r line; do
		if [[ $line =~ $re_port ]]; then
			local m=("${BASH_REMATCH[@]}")
			out="PORT ${m[1]}.${m[2]}.${m[3]}.${m[4]} $(_ftp_h2port "${m[5]}" "${m[6]}")"
		elif [[ $line =~ $re_eprt ]]; then
			out="EPRT ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
		fi
	done
	echo "$out"
}

# stdin: any log with 227/229 replies; prints the last as "227 ADDR PORT"
# or "229 - PORT"
_ftp_parse_replies() {
	local line out=''
	local re227='(^|[^0-9])227[ "-].*[( ]([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+)'
	local re229='(^|[^0-9])229[ "-].*\(\|\|\|([0-9]+)\|\)'
	while IFS='' read -r line; do
		if [[ $line =~ $re227 ]]; then
			local m=("${BASH_REMATCH[@]}")
			out="227 ${m[2]}.${m[3]}.${m[4]}.${m[5]} $(_ftp_h2port "${m[6]}" "${m[7]}")"
		elif [[ $line =~ $re229 ]]; then
			out="229 - ${BASH_REMATCH[2]}"
		fi
	done
	echo "$out"
}

# client logs: replies come as "< 227 ..." (curl, ftpc.py) or "<--- 227"
# (lftp), commands as "> PORT" / "---> PORT"
_xfer_parse() {
	local log=$1 got
	case ${XFER_MODE} in
	port | eprt) got=$(grep -E '^(>|--->) (PORT|EPRT) ' "$log" | _ftp_parse_cmds) ;;
	*) got=$(grep -E '^(<|<---) 22[79]' "$log" | _ftp_parse_replies) ;;
	esac
	echo "$got"
}

# ---------------------------------------------------------------- clients

# ftp_xfer TOOL OP [options]
#   TOOL          curl | lftp | ftplib
#   OP            get (RETR FILE into the client dir) | put (STOR FILE as
#                 upload/FILE.TOOL.N)
#   -4 | -6       family (default 4)
#   --mode M      pasv | epsv | port | eprt (default pasv on v4, epsv on v6)
#   --tls M       none | explicit | implicit (default: the server's)
#   --ccc         clear the control channel after login (CCC)
#   --file NAME   file under FTP_ROOT (default 1k.bin)
#   --host ADDR   server address (default S_PUB4/S_PUB6)
#   --port N      (default SERVER_PORT)
#   --timeout S   (default FTPX_XFER_TIMEOUT)
#   --ccc-mode M  curl only: active (default here) | passive
#   --pasv-addr A honour (default) | ignore the address of a 227 reply and
#                 connect to the control connection's peer instead, as the
#                 clients do by default (curl, lftp fix-pasv-address, ftplib
#                 >= 3.10); for FTPS, where a 227 cannot be rewritten
# Sets XFER_RC XFER_LOG XFER_SRC XFER_DST XFER_GOT XFER_RELATED XFER_DESC.
# Returns 0 if the client reported a complete transfer and the destination
# exists, 77 if TOOL cannot do this combination, 1 otherwise.
ftp_xfer() {
	local tool=${1:?usage: ftp_xfer curl|lftp|ftplib get|put [options]} op=${2:?get|put}
	shift 2
	local fam=4 mode='' tls=${SERVER_TLS:-none} ccc=no file=1k.bin host='' port=${SERVER_PORT:-}
	local tmo=$FTPX_XFER_TIMEOUT cccmode='' pasvaddr=honour
	while [ $# -gt 0 ]; do
		case $1 in
		-4 | -6) fam=${1#-}; shift ;;
		--mode) mode=$2; shift 2 ;;
		--tls) tls=$2; shift 2 ;;
		--ccc) ccc=yes; shift ;;
		--ccc-mode) cccmode=$2; shift 2 ;;
		--pasv-addr) pasvaddr=$2; shift 2 ;;
		--file) file=$2; shift 2 ;;
		--host) host=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--timeout) tmo=$2; shift 2 ;;
		*) ftpx_die "ftp_xfer: unknown option $1" ;;
		esac
	done
	[ "$tool" = py ] && tool=ftplib
	[ -z "$mode" ] && { [ "$fam" = 6 ] && mode=epsv || mode=pasv; }
	[ -z "$host" ] && host=$(s_pub "$fam")
	[ -z "$port" ] && { [ "$tls" = implicit ] && port=990 || port=21; }
	ftp_root_setup
	XFER_N=$((XFER_N + 1))
	XFER_TOOL=$tool XFER_OP=$op XFER_MODE=$mode XFER_FAM=$fam XFER_TLS=$tls
	XFER_DESC="$tool $op -$fam $mode tls=$tls$([ "$ccc" = yes ] && echo +ccc) $file"
	XFER_GOT='' XFER_RELATED='' XFER_RC='' XFER_RC_CLIENT=''
	local cdir
	cdir=$(ftpx_tmpdir)/client
	mkdir -p "$cdir"
	XFER_LOG=$cdir/$XFER_N-$tool-$op.log
	local rname
	if [ "$op" = get ]; then
		XFER_SRC=$FTP_ROOT/$file
		XFER_DST=$cdir/$XFER_N-$tool-$file
		rname=$file
	else
		XFER_SRC=$FTP_ROOT/$file
		rname=upload/$file.$tool.$XFER_N
		XFER_DST=$FTP_ROOT/$rname
	fi
	rm -f "$XFER_DST"
	if [ "$fam" = 6 ] && { [ "$mode" = pasv ] || [ "$mode" = port ]; }; then
		echo "$mode cannot carry an IPv6 address" >&2
		XFER_RC=77
		return 77
	fi
	local -a cmd
	"_cmd_$tool" || {
		XFER_RC=$?
		return $XFER_RC
	}
	local before
	before=$(related_counts)
	ftpx_log 1 "+ [c] ${cmd[*]}"
	# the client's own timeouts come first; this one catches a wedged client
	ip netns exec "$NS_C" timeout -k 2 $((tmo + 10)) "${cmd[@]}" >"$XFER_LOG" 2>&1 </dev/null
	XFER_RC=$?
	XFER_RELATED=$(related_delta "$before" "$(related_counts)")
	XFER_GOT=$(_xfer_parse "$XFER_LOG")
	if [ "$XFER_RC" -eq 0 ] && [ ! -e "$XFER_DST" ]; then
		echo "client reported success but $XFER_DST is missing" >>"$XFER_LOG"
		XFER_RC=1
	fi
	[ "$XFER_RC" -eq 0 ] && return 0
	XFER_RC_CLIENT=$XFER_RC
	XFER_RC=1
	return 1
}

# curl 7.87.0-7.88.x never starts TLS on an accepted (active mode) data
# connection: curl/curl#10666, fixed in 8.0.0. Debian bookworm has 7.88.1.
_curl_active_tls_broken() {
	local v
	v=$(curl --version | awk 'NR == 1 {print $2}')
	case $v in 7.87.* | 7.88.*) return 0 ;; esac
	return 1
}

_cmd_curl() {
	local h url scheme=ftp
	if [ "$tls" != none ] && { [ "$mode" = port ] || [ "$mode" = eprt ]; } &&
		_curl_active_tls_broken; then
		echo "curl $(curl --version | awk 'NR == 1 {print $2}'): active FTPS broken (curl#10666)" >&2
		return 77
	fi
	h=$(url_host "$host")
	[ "$tls" = implicit ] && scheme=ftps
	url="$scheme://$h:$port/$rname"
	# curl counts the login (the TLS handshake included) as connecting:
	# a busy TCG guest needs more than a few seconds for it
	cmd=(curl -sS -v -g --max-time "$tmo" --connect-timeout "$((tmo < 12 ? tmo : 12))" --user "$FTP_USER:$FTP_PASS")
	case $tls in
	explicit) cmd+=(--ssl-reqd -k) ;;
	implicit) cmd+=(-k) ;;
	esac
	if [ "$ccc" = yes ]; then
		# active: curl sends close_notify first. The default (passive)
		# waits for the server's, which pure-ftpd never sends
		cmd+=(--ftp-ssl-ccc --ftp-ssl-ccc-mode "${cccmode:-active}")
	fi
	local skip=--no-ftp-skip-pasv-ip
	# honour the 227 address: curl ignores it by default since 7.74
	[ "$pasvaddr" = ignore ] && skip=--ftp-skip-pasv-ip
	case $mode in
	pasv) cmd+=(--ftp-pasv --disable-epsv "$skip") ;;
	epsv) cmd+=(--ftp-pasv "$skip") ;;
	port) cmd+=(--ftp-port "$(c_addr "$fam")" --disable-eprt) ;;
	eprt) cmd+=(--ftp-port "$(c_addr "$fam")") ;;
	esac
	if [ "$op" = get ]; then
		cmd+=("$url" -o "$XFER_DST")
	else
		cmd+=(-T "$XFER_SRC" "$url")
	fi
}

_cmd_lftp() {
	local h s
	h=$(url_host "$host")
	if [ "$mode" = eprt ] && [ "$fam" = 4 ]; then
		echo "lftp sends EPRT only on IPv6" >&2
		return 77
	fi
	s="set cmd:fail-exit yes; set cmd:interactive no; set xfer:clobber on;"
	s+=" set net:timeout 8; set net:max-retries 1; set net:persist-retries 0;"
	s+=" set net:reconnect-interval-base 1; set dns:fatal-timeout 5;"
	# honour the 227 address (fix-pasv-address would repair a private one)
	if [ "$pasvaddr" = ignore ]; then
		s+=" set ftp:fix-pasv-address yes; set ftp:ignore-pasv-address no;"
	else
		s+=" set ftp:fix-pasv-address no; set ftp:ignore-pasv-address no;"
	fi
	case $mode in
	pasv) s+=" set ftp:passive-mode on; set ftp:prefer-epsv no;" ;;
	epsv) s+=" set ftp:passive-mode on; set ftp:prefer-epsv yes;" ;;
	port | eprt) s+=" set ftp:passive-mode off;" ;;
	esac
	case $tls in
	none) s+=" set ftp:ssl-allow no;" ;;
	*) s+=" set ftp:ssl-allow yes; set ftp:ssl-force yes; set ftp:ssl-protect-data yes;"
		s+=" set ftp:ssl-protect-list yes; set ssl:verify-certificate no;" ;;
	esac
	# lftp (GnuTLS) sometimes takes proftpd's close_notify after "200 CCC"
	# for EOF ("Peer closed connection", cf. proftpd#876): let it reconnect
	[ "$ccc" = yes ] && s+=" set ftp:ssl-use-ccc yes; set net:max-retries 3;"
	local scheme=ftp
	[ "$tls" = implicit ] && scheme=ftps
	s+=" open -u '$FTP_USER,$FTP_PASS' $scheme://$h:$port;"
	if [ "$op" = get ]; then
		s+=" get '$rname' -o '$XFER_DST';"
	else
		s+=" put '$XFER_SRC' -o '$rname';"
	fi
	s+=" bye"
	# HOME: no ~/.lftp state from the host user
	cmd=(env HOME="$cdir" lftp -d -c "$s")
}

_cmd_ftplib() {
	cmd=("$FTPX_PYTHON" "$FTPX_LIBDIR/tools/ftpc.py" --host "$host" --port "$port"
		--user "$FTP_USER" --password "$FTP_PASS" --mode "$mode" --tls "$tls"
		--timeout "$((tmo < 10 ? tmo : 10))")
	[ "$ccc" = yes ] && cmd+=(--ccc)
	[ "$pasvaddr" = ignore ] && cmd+=(--ignore-pasv-address)
	if [ "$op" = get ]; then
		cmd+=(get "$rname" "$XFER_DST")
	else
		cmd+=(put "$XFER_SRC" "$rname")
	fi
}

# "the address the client received": for pasv/epsv the last 227/229 reply
# the client saw ("227 ADDR PORT", "229 - PORT"); for port/eprt the command
# it sent ("PORT ADDR PORT"); compare with server_got for the far side
client_got() { echo "$XFER_GOT"; }
client_got_addr() { set -- $XFER_GOT; echo "${2:-}"; }
client_got_port() { set -- $XFER_GOT; echo "${3:-}"; }

xfer_sha_ok() {
	[ -e "$XFER_SRC" ] && [ -e "$XFER_DST" ] || return 1
	[ "$(sha256sum <"$XFER_SRC")" = "$(sha256sum <"$XFER_DST")" ]
}

# related_ok: the data connection passed the "ct state related ct helper"
# rule on every router (each counter moved during the last transfer)
related_ok() {
	local kv
	[ -n "$XFER_RELATED" ] || return 1
	for kv in $XFER_RELATED; do
		[ "${kv#*:+}" -gt 0 ] || return 1
	done
}

client_log_tail() {
	local n=${1:-40}
	[ -n "${XFER_LOG:-}" ] && [ -e "$XFER_LOG" ] || return 0
	echo "--- client log ($XFER_DESC, rc ${XFER_RC_CLIENT:-$XFER_RC})"
	grep -v -E '^(\* (TLSv|ALPN|Cipher|SSL|  )|\} \[|\{ \[)' "$XFER_LOG" | tail -n "$n"
}

# check_xfer [--got ADDR] [--server-got ADDR] [--no-related]: the standard
# assertions after ftp_xfer: completed, same sha256, the data connection
# went through the helper's related rule, and the addresses seen
check_xfer() {
	local want_got='' want_srv='' rel=yes
	while [ $# -gt 0 ]; do
		case $1 in
		--got) want_got=$2; shift 2 ;;
		--server-got) want_srv=$2; shift 2 ;;
		--no-related) rel=no; shift ;;
		*) ftpx_die "check_xfer: unknown option $1" ;;
		esac
	done
	if [ "$XFER_RC" != 0 ]; then
		check "$XFER_DESC: transfer" false
		client_log_tail 25
		return 1
	fi
	check "$XFER_DESC: sha256" xfer_sha_ok
	[ "$rel" = yes ] && [ -n "$FTPX_RULES" ] &&
		check "$XFER_DESC: data via related rule ($XFER_RELATED)" related_ok
	[ -n "$want_got" ] &&
		check_eq "$XFER_DESC: client got" "$(addr_norm "$(client_got_addr)")" "$(addr_norm "$want_got")"
	if [ -n "$want_srv" ]; then
		local sg
		sg=$(server_got)
		set -- $sg
		check_eq "$XFER_DESC: server got" "$(addr_norm "${2:-}")" "$(addr_norm "$want_srv")"
	fi
	return 0
}
