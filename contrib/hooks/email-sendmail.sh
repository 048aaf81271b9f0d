#!/bin/sh
# email-sendmail.sh - a vitalsd exec hook that mails each alert through
# sendmail (any MTA that provides /usr/sbin/sendmail: postfix, exim,
# msmtp-mta, nullmailer).
#
#   {"name": "mail", "type": "exec", "timeout": "30s",
#    "argv": ["/usr/local/share/vitals/hooks/email-sendmail.sh",
#             "oncall@example.com", "vitals@example.com"]}
#
# Arguments: recipient(s) (comma separated), optional sender. The body is
# the summary and the JSON event read from stdin.
set -eu

to=${1:?usage: email-sendmail.sh RECIPIENTS [FROM]}
from=${2:-vitals@$(hostname -f 2>/dev/null || hostname)}
sendmail=${SENDMAIL:-/usr/sbin/sendmail}
event=$(cat)

# Header values must stay on one line.
oneline() { printf '%s' "$1" | tr '\r\n' '  '; }
subject=$(oneline "[vitals] ${VITALS_STATE:-?}: ${VITALS_SUMMARY:-${VITALS_ALERT:-alert}}")

{
	printf 'From: %s\n' "$from"
	printf 'To: %s\n' "$to"
	printf 'Subject: %s\n' "$subject"
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'X-Vitals-Alert: %s\n' "$(oneline "${VITALS_ALERT:-}")"
	printf 'X-Vitals-State: %s\n' "$(oneline "${VITALS_STATE:-}")"
	printf '\n'
	printf '%s\n\n' "${VITALS_SUMMARY:-}"
	printf 'alert:    %s (%s)\n' "${VITALS_ALERT:-}" "${VITALS_SEVERITY:-}"
	printf 'state:    %s\n' "${VITALS_STATE:-}"
	printf 'service:  %s\n' "${VITALS_SERVICE:-}"
	[ -n "${VITALS_CHECK:-}" ] && printf 'check:    %s on %s\n' \
	    "$VITALS_CHECK" "${VITALS_INSTANCE:-}"
	[ -n "${VITALS_METRIC:-}" ] && printf 'metric:   %s %s = %s (%s %s)\n' \
	    "$VITALS_METRIC" "${VITALS_STAT:-}" "${VITALS_VALUE:-no data}" \
	    "${VITALS_OP:-}" "${VITALS_THRESHOLD:-}"
	printf '\nevent:\n%s\n' "$event"
} | "$sendmail" -t -i -f "$from"
echo "email-sendmail: mailed ${VITALS_ALERT:-?} ${VITALS_STATE:-?} to $to"
