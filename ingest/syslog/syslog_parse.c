/* syslog_parse.c: placeholder until implemented. */
