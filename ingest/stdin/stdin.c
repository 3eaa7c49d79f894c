/* stdin.c: placeholder until implemented. */
