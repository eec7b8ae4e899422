#!/usr/bin/env bash
# Baseline for the RTT benchmark (harness/cli/src/bench/rtt.rs): the AS-mode catalogue (32 checks)
# done by hand with curl, openssl and jq — one process per request or computation, strictly
# sequential, as a sandbox user would script it — against a running node-oidc-provider peer
# (fixtures/peers/oidc-provider/start.mjs, any ALIAS_MODE). The same 34 HTTP requests and one TLS
# probe the harness makes with the target file of rtt.rs / harness/cli/tests/it/oidc_provider.rs
# (JWT access tokens via `resource`, the harness holding the client CA; only revoke.alias differs:
# it introspects after revoking, the harness before, as node refuses the revocation). Prints one
# line: processes, checks passed, wall ms.
#   BENCH_SECRET=<tpp-secret-001's secret> bench/curl-baseline-node.sh ISSUER RESOURCE PKI_DIR
# PKI_DIR is `mtls-harness pki --out` / TestPki::write_to: ca.pem, ca.key, registered, other-subject,
# rogue-ca (the registered subject from a rogue CA), self-signed, self-signed-other (.pem + .key),
# jwt-client.key (Ed25519 PKCS#8) and jwt-client.jwks.json (alg EdDSA, the peer's tpp-jwt-001).
# Exit 2 on wrong arguments, else 0: a timing baseline, the pass count is informative.
# A check compares what a conformant AS answers; node-oidc-provider 9.13.3 misses five in its
# documented ways (README there): auth.jwt.aud-endpoint and auth.jwt.aud-array (accepted, RFC 7523
# permits; the harness warns), introspect.active and bind.introspection-cnf (a JWT access token is
# not introspected: 400 unsupported_token_type; warn/skip), revoke.alias (nor revoked, which RFC
# 7009 permits; skip). disc.aliases.keys judges published aliases: none in ALIAS_MODE=none (skip).
# Process count: every program executed (curl, openssl, jq, basenc); bash builtins and subshells not.
set -uo pipefail
usage() { echo "usage: BENCH_SECRET=... $0 ISSUER RESOURCE PKI_DIR" >&2; exit 2; }
if [ $# -ne 3 ] || [ -z "${BENCH_SECRET:-}" ]; then usage; fi
iss=$1 res=$2 p=$3
for f in ca.pem ca.key registered.pem registered.key other-subject.pem other-subject.key rogue-ca.pem rogue-ca.key \
  self-signed.pem self-signed.key self-signed-other.pem self-signed-other.key jwt-client.key jwt-client.jwks.json; do
  [ -r "$p/$f" ] || { echo "$0: $p/$f missing" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count=$tmp/count
: > "$count"
# Command substitutions run in subshells: count processes in a file (one byte each), not a variable.
tick() { printf '%*s' "$1" '' >> "$count"; }
j() { tick 1; jq -r "$@" 2>/dev/null; }
# One request: sets $code, $body, $err (the JSON error code, if any) and $wa (WWW-Authenticate).
req() {
  tick 1
  local r last
  r=$(curl -sS --max-time 10 --cacert "$p/ca.pem" -w '\n%{http_code} %header{www-authenticate}' "$@" 2>/dev/null)
  last=${r##*$'\n'} body=${r%$'\n'*} code=${last%% *} wa=${last#* } err=
  [[ $body =~ \"error\":\"([^\"]*)\" ]] && err=${BASH_REMATCH[1]}
}
as() { req --cert "$1.pem" --key "$1.key" "${@:2}"; }
issued() { [[ $code = 200 && $body == *'"access_token":"'* ]] && echo yes || echo no; }
check() { total=$((total + 1)); if [ "$1" = "$2" ]; then ok=$((ok + 1)); fi; }
# A fresh private_key_jwt assertion for tpp-jwt-001 (aud: JSON value $1, signing key $2) in $ja.
assertion() {
  tick 3
  local now jti si sig
  printf -v now '%(%s)T' -1
  jti=$(< /proc/sys/kernel/random/uuid)
  si=$(jq -nr --arg kid "$kid" --arg jti "$jti" --argjson aud "$1" --argjson now "$now" \
    '[{alg: "EdDSA", kid: $kid}, {iss: "tpp-jwt-001", sub: "tpp-jwt-001", aud: $aud, jti: $jti, iat: $now, exp: ($now + 60)}]
     | map(tojson | @base64 | gsub("\\+"; "-") | gsub("/"; "_") | gsub("="; "")) | join(".")')
  printf %s "$si" > "$tmp/si"   # pkeyutl -rawin needs a file (it must know the input's size)
  sig=$(openssl pkeyutl -sign -rawin -inkey "$2" -in "$tmp/si" | basenc --base64url -w0)
  ja=$si.${sig%%=*}
}
# jq: cnf.x5t#S256 of a JWT access token (the input string).
cnf='split(".")[1] // "" | gsub("-"; "+") | gsub("_"; "/") | @base64d | fromjson | .cnf."x5t#S256"'
reg=$p/registered
ok=0 total=0
t0=${EPOCHREALTIME/./}

# Once: the expired certificate with the registered subject from the client CA (the harness mints
# it too), openssl's Ed25519 key from jwt-client.key (a PKCS#8 v2 key, with the public key, which
# OpenSSL 3.0 cannot read: rebuilt as v1 from its private octet string), an unregistered key, the kid.
printf '%s\n' '[ca]' 'default_ca = d' '[d]' "database = $tmp/index" "new_certs_dir = $tmp" 'rand_serial = yes' \
  'default_md = sha256' 'policy = p' 'preserve = yes' 'unique_subject = no' 'x509_extensions = x' '[p]' \
  'countryName = optional' 'organizationName = optional' 'organizationalUnitName = optional' 'commonName = supplied' \
  '[x]' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' 'extendedKeyUsage = clientAuth' > "$tmp/ca.cnf"
: > "$tmp/index"
tick 2
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/expired.key" \
  -subj "/C=AE/O=Example Fintech Ltd/OU=Payments/CN=tpp-client-001" 2>/dev/null \
  | openssl ca -batch -config "$tmp/ca.cnf" -cert "$p/ca.pem" -keyfile "$p/ca.key" -in /dev/stdin -notext \
    -startdate 20200101000000Z -enddate 20200201000000Z -out "$tmp/expired.pem" 2>/dev/null
tick 2
{ printf '\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22'; openssl asn1parse -in "$p/jwt-client.key" -strparse 12 -noout -out /dev/stdout; } \
  | openssl pkey -inform DER -out "$tmp/jwt.pem"
tick 1
openssl genpkey -algorithm ed25519 -out "$tmp/unregistered.pem"
kid=$(j '.keys[0].kid' "$p/jwt-client.jwks.json")

req "$iss/.well-known/openid-configuration"
disc=$body
check "$code $(j '.issuer' <<<"$disc")" "200 $iss"                                                   # disc.fetch
check "$(j '(.mtls_endpoint_aliases // {}) as $a | ($a | type) == "object" and ([$a[]] | all(type == "string" and startswith("https://")))' <<<"$disc")" true   # disc.aliases.object
check "$(j '. as $d | .mtls_endpoint_aliases | type == "object" and length > 0 and (keys | all(endswith("_endpoint") and . != "authorization_endpoint" and $d[.] != null))' <<<"$disc")" true   # disc.aliases.keys
check "$(j '.tls_client_certificate_bound_access_tokens' <<<"$disc")" true                           # disc.bound-flag
check "$(j '["tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt"] - .token_endpoint_auth_methods_supported == []' <<<"$disc")" true   # disc.auth-methods
read -r tok par intr rev authz < <(j '. as $d | [("token_endpoint", "pushed_authorization_request_endpoint", "introspection_endpoint", "revocation_endpoint") | $d.mtls_endpoint_aliases[.] // $d[.]] + [.authorization_endpoint] | @tsv' <<<"$disc")
check "${tok:0:8}${par:0:8}${intr:0:8}${rev:0:8}${authz:0:8}" "https://https://https://https://https://"   # endpoints.resolve
declare -A origins
for u in "$tok" "$par" "$intr" "$rev"; do h=${u#https://}; h=${h%%/*}; [ -n "$h" ] && origins[$h]=1; done
asked=
for h in "${!origins[@]}"; do   # each origin of an effective mTLS endpoint, once
  tick 1
  hs=$(openssl s_client -connect "$h" -CAfile "$p/ca.pem" -state -brief </dev/null 2>&1)
  [[ $hs == *"read server certificate request"* ]] && asked=${asked:-yes} || asked=no
done
check "$asked" yes                                                                                   # tls.cert-request.required

cc=(-d grant_type=client_credentials --data-urlencode "resource=$res")
as "$reg" "$tok" "${cc[@]}" -d client_id=tpp-client-001
read -r tt at < <(j '[.token_type, .access_token] | @tsv' <<<"$body")
pki="$code $tt ${at:+token}"; check "$pki" "200 Bearer token"                                        # auth.pki.accept
# A refusal counts only after its positive control passed (as in the harness: else "blocked").
refused() { check "$1 $code $err" "yes 401 invalid_client"; }
[ "$pki" = "200 Bearer token" ] && pki=yes || pki=no
req "$tok" "${cc[@]}" -d client_id=tpp-client-001; refused "$pki"                                    # auth.pki.no-cert
as "$p/other-subject" "$tok" "${cc[@]}" -d client_id=tpp-client-001; refused "$pki"                  # auth.pki.other-subject
as "$p/rogue-ca" "$tok" "${cc[@]}" -d client_id=tpp-client-001; refused "$pki"                       # auth.pki.rogue-ca
as "$tmp/expired" "$tok" "${cc[@]}" -d client_id=tpp-client-001; refused "$pki"                      # auth.pki.expired
as "$p/self-signed" "$tok" "${cc[@]}" -d client_id=tpp-self-signed-001; self=$(issued); check "$self" yes   # auth.self.accept
as "$p/self-signed-other" "$tok" "${cc[@]}" -d client_id=tpp-self-signed-001; refused "$self"        # auth.self.other

jc=("${cc[@]}" -d client_id=tpp-jwt-001 -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer)
assertion "\"$iss\"" "$tmp/jwt.pem"; as "$reg" "$tok" "${jc[@]}" -d "client_assertion=$ja"
jwt=$(issued); check "$jwt" yes; jbody=$body                                                         # auth.jwt.accept
assertion "\"$iss\"" "$tmp/unregistered.pem"; as "$reg" "$tok" "${jc[@]}" -d "client_assertion=$ja"
refused "$jwt"                                                                                       # auth.jwt.bad-signature
assertion '"https://another-authorization-server.invalid"' "$tmp/jwt.pem"; as "$reg" "$tok" "${jc[@]}" -d "client_assertion=$ja"
refused "$jwt"                                                                                       # auth.jwt.aud-wrong
assertion "\"$tok\"" "$tmp/jwt.pem"; as "$reg" "$tok" "${jc[@]}" -d "client_assertion=$ja"
refused "$jwt"                                                                                       # auth.jwt.aud-endpoint
assertion "[\"$iss\"]" "$tmp/jwt.pem"; as "$reg" "$tok" "${jc[@]}" -d "client_assertion=$ja"
refused "$jwt"                                                                                       # auth.jwt.aud-array
assertion "\"$iss\"" "$tmp/jwt.pem"; as "$reg" "$tok" "${jc[@]}" -d "client_assertion=$ja"; first=$(issued)
as "$reg" "$tok" "${jc[@]}" -d "client_assertion=$ja"; refused "$first"                              # auth.jwt.replay
assertion "\"$iss\"" "$tmp/jwt.pem"; req "$tok" "${jc[@]}" -d "client_assertion=$ja"
case $code in 400 | 401 | 403) nc=refused ;; *) nc="$code $(issued)" ;; esac; check "$jwt $nc" "yes refused"   # auth.jwt.no-cert

tick 3
x5t=$(openssl x509 -in "$reg.pem" -outform der | openssl dgst -sha256 -binary | basenc --base64url); x5t=${x5t%%=*}
check "$(j -n --arg t "$at" "\$t | $cnf")" "$x5t"                                                    # bind.token-cnf
as "$reg" "$intr" -d "token=$at" -d token_type_hint=access_token -d client_id=tpp-client-001
IFS=$'\t' read -r active icnf < <(j '[.active, .cnf."x5t#S256"] | @tsv' <<<"$body")
check "$code $active" "200 true"                                                                     # introspect.active
check "$icnf" "$x5t"                                                                                 # bind.introspection-cnf
as "$reg" "$res" -H "Authorization: Bearer $at"; same=$code; check "$same" 200                       # bind.rs.same-cert
as "$p/other-subject" "$res" -H "Authorization: Bearer $at"
check "$same $code $([[ $wa =~ ^Bearer.*error=\"?invalid_token ]] && echo invalid_token)" "200 401 invalid_token"   # bind.rs.other-cert
req "$res" -H "Authorization: Bearer $at"; check "$same $code" "200 401"                             # bind.rs.no-cert
as "$reg" "$tok" -u "tpp-secret-001:$BENCH_SECRET" "${cc[@]}" -d client_id=tpp-secret-001
check "$(j ".access_token // \"\" | $cnf" <<<"$body")" "$x5t"                                        # bind.other-auth
check "$(j ".access_token // \"\" | $cnf" <<<"$jbody")" "$x5t"                                       # bind.jwt-client

ver=$(< /proc/sys/kernel/random/uuid)$(< /proc/sys/kernel/random/uuid); ver=${ver//-/}
tick 2
ch=$(printf %s "$ver" | openssl dgst -sha256 -binary | basenc --base64url); ch=${ch%%=*}
loc="$authz?response_type=code&client_id=tpp-public-001&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&scope=openid+offline_access&state=mtls-harness&code_challenge=$ch&code_challenge_method=S256"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  [[ -z $loc || $loc == https://client.example/cb* ]] && break
  tick 1
  loc=$(curl -sS --max-time 10 --cacert "$p/ca.pem" -b "$tmp/jar" -c "$tmp/jar" -o /dev/null -w '%{redirect_url}' "$loc" 2>/dev/null)
done
ac=; [[ $loc =~ [?\&]code=([^\&]*) ]] && ac=${BASH_REMATCH[1]}
as "$reg" "$tok" -d grant_type=authorization_code -d "code=$ac" -d redirect_uri=https://client.example/cb \
  -d client_id=tpp-public-001 -d "code_verifier=$ver"
rt=$(j '.refresh_token // ""' <<<"$body")
as "$p/other-subject" "$tok" -d grant_type=refresh_token -d "refresh_token=$rt" -d client_id=tpp-public-001; r1="$code $err"
as "$reg" "$tok" -d grant_type=refresh_token -d "refresh_token=$rt" -d client_id=tpp-public-001
check "${rt:+rt} $r1 $(issued)" "rt 400 invalid_grant yes"                                           # bind.refresh-public
as "$reg" "$par" -d client_id=tpp-client-001 -d response_type=code -d redirect_uri=https://client.example/cb -d scope=openid \
  -d state=mtls-harness -d "code_challenge=$ch" -d code_challenge_method=S256
check "$code $([[ $body == *'"request_uri":"'* ]] && echo request_uri)" "201 request_uri"            # par.alias
as "$reg" "$tok" "${cc[@]}" -d client_id=tpp-client-001
at2=$(j '.access_token // ""' <<<"$body")
as "$reg" "$res" -H "Authorization: Bearer $at2"; before=$code
as "$reg" "$rev" -d "token=$at2" -d token_type_hint=access_token -d client_id=tpp-client-001; rv=$code
as "$reg" "$intr" -d "token=$at2" -d token_type_hint=access_token -d client_id=tpp-client-001
check "$before $rv $(j '.active' <<<"$body")" "200 200 false"                                        # revoke.alias

t1=${EPOCHREALTIME/./}
echo "baseline: $(wc -c < "$count") processes, $ok/$total checks passed, $(( (t1 - t0) / 1000 )) ms"
