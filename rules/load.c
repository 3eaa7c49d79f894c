/* load.c: placeholder until implemented. */
