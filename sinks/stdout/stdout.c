/* stdout.c: placeholder until implemented. */
