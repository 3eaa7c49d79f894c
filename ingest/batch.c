/* batch.c: placeholder until implemented. */
