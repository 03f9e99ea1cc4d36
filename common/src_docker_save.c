/* src_docker_save.c: (in progress) */
