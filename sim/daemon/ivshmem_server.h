/* SPDX-License-Identifier: MIT */
/*
 * The server side of QEMU's ivshmem-doorbell protocol (QEMU
 * docs/specs/ivshmem-spec.txt), for one guest peer at a time.
 *
 * The server is peer 0: its own eventfds (one per vector) are what the guest
 * rings through the Doorbell register (peer 0 << 16 | vector); the guest
 * peer's eventfds are how the server raises the guest's MSI-X vectors.
 */
#ifndef IVSHMEM_SERVER_H
#define IVSHMEM_SERVER_H

#include <pthread.h>
#include <stdint.h>

#define IVS_MAX_VECTORS		64
#define IVS_SERVER_PEER_ID	0
#define IVS_PROTOCOL_VERSION	0

struct ivs_server {
	int listen_fd;
	char *path;
	int shm_fd;
	unsigned int vectors;
	int verbose;
	/* peer 0 (us): the guest's doorbells land here */
	int own_fd[IVS_MAX_VECTORS];
	/* the connected guest, or client_fd == -1 */
	int client_fd;
	uint16_t client_id;
	uint16_t next_id;
	/* guard the guest's eventfds: interrupts come from the device thread */
	pthread_mutex_t lock;
	int peer_fd[IVS_MAX_VECTORS];
};

/* Bind @path (refusing a socket another server still listens on). 0 or -errno. */
int ivs_server_init(struct ivs_server *s, const char *path, int shm_fd,
		    unsigned int vectors, int verbose);
void ivs_server_fini(struct ivs_server *s);

/*
 * Accept a connection and run the handshake. A second guest while one is
 * connected is turned away. Returns 1 when a new guest is connected, 0 when
 * the connection was refused or failed (logged), -errno on a server error.
 */
int ivs_server_accept(struct ivs_server *s);

/* The guest went away: close its connection and eventfds. */
void ivs_server_drop_client(struct ivs_server *s);

/* Raise guest vector @vector (no-op without a guest). Any thread. */
void ivs_server_notify(struct ivs_server *s, unsigned int vector);

#endif /* IVSHMEM_SERVER_H */
