/* The pod sandbox process: holds the pod's namespaces, reaps zombies, exits on
 * SIGINT/SIGTERM. Built with `gcc -static` by scripts/cluster/up because no
 * image (registry.k8s.io/pause included) can be pulled on these machines. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void terminate(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = terminate;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  action.sa_handler = reap;
  action.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &action, NULL);
  for (;;) pause();
}
