/* engine_push.c */
int main(void){return 0;}
