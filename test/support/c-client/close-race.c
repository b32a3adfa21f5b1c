/*
 * The situation of ZooKeeper's C test testHangingClient (TestClient.cc), as a program: a
 * child watch re-arms itself with a SYNCHRONOUS zoo_wget_children from the multi-threaded C
 * client's completion thread, while the main thread deletes the child (firing the watch) and
 * at once calls zookeeper_close. Prints one JSON object: how many times the watcher ran, and
 * how often zoo_wget_children returned each code (by number: 0 ZOK, -116 ZCLOSING, ...).
 *
 * Build: gcc -o close-race close-race.c -lzookeeper_mt   (Debian: libzookeeper-mt-dev)
 * Run:   close-race HOST:PORT ROUNDS
 */
#define THREADED
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

static char base[256];
/* Return codes are small negatives: index by -code. */
static int counts[256];
static int calls;

static void rearm(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
  struct String_vector children = {0, NULL};
  int zrc = zoo_wget_children(zh, base, rearm, NULL, &children);
  if (zrc == ZOK) deallocate_String_vector(&children);
  if (-zrc >= 0 && -zrc < 256) counts[-zrc]++;
  calls++;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s HOST:PORT ROUNDS\n", argv[0]);
    return 2;
  }
  int rounds = atoi(argv[2]);
  zoo_set_debug_level(0);
  for (int r = 0; r < rounds; r++) {
    char data[10] = "testall", created[512], child[600];
    struct String_vector children = {0, NULL};
    snprintf(base, sizeof base, "/close-race-%d-%d", (int)getpid(), r);
    snprintf(child, sizeof child, "%s/test1", base);
    zhandle_t *zh = zookeeper_init(argv[1], NULL, 10000, 0, NULL, 0);
    if (!zh) return 1;
    for (int i = 0; i < 500 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++) usleep(20000);
    if (zoo_state(zh) != ZOO_CONNECTED_STATE) {
      fprintf(stderr, "no session with %s within 10 s\n", argv[1]);
      return 1;
    }
    int rc = zoo_create(zh, base, data, 10, &ZOO_OPEN_ACL_UNSAFE, 0, created, sizeof created);
    if (rc == ZOK) rc = zoo_wget_children(zh, base, rearm, NULL, &children);
    if (rc == ZOK) deallocate_String_vector(&children);
    if (rc == ZOK) rc = zoo_create(zh, child, data, 10, &ZOO_OPEN_ACL_UNSAFE, 0, created, sizeof created);
    if (rc == ZOK) rc = zoo_wget_children(zh, base, rearm, NULL, &children);
    if (rc == ZOK) deallocate_String_vector(&children);
    if (rc == ZOK) rc = zoo_delete(zh, child, -1);
    if (rc != ZOK) {
      fprintf(stderr, "round %d: setup failed: %s\n", r, zerror(rc));
      return 1;
    }
    zookeeper_close(zh);
  }
  printf("{\"rounds\": %d, \"watcherCalls\": %d, \"codes\": {", rounds, calls);
  int first = 1;
  for (int i = 0; i < 256; i++) {
    if (!counts[i]) continue;
    printf("%s\"%d\": %d", first ? "" : ", ", -i, counts[i]);
    first = 0;
  }
  printf("}}\n");
  return 0;
}
