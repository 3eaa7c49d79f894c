/* syslog_input.c: placeholder until implemented. */
