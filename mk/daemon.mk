# anpu-sim: the ivshmem-doorbell server that puts the model behind QEMU.
# Until libanpusim defines anpusim_create(), sim/daemon/stub_device.c stands
# in for the device (identity, control commands, rings that complete at once).
ANPU_SIM      := $(BUILD)/bin/anpu-sim
DAEMON_OBJ    := $(OBJ)/sim/daemon/anpu_sim_main.o $(OBJ)/sim/daemon/ivshmem_server.o
DAEMON_STUB   := $(OBJ)/sim/daemon/stub_device.o

$(ANPU_SIM): $(DAEMON_OBJ) $(DAEMON_STUB) $(LIBSIM)
	@mkdir -p $(@D)
	@if nm $(LIBSIM) 2>/dev/null | grep -q ' T anpusim_create$$'; then \
		echo "  LD      $@"; \
		$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(LIBSIM) -lm; \
	else \
		echo "  LD      $@ (libanpusim has no device yet: stub device)"; \
		$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(DAEMON_STUB) $(LIBSIM) -lm; \
	fi

all: $(ANPU_SIM)
.PHONY: daemon
daemon: $(ANPU_SIM)
