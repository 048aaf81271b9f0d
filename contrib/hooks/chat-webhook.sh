#!/bin/sh
# chat-webhook.sh - a vitalsd exec hook that posts alerts to a
# Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat).
#
#   {"name": "chat", "type": "exec", "timeout": "15s",
#    "argv": ["/usr/local/share/vitals/hooks/chat-webhook.sh",
#             "https://hooks.slack.com/services/T000/B000/XXXX"]}
#
# The URL may also come from CHAT_WEBHOOK_URL. Reads the VITALS_*
# variables (the JSON event on stdin is not needed). Needs curl.
set -eu

url=${1:-${CHAT_WEBHOOK_URL:-}}
if [ -z "$url" ]; then
	echo "chat-webhook: no URL (argument or CHAT_WEBHOOK_URL)" >&2
	exit 2
fi
cat >/dev/null    # the event JSON: read it so vitalsd's write never blocks

case "${VITALS_STATE:-}" in
firing)   icon=":red_circle:" ;;
resolved) icon=":large_green_circle:" ;;
flapping) icon=":warning:" ;;
*)        icon=":grey_question:" ;;
esac
reminder=""
[ "${VITALS_REMINDER:-0}" = 1 ] && reminder=" (still)"

# JSON-escape: backslash, double quote, tab, newlines.
esc() {
	printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
	    -e 's/	/\\t/g' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'
}

text="$icon *${VITALS_STATE:-?}${reminder}* [${VITALS_SEVERITY:-}] ${VITALS_ALERT:-?}: ${VITALS_SUMMARY:-}"
payload=$(printf '{"text": "%s"}' "$(esc "$text")")

curl --silent --show-error --fail --max-time 10 \
    -H 'Content-Type: application/json' --data-binary "$payload" "$url"
echo "chat-webhook: sent ${VITALS_ALERT:-?} ${VITALS_STATE:-?}"
