#!/bin/sh
# Make a JWKS and a signed OAuth 2.0 access token with openssl, for trying
# `imap-server --oauth-jwks` locally (README: "OAuth 2.0"); tests/server_oauth.rs
# runs it too.
#
#   scripts/oauth-test-token.sh DIR [EMAIL [ISSUER [AUDIENCE [LIFETIME_SECONDS]]]]
#
# Writes DIR/oauth-key.pem (RSA 2048, the issuer's private key; made once and
# reused), DIR/jwks.json (its public key, kid "k1", RS256) and DIR/token.txt
# (an RS256 JWT for EMAIL, valid for LIFETIME_SECONDS, default 3600; a
# negative lifetime makes an expired token). Needs openssl, basenc and xxd.
set -eu
dir=$1
email=${2:-alice@example.org}
iss=${3:-https://issuer.example}
aud=${4:-imap.example.org}
life=${5:-3600}
mkdir -p "$dir"
b64url() { basenc --base64url -w0 | tr -d '='; }
key=$dir/oauth-key.pem
[ -f "$key" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
n=$(openssl rsa -in "$key" -noout -modulus | cut -d= -f2 | xxd -r -p | b64url)
printf '{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"k1","n":"%s","e":"AQAB"}]}\n' "$n" >"$dir/jwks.json"
now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT","kid":"k1"}' | b64url)
payload=$(printf '{"iss":"%s","aud":"%s","sub":"%s","email":"%s","iat":%d,"exp":%d}' \
    "$iss" "$aud" "$email" "$email" "$now" $((now + life)) | b64url)
sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$key" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$payload" "$sig" >"$dir/token.txt"
echo "$dir/token.txt: token for $email (iss $iss, aud $aud, ${life}s)"
