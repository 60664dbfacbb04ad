# examples/: programs that use only a public header (libaccel/include/accel.h,
# runtime/include/anpurt.h).
#   examples/accel_example.c -> build/bin/accel-example (mk/libaccel.mk)
#   examples/chat.c -> build/bin/anpurt-chat (a streaming chat in under 100 lines;
#   tests/runtime/test_rt_example_chat.c runs it on a tiny model)
EXAMPLE_CHAT := $(BUILD)/bin/anpurt-chat

# only the public headers on the include path: the examples cannot use internals (the
# install test builds them against the installed headers with pkg-config alone)
$(OBJ)/examples/%.o: CPPFLAGS += -Iruntime/include -Ilibaccel/include

# (the libraries by path: mk/libaccel.mk and mk/runtime.mk, which name them, come later)
$(EXAMPLE_CHAT): $(OBJ)/examples/chat.o $(BUILD)/lib/libanpurt.a $(BUILD)/lib/libaccel.a $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(OBJ)/examples/chat.o $(RT_LIBS)

all: $(EXAMPLE_CHAT)
# the test runs the program
$(BUILD)/tests/test_rt_example_chat: | $(EXAMPLE_CHAT)
