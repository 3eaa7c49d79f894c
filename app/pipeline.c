/* pipeline.c: placeholder until implemented. */
