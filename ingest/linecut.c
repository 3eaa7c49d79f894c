/* linecut.c: placeholder until implemented. */
