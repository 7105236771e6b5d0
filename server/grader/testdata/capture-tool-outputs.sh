#!/bin/sh
# Records what the real probe tools (OpenBSD nc, bind9 dig/nslookup, curl) print and exit with
# for each outcome, inside a private network namespace (needs root). The classifier's test table
# (tool-outputs.json) was produced by this script; re-run it after a tool upgrade and compare.
#   connected: a listener on 127.0.0.1:8080      refused: nothing on 127.0.0.1:81
#   timeout:   127.0.0.2, whose packets an nftables rule drops
#   UDP:       nc -u cannot tell a refusal (ICMP) from silence; only a reply means connected
#   DNS:       a tiny server on 127.0.0.1:53 (NXDOMAIN except web.shop.svc.cluster.local),
#              and a resolv.conf pointing at 127.0.0.2 for "no servers could be reached".
set -u
NS=kubelab-grader-fx
cleanup() { ip netns pids $NS 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf /etc/netns/$NS; }
trap cleanup EXIT
cleanup
ip netns add $NS
ip -n $NS link set lo up
ip netns exec $NS nft -f - <<'NFT'
table inet kubelab_fx {
  chain out { type filter hook output priority 0; ip daddr 127.0.0.2 drop; }
}
NFT
mkdir -p /etc/netns/$NS
echo 'nameserver 127.0.0.1' > /etc/netns/$NS/resolv.conf
ip netns exec $NS sh -c 'while true; do printf "HTTP/1.1 200 OK\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{\"status\":\"healthy\"}\n" | nc -l -N 127.0.0.1 8080 >/dev/null 2>&1; done' &
ip netns exec $NS python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
while True:
    q, a = s.recvfrom(512)
    i = 12; labels = []
    while q[i]: labels.append(q[i+1:i+1+q[i]].decode()); i += 1 + q[i]
    qend = i + 5; name = ".".join(labels).lower(); qtype = q[i+1:i+3]
    if name == "web.shop.svc.cluster.local" and qtype == b"\x00\x01":
        r = q[:2] + b"\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:qend] + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x1e\x00\x04\x7f\x00\x00\x01"
    elif name == "web.shop.svc.cluster.local":
        r = q[:2] + b"\x85\x80\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:qend]
    else:
        r = q[:2] + b"\x85\x83\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:qend]
    s.sendto(r, a)
' &
sleep 0.5

run() { # case-name tool expected command...
  name=$1; tool=$2; expect=$3; shift 3
  out=$(mktemp); err=$(mktemp)
  start=$(date +%s%N)
  ip netns exec $NS "$@" >"$out" 2>"$err"; rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  python3 -c 'import json,sys; print(json.dumps({"name":sys.argv[1],"tool":sys.argv[2],"expect":sys.argv[3],"command":sys.argv[4],"exitCode":int(sys.argv[5]),"stdout":open(sys.argv[6]).read(),"stderr":open(sys.argv[7]).read(),"elapsedMs":int(sys.argv[8]),"timeoutMs":1000})+",")' "$name" "$tool" "$expect" "$*" $rc "$out" "$err" "$ms"
  rm -f "$out" "$err"
}
echo '['
run nc-connected nc connected nc -vz -w 1 127.0.0.1 8080
run nc-refused nc refused nc -vz -w 1 127.0.0.1 81
run nc-timeout nc timeout nc -vz -w 1 127.0.0.2 80
run nc-quiet-connected nc connected nc -z -w 1 127.0.0.1 8080
run nc-quiet-refused nc refused nc -z -w 1 127.0.0.1 81
run nc-unreachable nc timeout nc -vz -w 1 10.124.0.9 80
run nc-name-nxdomain nc dns-error nc -vz -w 1 nosuch.shop.svc.cluster.local 80
run nc-udp-silent nc-udp timeout sh -c 'echo kubelab | nc -u -w 1 127.0.0.2 9999'
run nc-udp-refused nc-udp timeout sh -c 'echo kubelab | nc -u -w 1 127.0.0.1 9999'
run dig-found dig connected dig +short +time=1 +tries=1 web.shop.svc.cluster.local.
run dig-nxdomain dig dns-error dig +short +time=1 +tries=1 nosuch.shop.svc.cluster.local.
run dig-nodata dig dns-error dig +short +time=1 +tries=1 web.shop.svc.cluster.local. AAAA
run dig-timeout dig timeout dig +short +time=1 +tries=1 @127.0.0.2 web.shop.svc.cluster.local.
run dig-refused dig refused dig +short +time=1 +tries=1 @127.0.0.1 -p 5353 web.shop.svc.cluster.local.
run dig-full-nxdomain dig dns-error dig +time=1 +tries=1 nosuch.shop.svc.cluster.local.
run nslookup-found nslookup connected nslookup -timeout=1 -retry=0 web.shop.svc.cluster.local.
run nslookup-nxdomain nslookup dns-error nslookup -timeout=1 -retry=0 nosuch.shop.svc.cluster.local.
run nslookup-timeout nslookup timeout nslookup -timeout=1 -retry=0 web.shop.svc.cluster.local. 127.0.0.2
run curl-connected curl connected curl -sS -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:8080/health
run curl-refused curl refused curl -sS -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:81/
run curl-timeout curl timeout curl -sS -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.2:80/
run curl-nxdomain curl dns-error curl -sS -o /dev/null -w '%{http_code}' --max-time 1 http://nosuch.shop.svc.cluster.local/
run curl-resolve-connected curl connected curl -sS -o /dev/null -w '%{http_code}' --max-time 1 --resolve web.shop.svc.cluster.local:8080:127.0.0.1 http://web.shop.svc.cluster.local:8080/health
echo 'nameserver 127.0.0.2' > /etc/netns/$NS/resolv.conf
run nc-name-dns-timeout nc dns-error nc -vz -w 1 web.shop.svc.cluster.local 80
run curl-dns-timeout curl dns-error curl -sS -o /dev/null -w '%{http_code}' --max-time 1 http://web.shop.svc.cluster.local/
run dig-no-servers dig timeout dig +short +time=1 +tries=1 web.shop.svc.cluster.local.
run nslookup-no-servers nslookup timeout nslookup -timeout=1 -retry=0 web.shop.svc.cluster.local.
echo '{"name":"end-of-table"}]'
