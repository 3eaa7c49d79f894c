/* daemon.c: placeholder until implemented. */
