/* src_oci_layout.c: (in progress) */
