/* blobsrc.c: (in progress) */
