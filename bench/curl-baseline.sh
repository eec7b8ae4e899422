#!/usr/bin/env bash
# Baseline for scripts/bench: the AS-mode checks of one shape done by hand with curl, openssl
# and jq — one process per request or computation, as a sandbox user would — against a running
# `mtls-harness serve` (its PKI in PKI_DIR). Prints one line: processes, checks passed, wall ms.
#   bench/curl-baseline.sh ISSUER RESOURCE PKI_DIR
set -uo pipefail
iss=$1 res=$2 p=$3
ok=0 total=0
count=$(mktemp)
trap 'rm -f "$count"' EXIT
# Command substitutions run in subshells: count processes in a file, not a variable.
tick() { local i; for ((i = 0; i < $1; i++)); do printf x; done >> "$count"; }
c() { tick 1; curl -sS --max-time 10 --cacert "$p/ca.pem" "$@"; }
j() { tick 1; jq -r "$@"; }
check() { total=$((total + 1)); if [ "$1" = "$2" ]; then ok=$((ok + 1)); fi; }
as() { c --cert "$p/$1.pem" --key "$p/$1.key" "${@:2}"; }
code() { c -o /dev/null -w '%{http_code}' "$@"; }
thumb() { tick 4; openssl x509 -in "$1" -outform der | openssl dgst -sha256 -binary | basenc --base64url | tr -d '='; }
payload() { tick 3; cut -d. -f2 <<<"$1" | basenc --base64url -d 2>/dev/null | jq -r "$2"; }
t0=$(date +%s%N)

disc=$(c "$iss/.well-known/openid-configuration")
check "$(j '.issuer' <<<"$disc")" "$iss"                                         # disc.fetch
check "$(j '.mtls_endpoint_aliases|type' <<<"$disc")" "object"                   # disc.aliases.object
check "$(j '[.mtls_endpoint_aliases|keys[]|endswith("_endpoint")]|all' <<<"$disc")" "true"   # disc.aliases.keys
check "$(j '.tls_client_certificate_bound_access_tokens' <<<"$disc")" "true"     # disc.bound-flag
check "$(j '.token_endpoint_auth_methods_supported|index("tls_client_auth")!=null' <<<"$disc")" "true"  # disc.auth-methods
read -r tok par intr rev authz < <(j '[.mtls_endpoint_aliases.token_endpoint, .mtls_endpoint_aliases.pushed_authorization_request_endpoint, .mtls_endpoint_aliases.introspection_endpoint, .mtls_endpoint_aliases.revocation_endpoint, .authorization_endpoint]|@tsv' <<<"$disc")
check "${tok:0:8}" "https://"                                                      # endpoints.resolve
host=${tok#https://}; host=${host%%/*}
tick 2
openssl s_client -connect "$host" -CAfile "$p/ca.pem" </dev/null 2>/dev/null | grep -q "Acceptable client certificate CA names\|Requested Signature Algorithms" \
  && check 1 1 || check 1 0                                                        # tls.cert-request.required
cc=(-d grant_type=client_credentials -d client_id=tpp-client-001)
t=$(as registered "$tok" "${cc[@]}"); at=$(j '.access_token' <<<"$t"); check "$([ -n "$at" ] && [ "$at" != null ] && echo issued)" issued   # auth.pki.accept
check "$(code "$tok" "${cc[@]}")" 401                                               # auth.pki.no-cert
check "$(as other-subject -o /dev/null -w '%{http_code}' "$tok" "${cc[@]}")" 401    # auth.pki.other-subject
check "$(as rogue-ca -o /dev/null -w '%{http_code}' "$tok" "${cc[@]}")" 401         # auth.pki.rogue-ca
check "$(as expired -o /dev/null -w '%{http_code}' "$tok" "${cc[@]}")" 401          # auth.pki.expired
ss=(-d grant_type=client_credentials -d client_id=tpp-self-signed-001)
check "$(as self-signed -o /dev/null -w '%{http_code}' "$tok" "${ss[@]}")" 200      # auth.self.accept
check "$(as self-signed-other -o /dev/null -w '%{http_code}' "$tok" "${ss[@]}")" 401  # auth.self.other
x5t=$(thumb "$p/registered.pem")
check "$(payload "$at" '.cnf."x5t#S256"')" "$x5t"                                  # bind.token-cnf
check "$(as registered "$intr" -d "token=$at" -d client_id=tpp-client-001 | j '.cnf."x5t#S256"')" "$x5t"  # bind.introspection-cnf
check "$(as registered -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $at" "$res")" 200         # bind.rs.same-cert
check "$(as other-subject -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $at" "$res")" 401      # bind.rs.other-cert
check "$(code -H "Authorization: Bearer $at" "$res")" 401                                                  # bind.rs.no-cert
st=$(as registered -u "tpp-secret-001:$(cat "$p/tpp-secret-001.secret")" "$tok" -d grant_type=client_credentials | j '.access_token')
check "$(payload "$st" '.cnf."x5t#S256"')" "$x5t"                                  # bind.other-auth
loc=$(c -o /dev/null -w '%{redirect_url}' "$authz?response_type=code&client_id=tpp-public-001&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&scope=openid")
code_=${loc#*code=}; code_=${code_%%&*}
rt=$(as registered "$tok" -d grant_type=authorization_code -d "code=$code_" -d redirect_uri=https://client.example/cb -d client_id=tpp-public-001 | j '.refresh_token')
r1=$(as other-subject -o /dev/null -w '%{http_code}' "$tok" -d grant_type=refresh_token -d "refresh_token=$rt" -d client_id=tpp-public-001)
r2=$(as registered -o /dev/null -w '%{http_code}' "$tok" -d grant_type=refresh_token -d "refresh_token=$rt" -d client_id=tpp-public-001)
check "$r1$r2" "400200"                                                              # bind.refresh-public
check "$(as registered -o /dev/null -w '%{http_code}' "$par" -d client_id=tpp-client-001 -d response_type=code -d redirect_uri=https://client.example/cb)" 201  # par.alias
at2=$(as registered "$tok" "${cc[@]}" | j '.access_token')
as registered -o /dev/null "$rev" -d "token=$at2" -d client_id=tpp-client-001
check "$(as registered "$intr" -d "token=$at2" -d client_id=tpp-client-001 | j '.active')" false   # revoke.alias

t1=$(date +%s%N)
procs=$(wc -c < "$count")
echo "baseline: $procs processes, $ok/$total checks as expected, $(( (t1 - t0) / 1000000 )) ms"
