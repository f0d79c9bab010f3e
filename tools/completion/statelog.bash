# bash completion for statelog(1): commands, each command's options (read
# from its --help, so that they never drift from the program), the values
# of --durability, --status and the bench kinds, job ids for the commands
# that take a JOB (from `statelog jobs` on the log given), and paths.
# Installed as share/bash-completion/completions/statelog.

_statelog_jobs()
{
	# The job ids of the log named on the line (--log), else the default.
	local prog=$1 log=$2
	local -a args=(jobs --limit 0)
	[[ -n $log ]] && args+=(--log "$log")
	"$prog" "${args[@]}" 2>/dev/null | awk 'NR > 1 && !/^\(/ { print $1 }'
}

_statelog()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]}
	local IFS=$'\n'
	COMPREPLY=()

	if ((COMP_CWORD == 1)); then
		local cmds
		cmds=$("$prog" --help 2>/dev/null | awk '/^commands:/ { on = 1; next }
			on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
		COMPREPLY=($(compgen -W "$cmds"$'\n--help\n--version' -- "$cur"))
		return 0
	fi
	local cmd=${COMP_WORDS[1]}

	case $prev in
	--log) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
	--db | --out | --html | --from-db | --dir) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
	--from-json) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
	--durability) COMPREPLY=($(compgen -W $'always\ninterval\nnone' -- "$cur")); return 0 ;;
	--status)
		COMPREPLY=($(compgen -W $'pending\nrunning\ncompleted\nfailed\npaused\npaused_at_chain\ncancelled' -- "$cur"))
		return 0 ;;
	--at | --since | --until | --time)
		COMPREPLY=($(compgen -W $'now\n-15m\n-1h\n-1d\n-1w' -- "$cur")); return 0 ;;
	--seq | --from | --to | --sheet | --limit | --batch | --busy-timeout | --events | \
	--runs | --sync-events | --threads | --loads | --samples | --seed | --level | --jobs)
		return 0 ;;
	esac

	local sub=()
	[[ $cmd == bench ]] && ((COMP_CWORD > 2)) && sub=("${COMP_WORDS[2]}")
	if [[ $cur == -* ]]; then
		local opts
		opts=$("$prog" "$cmd" "${sub[@]}" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)
		COMPREPLY=($(compgen -W "$opts"$'\n--help' -- "$cur"))
		return 0
	fi

	case $cmd in
	bench)
		((COMP_CWORD == 2)) &&
			COMPREPLY=($(compgen -W $'log\nrebuild\nbackend\ntimetravel' -- "$cur"))
		;;
	show | history | stats | audit | timeline)
		# The first operand is the job: only one is taken.
		local i log= operands=0
		for ((i = 2; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			--log) log=${COMP_WORDS[i + 1]}; ((i++)) ;;
			--db | --at | --seq | --sheet | --limit | --from | --to | --since | --until | --html)
				((i++)) ;;
			-*) ;;
			*) ((operands++)) ;;
			esac
		done
		((operands == 0)) &&
			COMPREPLY=($(compgen -W "$(_statelog_jobs "$prog" "$log")" -- "$cur"))
		;;
	import | demo)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
	return 0
}

complete -F _statelog statelog
