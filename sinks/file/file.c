/* file.c: placeholder until implemented. */
