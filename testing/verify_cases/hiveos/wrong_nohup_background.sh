mkdir -p ~/Downloads/ethminer
cd ~/Downloads/ethminer

cat > h-manifest.conf << 'EOF'
# HiveOS custom miner manifest
CUSTOM_NAME="ethminer"
CUSTOM_VERSION="0.19.0"
CUSTOM_LOG_BASENAME="/var/log/miner/custom/ethminer"
EOF

cat > h-config.sh << 'EOF'
#!/usr/bin/env bash
# Turns the flight-sheet values into ethminer settings; sourced by h-run.sh.

[[ -z $CUSTOM_URL ]] && echo "h-config: CUSTOM_URL is empty, set the pool URL in the flight sheet" >&2
[[ -z $CUSTOM_TEMPLATE ]] && echo "h-config: CUSTOM_TEMPLATE is empty, set wallet.worker in the flight sheet" >&2

# CUSTOM_URL may hold several pools (space or newline separated): one -P each.
ETHMINER_POOLS=""
for url in $CUSTOM_URL; do
  scheme="stratum+tcp"
  hostport="$url"
  if [[ $url == *"://"* ]]; then
    scheme="${url%%://*}"
    hostport="${url#*://}"
  fi
  ETHMINER_POOLS+=" -P ${scheme}://${CUSTOM_TEMPLATE}${CUSTOM_PASS:+:${CUSTOM_PASS}}@${hostport}"
done

export ETHMINER_POOLS
export ETHMINER_API_PORT=3333
export ETHMINER_EXTRA_ARGS="$CUSTOM_USER_CONFIG"
EOF

cat > h-run.sh << 'EOF'
#!/usr/bin/env bash
# Started by HiveOS; exec replaces this shell, so HiveOS supervises ethminer itself.
cd "$(dirname "$0")" || exit 1

. ./h-manifest.conf
. ./h-config.sh

# HiveOS (or you) may restrict the GPUs; keep the restriction for ethminer.
if [[ -n $CUDA_VISIBLE_DEVICES ]]; then
  export CUDA_VISIBLE_DEVICES
  echo "ethminer limited to CUDA devices $CUDA_VISIBLE_DEVICES"
fi

mkdir -p "$(dirname "$CUSTOM_LOG_BASENAME")"

# shellcheck disable=SC2086  # pool and extra arguments are meant to split into words
nohup ./ethminer -U $ETHMINER_POOLS --api-port "$ETHMINER_API_PORT" $ETHMINER_EXTRA_ARGS > ethminer.log 2>&1 &
EOF

cat > h-stats.sh << 'EOF'
#!/usr/bin/env bash
# Prints one line of JSON for the HiveOS agent from ethminer's API (JSON-RPC over TCP, port 3333).
API_HOST=127.0.0.1
API_PORT=3333
REQUEST='{"id":0,"jsonrpc":"2.0","method":"miner_getstat1"}'

response=$(timeout 5 bash -c "exec 3<>/dev/tcp/$API_HOST/$API_PORT && echo '$REQUEST' >&3 && head -n 1 <&3" 2>/dev/null)

if [[ -z $response ]] || ! echo "$response" | jq -e '.result' > /dev/null 2>&1; then
  echo '{"hs":[],"temp":[],"fan":[],"uptime":0,"ver":""}'
  exit 0
fi

# result: [0] version, [1] minutes running, [2] "KH/s;accepted;rejected",
# [3] per-GPU KH/s "a;b;..", [6] "temp;fan" pairs per GPU
echo "$response" | jq -c '
  .result as $r
  | ($r[6] | split(";") | map(tonumber? // 0)) as $tf
  | {
      hs: ($r[3] | split(";") | map(tonumber? // 0)),
      hs_units: "khs",
      temp: [range(0; $tf | length; 2) as $i | $tf[$i]],
      fan: [range(1; $tf | length; 2) as $i | $tf[$i]],
      uptime: (($r[1] | tonumber? // 0) * 60),
      ver: ($r[0] | sub("^ethminer-"; "")),
      ar: ($r[2] | split(";") | .[1:3] | map(tonumber? // 0))
    }'
EOF

chmod +x h-config.sh h-run.sh h-stats.sh
