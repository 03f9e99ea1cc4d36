/* test_manifest.c: (in progress) */
