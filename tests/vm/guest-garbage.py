#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs inside the guest: unbinds anpu, then writes random values to every
# register of BAR2's register page and rings random doorbells through BAR0,
# as a broken or malicious driver could. anpu-sim must survive it.
import glob
import mmap
import os
import random
import struct
import time

random.seed(int(os.environ.get("ANPU_VM_SEED", "1")))
for dev in glob.glob("/sys/bus/pci/devices/*"):
    if open(dev + "/vendor").read().strip() != "0x1af4":
        continue
    if open(dev + "/device").read().strip() != "0x1110":
        continue
    bdf = os.path.basename(dev)
    if os.path.exists(dev + "/driver"):
        with open(dev + "/driver/unbind", "w") as f:
            f.write(bdf)
    fd = os.open(dev + "/resource2", os.O_RDWR | os.O_SYNC)
    regs = mmap.mmap(fd, 0x10000)
    fd0 = os.open(dev + "/resource0", os.O_RDWR | os.O_SYNC)
    bar0 = mmap.mmap(fd0, 0x100)
    for rnd in range(4):
        for off in range(0, 0x10000, 4):
            struct.pack_into("<I", regs, off, random.getrandbits(32))
        for _ in range(64):
            struct.pack_into("<I", bar0, 0x0C, random.randrange(0, 16))
        time.sleep(0.2)
    print("garbage written to", bdf)
