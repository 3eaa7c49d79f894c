/* config.c: placeholder until implemented. */
