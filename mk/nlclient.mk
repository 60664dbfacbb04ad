# The telemetry client (tools/common/anpu_nl.c): the driver's generic netlink
# family "anpu" through libnl-genl-3 (scripts/packages.txt: libnl-genl-3-dev).
# Linked by anpu-info, anpu-top and the netlink selftest.
LIBNL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null || echo -I/usr/include/libnl3)
LIBNL_LIBS   := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null || echo -lnl-genl-3 -lnl-3)
ANPU_NL_OBJ  := $(OBJ)/tools/common/anpu_nl.o

$(ANPU_NL_OBJ): CPPFLAGS += $(LIBNL_CFLAGS)
