// SPDX-License-Identifier: MIT
/*
 * ivshmem-doorbell server (QEMU docs/specs/ivshmem-spec.txt, the protocol of
 * contrib/ivshmem-server): every message is a little-endian int64, some with
 * one file descriptor (SCM_RIGHTS). On connect the server sends
 *   1. the protocol version (0), no fd;
 *   2. the client's peer id, no fd;
 *   3. -1 with the shared-memory fd;
 * then one (peer id, eventfd) message per vector for every peer, the client
 * itself included. A peer id without fd means that peer went away.
 */
#include "ivshmem_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int send_msg(int sock, int64_t value, int fd)
{
	struct msghdr msg = { 0 };
	struct iovec iov = { .iov_base = &value, .iov_len = sizeof(value) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	ssize_t n;

	/* x86-64 is little endian, as the protocol is */
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(value) ? 0 : -EIO;
}

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static int bind_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "anpu-sim: socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "anpu-sim: %s exists and is not a socket\n", path);
			close(fd);
			return -EEXIST;
		}
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			fprintf(stderr, "anpu-sim: socket %s is in use by another server\n",
				path);
			close(fd);
			return -EADDRINUSE;
		}
		/* stale socket of a server that died */
		close(fd);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 4) < 0) {
		int err = -errno;

		fprintf(stderr, "anpu-sim: cannot listen on %s: %s\n", path,
			strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int ivs_server_init(struct ivs_server *s, const char *path, int shm_fd,
		    unsigned int vectors, int verbose)
{
	int fd;

	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->client_fd = -1;
	s->shm_fd = shm_fd;
	s->vectors = vectors;
	s->verbose = verbose;
	s->next_id = 1;
	for (unsigned int i = 0; i < IVS_MAX_VECTORS; i++) {
		s->own_fd[i] = -1;
		s->peer_fd[i] = -1;
	}
	if (vectors == 0 || vectors > IVS_MAX_VECTORS)
		return -EINVAL;
	pthread_mutex_init(&s->lock, NULL);
	for (unsigned int i = 0; i < vectors; i++) {
		s->own_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (s->own_fd[i] < 0) {
			int err = -errno;

			close_fds(s->own_fd, vectors);
			return err;
		}
	}
	fd = bind_socket(path);
	if (fd < 0) {
		close_fds(s->own_fd, vectors);
		return fd;
	}
	s->listen_fd = fd;
	s->path = strdup(path);
	return 0;
}

void ivs_server_drop_client(struct ivs_server *s)
{
	if (s->client_fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	close_fds(s->peer_fd, s->vectors);
	pthread_mutex_unlock(&s->lock);
	close(s->client_fd);
	s->client_fd = -1;
	if (s->verbose)
		fprintf(stderr, "anpu-sim: guest peer %u disconnected\n", s->client_id);
}

void ivs_server_fini(struct ivs_server *s)
{
	ivs_server_drop_client(s);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	close_fds(s->own_fd, s->vectors);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
}

int ivs_server_accept(struct ivs_server *s)
{
	int fds[IVS_MAX_VECTORS];
	uint16_t id;
	int sock, err = 0;

	sock = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return errno == EINTR || errno == EAGAIN || errno == ECONNABORTED ?
		       0 : -errno;
	if (s->client_fd >= 0) {
		fprintf(stderr, "anpu-sim: refusing a second guest (peer %u is connected)\n",
			s->client_id);
		close(sock);
		return 0;
	}
	id = s->next_id++;
	if (s->next_id == 0)
		s->next_id = 1;
	for (unsigned int i = 0; i < s->vectors; i++)
		fds[i] = -1;
	for (unsigned int i = 0; i < s->vectors && !err; i++) {
		fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fds[i] < 0)
			err = -errno;
	}
	if (!err)
		err = send_msg(sock, IVS_PROTOCOL_VERSION, -1);
	if (!err)
		err = send_msg(sock, id, -1);
	if (!err)
		err = send_msg(sock, -1, s->shm_fd);
	/* the other peer (us, peer 0), then the new peer itself */
	for (unsigned int i = 0; i < s->vectors && !err; i++)
		err = send_msg(sock, IVS_SERVER_PEER_ID, s->own_fd[i]);
	for (unsigned int i = 0; i < s->vectors && !err; i++)
		err = send_msg(sock, id, fds[i]);
	if (err) {
		/* a client that hangs up at once only probed the socket */
		if (s->verbose || (err != -EPIPE && err != -ECONNRESET))
			fprintf(stderr, "anpu-sim: handshake with peer %u failed: %s\n",
				id, strerror(-err));
		close_fds(fds, s->vectors);
		close(sock);
		return 0;
	}
	pthread_mutex_lock(&s->lock);
	memcpy(s->peer_fd, fds, sizeof(fds[0]) * s->vectors);
	pthread_mutex_unlock(&s->lock);
	s->client_fd = sock;
	s->client_id = id;
	if (s->verbose)
		fprintf(stderr, "anpu-sim: guest peer %u connected (%u vectors)\n", id,
			s->vectors);
	return 1;
}

void ivs_server_notify(struct ivs_server *s, unsigned int vector)
{
	const uint64_t one = 1;

	if (vector >= s->vectors)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->peer_fd[vector] >= 0 &&
	    write(s->peer_fd[vector], &one, sizeof(one)) < 0 && errno != EAGAIN &&
	    s->verbose)
		fprintf(stderr, "anpu-sim: irq %u: %s\n", vector, strerror(errno));
	pthread_mutex_unlock(&s->lock);
}
