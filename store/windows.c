/* windows.c: placeholder until implemented. */
