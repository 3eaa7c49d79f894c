/* input.c: placeholder until implemented. */
