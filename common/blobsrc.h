/* blobsrc.h: (in progress) */
