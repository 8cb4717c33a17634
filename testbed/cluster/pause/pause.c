/* The pods' sandbox ("pause") process, as Kubernetes' own: it holds the pod's namespaces
 * and does nothing else. It reaps the children it inherits and exits on SIGINT or SIGTERM
 * (containerd stops a sandbox with SIGKILL, which needs no handler). Built static by the
 * `cluster` crate (`images.rs`) into an image of this one file. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { _exit(128 + sig); }

static void reap(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    signal(SIGINT, quit);
    signal(SIGTERM, quit);
    signal(SIGCHLD, reap);
    for (;;) {
        pause();
    }
}
