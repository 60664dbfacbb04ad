# examples/: programs that use only the public runtime header (runtime/include/anpurt.h).
#   examples/chat.c -> build/bin/anpurt-chat (a streaming chat in under 100 lines;
#   tests/runtime/test_rt_example_chat.c runs it on a tiny model)
EXAMPLE_CHAT := $(BUILD)/bin/anpurt-chat

# only the public header on the include path: the example cannot use internals
$(OBJ)/examples/%.o: CPPFLAGS += -Iruntime/include

$(EXAMPLE_CHAT): $(OBJ)/examples/chat.o $(LIBRT) $(LIBACCEL) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(OBJ)/examples/chat.o $(RT_LIBS)

all: $(EXAMPLE_CHAT)
# the test runs the program
$(BUILD)/tests/test_rt_example_chat: | $(EXAMPLE_CHAT)
