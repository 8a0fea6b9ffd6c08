# shellcheck shell=bash
# Sourced by ./build-apk.sh (not executed): the local stack — `up` (build, certificates, PostgreSQL, the services, the
# sample API, the quick start), `down` and `status`. The process handling is in scripts/services.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

# The reference quick start's development client (id and secret are public): seeded into the deployer's store by the
# local stack only (SEED_DEV_CLIENT=true), never in production. DEVELOPMENT FIXTURE, not a secret.
DEV_CLIENT_ID="45f1c5c8-a92e-11ed-afa1-0242ac120002"
DEV_CLIENT_SECRET="4fbd62ec-a92e-11ed-afa1-0242ac120002"
SAMPLE_CONF="test/fixtures/quickstart/http-bin-api.apk-conf.yaml"
SAMPLE_DEFINITION="test/fixtures/quickstart/http-bin-api.openapi.yaml"
SAMPLE_PATH="/http-bin-api/1.0.8"

# The sample apk-conf for the echo backend at URL $1, as a path relative to the repository: the fixture when its
# endpoint (http://127.0.0.1:8088) is that URL, else a copy in .apk/run with the endpoint replaced.
sample_conf_for() {
    local copy="$RUN_DIR/http-bin-api.apk-conf.yaml"
    if [ "$1" = "http://127.0.0.1:8088" ]; then
        echo "$SAMPLE_CONF"
        return 0
    fi
    sed "s#http://127.0.0.1:8088#$1#" "$SAMPLE_CONF" >"$copy"
    echo "${copy#"$ROOT"/}"
}

# dev_token TOKEN_URL [CURL_ARG…]: an access token (scope apk:api_create) of the development client of the reference
# quick start from the issuer at TOKEN_URL; prints it on stdout.
dev_token() {
    local url="$1"
    shift
    curl -fsS --max-time 10 "$@" -u "$DEV_CLIENT_ID:$DEV_CLIENT_SECRET" \
        -d 'grant_type=client_credentials&scope=apk:api_create' "$url" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# deploy_sample DEPLOYER_URL APK_CONF: deploys the quick-start sample API (with test/fixtures/quickstart's definition)
# through the deployer with the development client's token. Deploying the same API again updates it in place (its id
# is derived from organization, name and version), so this is safe on every `up`. Prints the API id on stdout.
deploy_sample() {
    local d="$1" conf="$2" token status response="$RUN_DIR/http-bin-api.deployed.yaml"
    token="$(dev_token "$d/oauth2/token")" ||
        die "could not get a token for the development client from $d/oauth2/token; see $LOG_DIR/deployer.log"
    status="$(curl -sS --max-time 30 -o "$response" -w '%{http_code}' -X POST "$d/api/deployer/apis/deploy" \
        -H "Authorization: Bearer $token" -F "apkConfiguration=@$conf" -F "definitionFile=@$SAMPLE_DEFINITION")" ||
        die "the deployer did not answer the sample deploy; see $LOG_DIR/deployer.log"
    [ "$status" = 200 ] || die "deploying the sample API failed with HTTP $status: $(cat "$response")"
    sed -n 's/^id: *//p' "$response" | head -n 1 | tr -d "\"'"
}

# sample_key DEPLOYER_URL API_ID: an internal key for the sample API (the runtime API's generate-key); prints it.
sample_key() {
    local d="$1" id="$2" token
    token="$(dev_token "$d/oauth2/token")" || die "could not get a token from $d/oauth2/token"
    curl -fsS --max-time 10 -X POST "$d/api/runtime/apis/$id/generate-key" -H "Authorization: Bearer $token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["apikey"])' ||
        die "generate-key failed for the sample API $id; see $LOG_DIR/deployer.log"
}

# wait_for_sample URL KEY: polls the sample API's URL (through the router's HTTPS listener) with the internal key KEY
# until it answers 200 (fails after SAMPLE_TIMEOUT), then checks that it answers 401 without a credential: the
# sample's operations are secured, as in the reference quick start.
wait_for_sample() {
    local url="$1" key="$2" code="" deadline=$((SECONDS + SAMPLE_TIMEOUT))
    log "waiting for $url (Host: gw.wso2.com, Internal-Key) to answer 200 through the router"
    while ((SECONDS < deadline)); do
        code="$(curl -sk --max-time 2 -o /dev/null -w '%{http_code}' -H 'Host: gw.wso2.com' -H "Internal-Key: $key" \
            "$url" 2>/dev/null || true)"
        [ "$code" = 200 ] && break
        is_running adapter || die "apk-adapter exited; see $LOG_DIR/adapter.log"
        is_running router || die "the router (Envoy) exited; see $LOG_DIR/router.log"
        sleep 0.2   # poll interval, not a synchronisation delay
    done
    [ "$code" = 200 ] || die "the sample API did not answer 200 through the router within ${SAMPLE_TIMEOUT}s" \
        "(last status: ${code:-none}); see $LOG_DIR/adapter.log, $LOG_DIR/router.log and" \
        "curl -s http://127.0.0.1:$ROUTER_ADMIN_PORT/config_dump"
    code="$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' -H 'Host: gw.wso2.com' "$url" || true)"
    [ "$code" = 401 ] || die "the sample API answered $code without a credential (expected 401): it is not secured"
}

# dev_kek: the local stack's key-encryption key for the deployer's signing keys (SIGNING_KEY_KEK_FILE), created once
# in .apk/secrets/ (mode 0600, folder 0700; git-ignored with .apk/) as base64 of 32 random bytes. DEVELOPMENT ONLY:
# production KEKs come from a secret store. Kept across `up`s: the database's keys only open with it. Prints its path.
dev_kek() {
    local dir="$APK_DIR/secrets" file="$APK_DIR/secrets/signing-key-kek"
    (
        umask 077
        mkdir -p "$dir"
        chmod 700 "$dir"
        if [ ! -s "$file" ]; then
            openssl rand -base64 32 >"$file.tmp" && mv "$file.tmp" "$file"
        fi
        chmod 600 "$file"
    ) || return 1
    echo "$file"
}

cmd_up() {
    ensure_deps
    command -v curl >/dev/null 2>&1 || die "curl is needed to wait for the services"
    local envoy product
    envoy="$(ensure_envoy)"
    log "building $UP_CONFIGURATION binaries"
    for product in apk-config apk-deployer apk-echo apk-enforcer apk-adapter apk-ratelimiter; do
        swift build -c "$UP_CONFIGURATION" --product "$product" || die "could not build $product ($UP_CONFIGURATION)"
    done
    local bin database_url
    bin="$(swift build -c "$UP_CONFIGURATION" --show-bin-path)"
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    scripts/dev-certs.sh >&2 || die "could not create the development certificates"
    local kek_file
    kek_file="$(dev_kek)" || die "could not create the development signing-key KEK in $APK_DIR/secrets"
    if [ -n "${DATABASE_URL:-}" ] || [ -n "${POSTGRES_HOST:-}" ]; then
        database_url="${DATABASE_URL:-}"
        log "using the PostgreSQL server given by DATABASE_URL/POSTGRES_*"
    else
        APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh start
        touch "$RUN_DIR/postgres.managed"
        database_url="$(APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh url)"
    fi
    local config_url deployer_url echo_url enforcer_url adapter_url admin_url gateway_host https http
    config_url="http://$(connect_host "$CONFIG_HOST"):$CONFIG_PORT"
    deployer_url="http://$(connect_host "$DEPLOYER_HOST"):$DEPLOYER_PORT"
    echo_url="http://$(connect_host "$ECHO_HOST"):$ECHO_PORT"
    enforcer_url="http://$(connect_host "$ENFORCER_HOST"):$ENFORCER_PORT"
    adapter_url="http://$(connect_host "$ADAPTER_HOST"):$ADAPTER_PORT"
    admin_url="http://127.0.0.1:$ROUTER_ADMIN_PORT"
    gateway_host="$(connect_host "$GATEWAY_ADDRESS")"
    https="https://$gateway_host:$GATEWAY_HTTPS_PORT"
    http="http://$gateway_host:$GATEWAY_HTTP_PORT"

    start_service config "$bin/apk-config" HTTP_HOST="$CONFIG_HOST" HTTP_PORT="$CONFIG_PORT"
    echo "$config_url/health" >"$RUN_DIR/config.health"
    # The reference quick-start client is a development fixture; the local stack seeds it (never in production).
    start_service deployer "$bin/apk-deployer" HTTP_HOST="$DEPLOYER_HOST" HTTP_PORT="$DEPLOYER_PORT" \
        SEED_DEV_CLIENT=true GATEWAY_NAME="$GATEWAY_NAME" SIGNING_KEY_KEK_FILE="$kek_file" \
        ${database_url:+DATABASE_URL="$database_url"}
    echo "$deployer_url/ready" >"$RUN_DIR/deployer.health"
    start_service echo "$bin/apk-echo" HTTP_HOST="$ECHO_HOST" HTTP_PORT="$ECHO_PORT"
    echo "$echo_url/health" >"$RUN_DIR/echo.health"
    wait_for_health config "$config_url/health"
    wait_for_health deployer "$deployer_url/ready"
    wait_for_health echo "$echo_url/health"
    log "apk-config is up on $config_url, apk-deployer on $deployer_url, apk-echo on $echo_url"

    # Redis for the ratelimiter's counters: loopback only, nothing persisted (quota windows are short-lived).
    start_redis "$REDIS_PORT"

    # The enforcer after the deployer: it is ready once it holds the deployer's signing keys and the organizations'
    # token issuers from the adapter (APK discovery, so it waits for the adapter below). The router calls it for
    # every secured request in `enforcer` mode (APK_AUTH_ENFORCEMENT=enforcer); in `native` mode only on routes
    # whose API has a backend JWT. Its JWKS is served by the router as https://api.am.wso2.com:9095/.wellknown/jwks.
    start_service enforcer "$bin/apk-enforcer" HTTP_HOST="$ENFORCER_HOST" HTTP_PORT="$ENFORCER_PORT" \
        GRPC_HOST="$ENFORCER_HOST" GRPC_PORT="$ENFORCER_GRPC_PORT" AUTH_JWKS_URL="$deployer_url/oauth2/jwks" \
        DISCOVERY_URL="http://$(connect_host "$ADAPTER_HOST"):$ADAPTER_XDS_PORT"
    echo "$enforcer_url/ready" >"$RUN_DIR/enforcer.health"

    # The adapter after the deployer: the deployer migrates the schema both read. It watches the deployer's namespace.
    start_service adapter "$bin/apk-adapter" HTTP_HOST="$ADAPTER_HOST" HTTP_PORT="$ADAPTER_PORT" \
        XDS_HOST="$ADAPTER_HOST" XDS_PORT="$ADAPTER_XDS_PORT" WATCH_NAMESPACE="${DEPLOY_NAMESPACE:-default}" \
        GATEWAY_NAME="$GATEWAY_NAME" GATEWAY_LISTENER_ADDRESS="$GATEWAY_ADDRESS" \
        GATEWAY_HTTPS_PORT="$GATEWAY_HTTPS_PORT" GATEWAY_HTTP_PORT="$GATEWAY_HTTP_PORT" \
        GATEWAY_TLS_CERTIFICATE="$CERT_DIR/gateway.crt" GATEWAY_TLS_KEY="$CERT_DIR/gateway.key" \
        SYSTEM_DEPLOYER_URL="$deployer_url" SYSTEM_CONFIG_URL="$config_url" AUTH_ENFORCEMENT="$AUTH_ENFORCEMENT" \
        AUTH_ENFORCER_URL="http://$(connect_host "$ENFORCER_HOST"):$ENFORCER_GRPC_PORT" \
        SYSTEM_ENFORCER_JWKS_URL="$enforcer_url" ${database_url:+DATABASE_URL="$database_url"} \
        RATELIMITER_URL="http://$(connect_host "$RATELIMITER_HOST"):$RATELIMITER_GRPC_PORT"
    echo "$adapter_url/ready" >"$RUN_DIR/adapter.health"
    wait_for_health adapter "$adapter_url/ready"
    log "apk-adapter is up: ADS on $(connect_host "$ADAPTER_HOST"):$ADAPTER_XDS_PORT, ops on $adapter_url"
    wait_for_health enforcer "$enforcer_url/ready"
    log "apk-enforcer is up: ext_authz on $(connect_host "$ENFORCER_HOST"):$ENFORCER_GRPC_PORT, ops on $enforcer_url"

    # The ratelimiter: counters in the Redis above, rules from the adapter (APK discovery); ready with its first
    # rule set. The router asks it only on routes whose API or operation has a rate limit, and allows the request
    # when it does not answer within 100 ms (RATELIMIT_FAIL_OPEN on the adapter).
    local ratelimiter_url="http://$(connect_host "$RATELIMITER_HOST"):$RATELIMITER_PORT"
    start_service ratelimiter "$bin/apk-ratelimiter" HTTP_HOST="$RATELIMITER_HOST" HTTP_PORT="$RATELIMITER_PORT" \
        GRPC_HOST="$RATELIMITER_HOST" GRPC_PORT="$RATELIMITER_GRPC_PORT" REDIS_PORT="$REDIS_PORT" \
        XDS_HOST="$(connect_host "$ADAPTER_HOST")" XDS_PORT="$ADAPTER_XDS_PORT"
    echo "$ratelimiter_url/ready" >"$RUN_DIR/ratelimiter.health"
    wait_for_health ratelimiter "$ratelimiter_url/ready"
    log "apk-ratelimiter is up: RLS on $(connect_host "$RATELIMITER_HOST"):$RATELIMITER_GRPC_PORT, ops on $ratelimiter_url"

    if ! is_running router; then render_router_bootstrap "$envoy"; fi
    start_service router "$envoy" -- -c "$RUN_DIR/envoy.yaml" --concurrency 2 --use-dynamic-base-id -l info
    echo "$admin_url/ready" >"$RUN_DIR/router.health"
    wait_for_health router "$admin_url/ready"
    log "the router (Envoy) is up: $https, $http, admin $admin_url"

    local sample_id sample_conf
    sample_conf="$(sample_conf_for "$echo_url")"
    log "deploying the sample API http-bin-api 1.0.8 ($sample_conf, backend apk-echo $echo_url)"
    sample_id="$(deploy_sample "$deployer_url" "$sample_conf")"
    [ -n "$sample_id" ] || die "the deployer did not say the sample API's id; see $RUN_DIR/http-bin-api.deployed.yaml"
    echo "$https$SAMPLE_PATH/get" >"$RUN_DIR/sample.url"
    wait_for_sample "$https$SAMPLE_PATH/get" "$(sample_key "$deployer_url" "$sample_id")"
    log "the sample API answers through the router with an internal key, and 401 without one (id $sample_id," \
        "enforcement: $AUTH_ENFORCEMENT)"
    local d="$deployer_url" token_call
    token_call="-u $DEV_CLIENT_ID:$DEV_CLIENT_SECRET -d 'grant_type=client_credentials&scope=apk:api_create'"
    cat <<EOF

Quick start:

  # the reference quick start through the router: a token from idp.am.wso2.com, the runtime APIs on api.am.wso2.com,
  # then the sample API (deployed by \`up\`, backend apk-echo, secured) with an internal key on gw.wso2.com
  TOKEN=\$(curl -sk $token_call \\
       $https/oauth2/token -H 'Host: idp.am.wso2.com' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -sk $https/api/runtime/apis -H 'Host: api.am.wso2.com' -H "Authorization: Bearer \$TOKEN"
  KEY=\$(curl -sk -X POST $https/api/runtime/apis/$sample_id/generate-key -H 'Host: api.am.wso2.com' \\
       -H "Authorization: Bearer \$TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["apikey"])')
  curl -sk $https$SAMPLE_PATH/get -H 'Host: gw.wso2.com' -H "Internal-Key: \$KEY"          # 200
  curl -sk $https$SAMPLE_PATH/get -H 'Host: gw.wso2.com'                                 # 401 900903
  curl -sS $http$SAMPLE_PATH/get -H 'Host: gw.wso2.com' -H "Authorization: Bearer \$TOKEN"   # HTTP, access token
  curl -sS --cacert .apk/certs/ca.crt --resolve gw.wso2.com:$GATEWAY_HTTPS_PORT:$gateway_host -H "Internal-Key: \$KEY" \\
       "https://gw.wso2.com:$GATEWAY_HTTPS_PORT$SAMPLE_PATH/anything/42?q=1"
  curl -sk -X POST $https$SAMPLE_PATH/post -H 'Host: gw.wso2.com' -H "Internal-Key: \$KEY" \\
       -H 'Content-Type: application/json' -d '{"hello":"apk"}'

  # OpenAPI -> apk-conf
  curl -sS -X POST $config_url/api/configurator/apis/generate-configuration \\
       -F "definition=@test/fixtures/openapi/petstore-3.0.yaml" -o petstore.apk-conf.yaml

  # apk-conf + OpenAPI -> Kubernetes resources (zip; add -H 'Accept: application/yaml' for one YAML stream)
  curl -sS -X POST "$config_url/api/configurator/apis/generate-k8s-resources?organization=default" \\
       -F "apkConfiguration=@petstore.apk-conf.yaml" -F "definitionFile=@test/fixtures/openapi/petstore-3.0.yaml" \\
       -o petstore-k8s.zip

  # a token from the built-in issuer (development client of the reference quick start)
  TOKEN=\$(curl -sS $token_call \\
       $d/oauth2/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

  # deploy, list, generate an internal key, undeploy
  curl -sS -X POST $d/api/deployer/apis/deploy -H "Authorization: Bearer \$TOKEN" \\
       -F "apkConfiguration=@petstore.apk-conf.yaml" -F "definitionFile=@test/fixtures/openapi/petstore-3.0.yaml"
  curl -sS $d/api/runtime/apis -H "Authorization: Bearer \$TOKEN"
  curl -sS -X POST $d/api/runtime/apis/<id>/generate-key -H "Authorization: Bearer \$TOKEN"
  curl -sS -X POST "$d/api/deployer/apis/undeploy?apiId=<id>" -H "Authorization: Bearer \$TOKEN"

  # the deployer through the router (api.am.wso2.com)
  curl -sk $https/api/deployer/apis -H 'Host: api.am.wso2.com' -H "Authorization: Bearer \$TOKEN"
  curl -sk -X POST "$https/api/deployer/apis/undeploy?apiId=${sample_id:-<id>}" -H 'Host: api.am.wso2.com' \\
       -H "Authorization: Bearer \$TOKEN"                  # afterwards the sample API answers 404
  curl -sk -X POST $https/api/deployer/apis/deploy -H 'Host: api.am.wso2.com' -H "Authorization: Bearer \$TOKEN" \\
       -F "apkConfiguration=@$sample_conf" -F "definitionFile=@$SAMPLE_DEFINITION"   # and back

  # the router's configuration as the adapter sent it
  curl -s $admin_url/config_dump | less

  ./build-apk.sh status    # what is running
  ./build-apk.sh down      # stop it (data in .apk/postgres survives)

EOF
}

cmd_down() {
    local names=() i
    mapfile -t names < <(recorded_services)
    if [ "${#names[@]}" -eq 0 ] && [ ! -f "$RUN_DIR/postgres.managed" ]; then
        log "nothing to stop: nothing started by ./build-apk.sh up"
    fi
    # Reverse start order: the router first (it stops asking the adapter), PostgreSQL last.
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        stop_service "${names[i]}"
    done
    rm -f "$RUN_DIR/sample.url"
    if [ -f "$RUN_DIR/postgres.managed" ]; then
        APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh stop || true
        rm -f "$RUN_DIR/postgres.managed"
    fi
}

cmd_status() {
    local name url found=0
    while IFS= read -r name; do
        found=1
        if is_running "$name"; then
            printf '%-15s running  PID %s' "$(label "$name")" "$(cat "$(pid_file "$name")")"
            if [ -f "$RUN_DIR/$name.health" ]; then
                url="$(cat "$RUN_DIR/$name.health")"
                printf '  %s → %s' "$url" "$(curl -sS --max-time 2 "$url" 2>&1 | head -c 200 || true)"
            fi
            printf '\n'
        else
            printf '%-15s stopped  (stale PID file)\n' "$(label "$name")"
        fi
    done < <(recorded_services)
    if is_running router && [ -f "$RUN_DIR/sample.url" ]; then
        url="$(cat "$RUN_DIR/sample.url")"
        printf '%-15s %s (Host: gw.wso2.com, no credential) → HTTP %s (401: secured)\n' "sample API" "$url" \
            "$(curl -sk --max-time 2 -o /dev/null -w '%{http_code}' -H 'Host: gw.wso2.com' "$url" 2>/dev/null || true)"
    fi
    [ "$found" -eq 1 ] || echo "nothing started by ./build-apk.sh up"
}
