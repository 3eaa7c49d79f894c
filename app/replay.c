/* replay.c: placeholder until implemented. */
