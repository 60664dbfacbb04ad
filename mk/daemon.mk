# anpu-sim: the ivshmem-doorbell server that puts the model behind QEMU.
ANPU_SIM   := $(BUILD)/bin/anpu-sim
DAEMON_OBJ := $(OBJ)/sim/daemon/anpu_sim_main.o $(OBJ)/sim/daemon/ivshmem_server.o

$(call program,$(ANPU_SIM),$(DAEMON_OBJ) $(LIBSIM),-lm)
.PHONY: daemon
daemon: $(ANPU_SIM)
