# logwarden.bash: bash completion for logwarden: commands, their options, files, and plugin types.
# Installed as share/bash-completion/completions/logwarden (loaded on demand by bash-completion);
# `help input|sink TYPE` asks the binary for its types, so new plugins complete without an edit.

_logwarden()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="run check replay test status explain silence help --version --help"
    if ((cword == 1)); then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi

    # Option arguments first: a file for -c, a word from a fixed list for the rest.
    case $prev in
    -c)
        COMPREPLY=($(compgen -f -X '!*.yaml' -- "$cur") $(compgen -f -X '!*.yml' -- "$cur")
            $(compgen -d -- "$cur"))
        compopt -o filenames 2>/dev/null
        return
        ;;
    --log-format)
        COMPREPLY=($(compgen -W "text json" -- "$cur"))
        return
        ;;
    --log-level)
        COMPREPLY=($(compgen -W "error warn info debug" -- "$cur"))
        return
        ;;
    --format)
        local formats="raw json logfmt syslog docker cri syslog+json syslog+logfmt"
        COMPREPLY=($(compgen -W "$formats" -- "$cur"))
        return
        ;;
    --for | --comment | --now | --input)
        return
        ;;
    esac

    local cmd=${words[1]} opts=""
    case $cmd in
    run) opts="-c --log-format --log-level --help" ;;
    check) opts="-c --help" ;;
    replay) opts="-c --format --input --notify --now --help" ;;
    status | explain) opts="-c --help" ;;
    test) opts="--help" ;;
    silence)
        if ((cword == 2)); then
            COMPREPLY=($(compgen -W "add list expire" -- "$cur"))
            return
        fi
        case ${words[2]} in
        add) opts="-c --for --comment" ;;
        list) opts="-c --all" ;;
        expire) opts="-c" ;;
        esac
        ;;
    help)
        if ((cword == 2)); then
            COMPREPLY=($(compgen -W "input sink" -- "$cur"))
        elif ((cword == 3)); then
            local types
            types=$("${words[0]}" help "${words[2]}" 2>/dev/null |
                sed -n 's/^  \([a-z0-9_-]*\)$/\1/p')
            COMPREPLY=($(compgen -W "$types" -- "$cur"))
        fi
        return
        ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    # Rule files for check and test, log files for replay.
    case $cmd in
    check | test | replay)
        COMPREPLY=($(compgen -f -- "$cur"))
        compopt -o filenames 2>/dev/null
        ;;
    esac
}
complete -F _logwarden logwarden
