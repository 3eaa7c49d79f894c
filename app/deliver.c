/* deliver.c: placeholder until implemented. */
