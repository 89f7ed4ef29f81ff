#!/usr/bin/env python3
"""Loads every DIR/*.fatbin on GPU 0 through the CUDA driver API (cuModuleLoadFatBinary) and prints the result:
CUDA_SUCCESS when the fat binary has code the GPU can run, 209 CUDA_ERROR_NO_BINARY_FOR_GPU when it has none.
Needs only the NVIDIA driver (libcuda.so.1) and Python.  Usage: load-fatbins.py DIR"""
import ctypes
import glob
import os
import sys

cuda = ctypes.CDLL('libcuda.so.1')


def name(rc):
    s = ctypes.c_char_p()
    cuda.cuGetErrorName(rc, ctypes.byref(s))
    return s.value.decode()


def check(rc, what):
    if rc:
        sys.exit(f'{what}: {rc} {name(rc)}')


check(cuda.cuInit(0), 'cuInit')
dev = ctypes.c_int()
check(cuda.cuDeviceGet(ctypes.byref(dev), 0), 'cuDeviceGet')
major, minor = ctypes.c_int(), ctypes.c_int()
check(cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, dev), 'compute capability major')
check(cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev), 'compute capability minor')
model = ctypes.create_string_buffer(256)
cuda.cuDeviceGetName(model, 256, dev)
print(f'device 0: {model.value.decode()} compute capability {major.value}.{minor.value}')
ctx = ctypes.c_void_p()
check(cuda.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev), 'cuDevicePrimaryCtxRetain')
check(cuda.cuCtxSetCurrent(ctx), 'cuCtxSetCurrent')
for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.fatbin'))):
    data = open(path, 'rb').read()
    module = ctypes.c_void_p()
    rc = cuda.cuModuleLoadFatBinary(ctypes.byref(module), ctypes.c_char_p(data))
    print(f'cuModuleLoadFatBinary {os.path.basename(path)} ({len(data)} bytes): {rc} '
          f'{name(rc) if rc else "CUDA_SUCCESS"}')
    if rc == 0:
        cuda.cuModuleUnload(module)
