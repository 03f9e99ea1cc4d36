/* src_containerd.c: (in progress) */
